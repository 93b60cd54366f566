package dev.governor.runtime.systemd;

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
        if (!Posix.isSocket(fd)) {
            return new SocketKind(false, -1, -1, false);
        }
        return new SocketKind(true, Posix.socketOption(fd, Posix.SO_DOMAIN), Posix.socketOption(fd, Posix.SO_TYPE),
                Posix.socketOption(fd, Posix.SO_ACCEPTCONN) != 0);
    }

    /** The JDK's family for {@link #domain}, null for one the JDK cannot use. */
    ProtocolFamily family() {
        return switch (domain) {
            case Posix.AF_INET -> StandardProtocolFamily.INET;
            case Posix.AF_INET6 -> StandardProtocolFamily.INET6;
            case Posix.AF_UNIX -> StandardProtocolFamily.UNIX;
            default -> null;
        };
    }

    boolean listeningStream() {
        return socket && type == Posix.SOCK_STREAM && listening && family() != null;
    }

    /** The kind a user asks for by name: {@code tcp}, {@code udp} or {@code unix}. */
    String kindName() {
        if (!socket) {
            return "not a socket";
        }
        return switch (domain) {
            case Posix.AF_INET, Posix.AF_INET6 -> type == Posix.SOCK_STREAM ? "tcp" : type == Posix.SOCK_DGRAM ? "udp" : "inet type " + type;
            case Posix.AF_UNIX -> type == Posix.SOCK_STREAM ? "unix" : "unix type " + type;
            default -> "domain " + domain + " type " + type;
        };
    }

    @Override
    public String toString() {
        if (!socket) {
            return "not a socket";
        }
        return "a " + kindName() + " socket (" + (family() == null ? "domain " + domain : family())
                + (type == Posix.SOCK_STREAM ? (listening ? ", listening" : ", not listening") : "") + ")";
    }
}
