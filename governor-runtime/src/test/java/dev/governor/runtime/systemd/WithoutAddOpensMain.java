package dev.governor.runtime.systemd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;

/** Run in a JVM without --add-opens: what socket activation says and still does. */
public final class WithoutAddOpensMain {
    private WithoutAddOpensMain() {}

    public static void main(String[] args) throws Exception {
        try {
            FdChannels.serverSocket(0);
            System.out.println("WRAPPED: unexpected");
        } catch (IllegalStateException e) {
            System.out.println("ERROR: " + e.getMessage());
        }
        SocketActivation sa = SocketActivation.parse(
                Map.of(), ProcessHandle.current().pid(), SocketActivation.FIRST_FD, v -> {}, SdNotify.disabled());
        try (ServerSocketChannel ch = sa.tcp("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            System.out.println("BOUND: " + ch.getLocalAddress());
        }
    }
}
