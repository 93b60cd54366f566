package dev.governor.runtime.handover;

import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;

/** The kinds of socket a governor hands over, by the names the protocol uses. */
public enum Kind {
    /** A listening TCP socket (IPv4 or IPv6). */
    TCP("tcp"),
    /** A listening unix stream socket. */
    UNIX("unix"),
    /** A bound UDP socket (IPv4 or IPv6). */
    UDP("udp"),
    /**
     * Any other descriptor: the sender's stdout and stderr (a log file, the journal's stream, a
     * terminal), which the new process takes over once it serves. Its address is what
     * {@code /proc/self/fd/N} links to ({@code /var/log/app.log}, {@code socket:[4711]}), the same
     * in both processes for the same open file.
     */
    FILE("file");

    private final String wireName;

    Kind(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** The kind named {@code name} on the wire. */
    public static Kind of(String name) {
        for (Kind k : values()) {
            if (k.wireName.equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException(
                "socket kind \"" + name + "\" is unknown; the kinds are tcp, unix, udp and file");
    }

    /**
     * What {@code fd} really is, as the kernel says ({@code getsockopt} of SO_DOMAIN, SO_TYPE and
     * SO_ACCEPTCONN): one of the kinds, or a description of what else it is.
     */
    static String actual(int fd) throws IOException {
        return actualSocket(fd);
    }

    /** What {@code /proc/self/fd/N} links to: the address of a {@link #FILE}. */
    static String link(int fd) throws IOException {
        return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd))
                .toString();
    }

    private static String actualSocket(int fd) throws IOException {
        int domain;
        try {
            domain = Libc.socketOption(fd, Libc.SO_DOMAIN);
        } catch (ErrnoException e) {
            if (e.errno() == Libc.ENOTSOCK) {
                return "not a socket";
            }
            throw e;
        }
        int type = Libc.socketOption(fd, Libc.SO_TYPE);
        boolean listening = type == Libc.SOCK_STREAM && Libc.socketOption(fd, Libc.SO_ACCEPTCONN) != 0;
        boolean inet = domain == Libc.AF_INET || domain == Libc.AF_INET6;
        if (inet && type == Libc.SOCK_STREAM) {
            return listening ? "tcp" : "a tcp socket that does not listen";
        }
        if (inet && type == Libc.SOCK_DGRAM) {
            return "udp";
        }
        if (domain == Libc.AF_UNIX && type == Libc.SOCK_STREAM) {
            return listening ? "unix" : "a unix socket that does not listen";
        }
        return "a socket of domain " + domain + ", type " + type;
    }

    @Override
    public String toString() {
        return wireName;
    }
}
