package dev.governor.runtime.listen;

import dev.governor.runtime.internal.os.Libc;
import dev.governor.runtime.systemd.FdChannels;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.NetworkChannel;

/**
 * Raw descriptors of sockets, through the runtime's one native binding ({@code internal.os.Libc}): a {@code dup}
 * that is close-on-exec from birth, and {@code close}. Every call is short and never blocks, so it
 * may run on a virtual thread.
 */
public final class Fds {
    private Fds() {}

    /** A new descriptor for the same open socket as {@code fd}, close-on-exec, numbered 3 or above. */
    public static int dup(int fd) throws IOException {
        return Libc.dupCloseOnExec(fd);
    }

    /** Closes {@code fd}, ignoring errors (for cleanup paths). */
    public static void close(int fd) {
        Libc.close(fd);
    }

    /** The descriptor of a JDK socket channel; see {@link FdChannels#fd(Channel)}. */
    public static int fd(Channel channel) {
        return FdChannels.fd(channel);
    }

    /** A new channel of the same kind over a dup of {@code channel}'s socket; closing it leaves {@code channel} open. */
    public static NetworkChannel dup(NetworkChannel channel) throws IOException {
        return ListenerKind.of(channel).wrap(dup(fd(channel)));
    }
}
