package dev.governor.examples;

import dev.governor.runtime.systemd.SdNotify;
import java.time.Duration;

/** docs/systemd.md, talking to systemd directly. */
final class SystemdNotify {
    static void talk(int fileChannelFd) {
        SdNotify systemd = SdNotify.fromEnvironment(); // disabled (every call a no-op) without NOTIFY_SOCKET
        systemd.status("replaying journal, 40%");
        systemd.extendTimeout(Duration.ofSeconds(30));
        systemd.fdStore("cache", fileChannelFd); // FDSTORE=1 + FDNAME=cache + SCM_RIGHTS
        systemd.fdStoreRemove("cache"); // FDSTOREREMOVE=1
    }
}
