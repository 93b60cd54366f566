package dev.governor;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.Set;

/**
 * The sockets a governor owns for the life of the process, by name ({@code "http"}).
 *
 * <p><b>Where a socket comes from.</b> The first call for a name settles its socket, looked for in
 * this order: handed over by a previous process (an upgrade), passed by systemd under that name
 * ({@code LISTEN_FDNAMES}: a {@code .socket} unit, or the fd store after a restart), else bound
 * fresh at the address given (and, under systemd, pushed to its fd store under the name).
 *
 * <p><b>A new channel each time.</b> Every call returns a NEW channel over the SAME socket (a
 * {@code dup} of its descriptor). A service may close its channel, or be interrupted while blocked
 * in {@code accept()} (which closes the channel on a virtual thread): the socket stays open, pending
 * connections wait in the kernel's backlog, and the next generation of the service, or its next
 * run, accepts them. Two generations may accept on the same socket at once.
 *
 * <p><b>Errors.</b> A later call for a name with another kind or address than its first throws an
 * {@link IllegalArgumentException} naming both; a socket that cannot be bound throws an
 * {@link IOException} naming the address. All methods are thread-safe.
 */
public interface Listeners {
    /** A listening TCP socket named {@code name}, at {@code address} unless inherited (port 0: any free port). */
    ServerSocketChannel tcp(String name, InetSocketAddress address) throws IOException;

    /** A listening unix stream socket named {@code name}, at {@code path} unless inherited (a stale socket file there is replaced). */
    ServerSocketChannel unix(String name, Path path) throws IOException;

    /** A UDP socket named {@code name}, bound to {@code address} unless inherited. */
    DatagramChannel udp(String name, InetSocketAddress address) throws IOException;

    /** The names settled so far, in the order they were first asked for. */
    Set<String> names();
}
