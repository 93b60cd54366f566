package dev.governor.examples;

import dev.governor.runtime.systemd.SocketActivation;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;

/** docs/systemd.md, "Listeners by name". */
final class SystemdListeners {
    static void listen() throws java.io.IOException {
        // inherited from systemd under the name "echo" (a .socket unit's FileDescriptorName=, --fdname=,
        // or the fd store), else bound afresh at the address given
        ServerSocketChannel echo = SocketActivation.fromEnvironment().tcp("echo", new InetSocketAddress(7007));
        ServerSocket socket = echo.socket(); // blocking accept() on a virtual thread is fine

        DatagramChannel dns = SocketActivation.fromEnvironment().udp("dns", new InetSocketAddress(5353));
        ServerSocketChannel ctl = SocketActivation.fromEnvironment().unix("ctl", Path.of("/run/app/ctl.sock"));
        ServerSocketChannel only =
                SocketActivation.fromEnvironment().tcp("admin"); // inherit-only: IOException if absent
    }
}
