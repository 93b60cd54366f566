package dev.governor.runtime.internal.os;

import dev.governor.runtime.systemd.SdNotify;

/** Run in a JVM with {@code -Ddev.governor.jni=false}: whether the library is in use, and a send to {@code args[0]}. */
public final class JniOffMain {
    private JniOffMain() {}

    public static void main(String[] args) {
        System.out.println("AVAILABLE: " + LibcJni.available());
        System.out.println("BECAUSE: " + LibcJni.unavailableBecause());
        System.out.println("SENT: " + SdNotify.to(args[0]).ready("through FFM"));
    }
}
