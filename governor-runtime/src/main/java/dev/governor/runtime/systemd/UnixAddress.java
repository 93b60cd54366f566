package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.Libc;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A unix socket address as {@code NOTIFY_SOCKET} spells it: an absolute path ({@code /run/systemd/notify})
 * or an abstract name ({@code @name}, a leading NUL on the wire).
 *
 * @param spelling the address as written in the environment
 */
record UnixAddress(String spelling) {
    /** Room in {@code sockaddr_un.sun_path} for the path bytes, the trailing NUL excluded. */
    static final int MAX_PATH_BYTES = Libc.SUN_PATH_MAX - 1;

    UnixAddress {
        Objects.requireNonNull(spelling, "spelling");
        if (spelling.isEmpty() || (spelling.charAt(0) != '/' && spelling.charAt(0) != '@')) {
            throw new IllegalArgumentException("unix socket address \"" + spelling
                    + "\" must be an absolute path or an abstract name starting with '@'");
        }
        int bytes = name(spelling).length;
        if (bytes > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("unix socket address \"" + spelling + "\" is " + bytes
                    + " bytes long, more than the " + MAX_PATH_BYTES + " a unix socket address can hold");
        }
        if (spelling.length() == 1) {
            throw new IllegalArgumentException("unix socket address \"" + spelling + "\" names nothing");
        }
    }

    boolean isAbstract() {
        return spelling.charAt(0) == '@';
    }

    /** The bytes of sun_path that matter: the path, or the abstract name without its '@'. */
    private static byte[] name(String spelling) {
        String n = spelling.charAt(0) == '@' ? spelling.substring(1) : spelling;
        return n.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code struct sockaddr_un}, exactly as long as it must be (Linux, little or big endian). */
    byte[] sockaddr() {
        byte[] name = name(spelling);
        // an abstract name is a leading NUL then the name, with no terminator; a path ends with NUL
        byte[] addr = new byte[2 + 1 + name.length];
        short family = Libc.AF_UNIX;
        if (java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN) {
            addr[0] = (byte) family;
        } else {
            addr[1] = (byte) family;
        }
        if (isAbstract()) {
            System.arraycopy(name, 0, addr, 3, name.length);
        } else {
            System.arraycopy(name, 0, addr, 2, name.length);
        }
        return addr;
    }

    @Override
    public String toString() {
        return spelling;
    }
}
