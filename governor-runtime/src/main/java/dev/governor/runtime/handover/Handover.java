package dev.governor.runtime.handover;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Constants of the fd-handover protocol and the peer check both ends make.
 *
 * <p>A unix stream socket (mode 0600) carries a process's sockets to another: every descriptor
 * with its name, kind, address and source, as SCM_RIGHTS ancillary data beside a small versioned
 * JSON header ({@link HandoverSender} shows the conversation). Both ends accept only a peer of the
 * same uid, or root, as the kernel reports it ({@code SO_PEERCRED}).
 */
public final class Handover {
    /** Environment variable naming the socket a starting governor fetches its listeners from. */
    public static final String ENV = "GOVERNOR_HANDOVER";
    /** The protocol's name in every header. */
    public static final String PROTOCOL = "governor-handover";
    /** The protocol version this code speaks. */
    public static final int VERSION = 1;
    /** The receiver's first line, followed by a space and its version. */
    public static final String HELLO = "handover";

    private Handover() {}

    /**
     * Refuses a peer of another uid than this process's (root is always allowed), by the kernel's
     * {@code SO_PEERCRED}, read through the JDK's {@link ExtendedSocketOptions}.
     */
    static void checkPeer(SocketChannel ch, String what) throws IOException {
        UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        UserPrincipal own = Files.getOwner(Path.of("/proc/self"));
        String name = peer.user().getName();
        if (!peer.user().equals(own) && !name.equals(own.getName()) && !name.equals("root") && !name.equals("0")) {
            int[] cred = Libc.peerCredentials(new Wire(ch).fd());
            throw new HandoverException("permission denied: " + what + " is uid " + cred[1] + " (" + name + ", pid "
                    + cred[0]
                    + "); only " + (own.getName().equals("root") ? "root" : "uid " + own.getName() + " and root")
                    + " may take part in a handover with this process");
        }
    }

    /** The peer's pid, as the kernel reports it. */
    static long peerPid(Wire wire) throws IOException {
        return Libc.peerCredentials(wire.fd())[0];
    }

    /** Makes {@code target} a copy of {@code fd} ({@code dup2}): how a new process adopts the old one's stdout and stderr. */
    public static void redirect(int fd, int target) throws IOException {
        Libc.dup2(fd, target);
    }

    /** Closes a descriptor received in a handover and not used. */
    public static void close(int fd) {
        Libc.close(fd);
    }
}
