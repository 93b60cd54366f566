package dev.governor.runtime.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Which descriptors {@code LISTEN_FDS} may name were open sockets when the process began to use
 * the governor, before any listener of the governor bound: the sockets systemd passed are there
 * already, while a socket this JVM opens later (the metrics endpoint's, say) is not, and is never
 * taken for an inherited one, whatever {@code LISTEN_FDS} claims. Taken once, at the first
 * {@code Governor.create()} (or the first look at the environment, if that comes first). Each
 * socket is remembered by its inode, so a descriptor number closed and reused meanwhile does not
 * pass either.
 */
public final class ListenFdsSnapshot {
    /** The most descriptors {@code LISTEN_FDS} is believed to pass; more is a broken environment. */
    static final int MAX_FDS = 4096;

    private static volatile Map<Integer, String> taken;

    private ListenFdsSnapshot() {}

    /** Takes the snapshot if it was not taken yet; cheap when {@code LISTEN_FDS} is unset. Never throws. */
    public static void take() {
        if (taken == null) {
            synchronized (ListenFdsSnapshot.class) {
                if (taken == null) {
                    taken = read(System.getenv("LISTEN_FDS"), System.getenv("LISTEN_PID"));
                }
            }
        }
    }

    /** The socket inode ({@code socket:[N]}) of each open socket among the announced descriptors. */
    static Map<Integer, String> sockets() {
        take();
        return taken;
    }

    private static Map<Integer, String> read(String fdsVar, String pidVar) {
        Map<Integer, String> sockets = new HashMap<>();
        if (fdsVar == null
                || pidVar == null
                || !pidVar.strip().equals(Long.toString(ProcessHandle.current().pid()))) {
            return sockets;
        }
        int n;
        try {
            n = Math.min(Integer.parseInt(fdsVar.strip()), MAX_FDS);
        } catch (NumberFormatException e) {
            return sockets;
        }
        for (int i = 0; i < n; i++) {
            int fd = SocketActivation.FIRST_FD + i;
            String inode = inode(fd);
            if (inode != null) {
                sockets.put(fd, inode);
            }
        }
        return sockets;
    }

    /** {@code socket:[N]} for an open socket, else null. */
    static String inode(int fd) {
        try {
            String target =
                    Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("socket:") ? target : null;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }
}
