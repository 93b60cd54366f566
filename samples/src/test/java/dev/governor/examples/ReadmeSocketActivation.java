package dev.governor.examples;

import dev.governor.runtime.systemd.SocketActivation;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/** README.md, "systemd". */
final class ReadmeSocketActivation {
    static ServerSocketChannel listen() throws java.io.IOException {
        ServerSocketChannel echo = SocketActivation.fromEnvironment().tcp("echo", new InetSocketAddress(7007));
        return echo;
    }
}
