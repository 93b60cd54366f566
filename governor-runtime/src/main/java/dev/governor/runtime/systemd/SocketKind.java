package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;

/**
 * What a descriptor is, read with {@code fstat} and {@code getsockopt}.
 *
 * @param socket    whether it is a socket at all
 * @param domain    {@code SO_DOMAIN} (AF_INET, AF_INET6, AF_UNIX, …), -1 if not a socket
 * @param type      {@code SO_TYPE} (SOCK_STREAM, SOCK_DGRAM, …), -1 if not a socket
 * @param listening {@code SO_ACCEPTCONN}
 */
record SocketKind(boolean socket, int domain, int type, boolean listening) {

    static SocketKind of(int fd) throws IOException {
        if (!Libc.isSocket(fd)) {
            return new SocketKind(false, -1, -1, false);
        }
        return new SocketKind(
                true,
                Libc.socketOption(fd, Libc.SO_DOMAIN),
                Libc.socketOption(fd, Libc.SO_TYPE),
                Libc.socketOption(fd, Libc.SO_ACCEPTCONN) != 0);
    }

    /** The JDK's family for {@link #domain}, null for one the JDK cannot use. */
    ProtocolFamily family() {
        return switch (domain) {
            case Libc.AF_INET -> StandardProtocolFamily.INET;
            case Libc.AF_INET6 -> StandardProtocolFamily.INET6;
            case Libc.AF_UNIX -> StandardProtocolFamily.UNIX;
            default -> null;
        };
    }

    boolean listeningStream() {
        return socket && type == Libc.SOCK_STREAM && listening && family() != null;
    }

    /** The kind a user asks for by name: {@code tcp}, {@code udp} or {@code unix}. */
    String kindName() {
        if (!socket) {
            return "not a socket";
        }
        return switch (domain) {
            case Libc.AF_INET, Libc.AF_INET6 ->
                type == Libc.SOCK_STREAM ? "tcp" : type == Libc.SOCK_DGRAM ? "udp" : "inet type " + type;
            case Libc.AF_UNIX -> type == Libc.SOCK_STREAM ? "unix" : "unix type " + type;
            default -> "domain " + domain + " type " + type;
        };
    }

    @Override
    public String toString() {
        if (!socket) {
            return "not a socket";
        }
        return "a " + kindName() + " socket (" + (family() == null ? "domain " + domain : family())
                + (type == Libc.SOCK_STREAM ? (listening ? ", listening" : ", not listening") : "") + ")";
    }
}
