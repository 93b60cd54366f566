package dev.governor.runtime.daemon;

import jnr.constants.platform.Errno;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** The native POSIX calls of this package, loaded on first use. Calls block a carrier: keep them short. */
final class Posix {
    private Posix() {}

    private static final class Holder {
        static final POSIX POSIX = POSIXFactory.getNativePOSIX();
    }

    static POSIX get() {
        POSIX posix = Holder.POSIX;
        if (!posix.isNative()) {
            throw new IllegalStateException("native POSIX calls are unavailable (jnr-posix fell back to Java);"
                    + " run the JVM with --enable-native-access=ALL-UNNAMED");
        }
        return posix;
    }

    /** Throws with the errno text when a native call returned -1. */
    static int check(int result, String call) {
        if (result == -1) {
            int errno = get().errno();
            Errno e = Errno.valueOf(errno);
            throw new IllegalStateException(call + " failed: " + (e == null ? "errno " + errno : e.name() + " (" + e.description() + ")"));
        }
        return result;
    }

    /** A uid as {@code 65534 (nobody)}, or just the number when it has no name. */
    static String describeUid(long uid) {
        try {
            var pw = get().getpwuid((int) uid);
            return pw == null ? Long.toString(uid) : uid + " (" + pw.getLoginName() + ")";
        } catch (RuntimeException e) {
            return Long.toString(uid);
        }
    }
}
