package dev.governor.runtime.listen;

import dev.governor.runtime.systemd.FdChannels;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.NetworkChannel;
import java.util.Locale;

/** The kinds of socket a governor owns: listening TCP, listening unix stream, and UDP. */
public enum ListenerKind {
    TCP,
    UNIX,
    UDP;

    /** {@code "tcp"}, {@code "unix"} or {@code "udp"}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * A JDK channel of this kind over {@code fd}, which it owns from now on (closing the channel
     * closes {@code fd}; on failure {@code fd} is closed). {@code O_NONBLOCK} is left as it is, so
     * {@code fd} may be a dup of a socket other channels use. Checks that {@code fd} is of this kind.
     *
     * @throws IOException if {@code fd} is not a socket of this kind
     * @throws IllegalStateException without the JVM flag {@value FdChannels#REQUIRED_FLAG}
     */
    public NetworkChannel wrap(int fd) throws IOException {
        NetworkChannel channel;
        try {
            channel = this == UDP ? FdChannels.sharedDatagram(fd) : FdChannels.sharedServerSocket(fd);
        } catch (IOException | RuntimeException e) {
            Fds.close(fd);
            throw e;
        }
        try {
            SocketAddress local = channel.getLocalAddress();
            boolean unixAddress = local instanceof UnixDomainSocketAddress;
            if ((this == UNIX) != unixAddress || (this != UNIX && !(local instanceof InetSocketAddress))) {
                throw new IOException("fd " + fd + " is a socket at " + local + ", not a " + label() + " socket");
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The kind of a channel the JDK made or {@link #wrap} made. */
    static ListenerKind of(NetworkChannel channel) throws IOException {
        if (channel instanceof java.nio.channels.DatagramChannel) {
            return UDP;
        }
        return channel.getLocalAddress() instanceof UnixDomainSocketAddress ? UNIX : TCP;
    }
}
