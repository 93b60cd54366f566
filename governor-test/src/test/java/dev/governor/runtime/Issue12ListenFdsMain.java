package dev.governor.runtime;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.runtime.metrics.GovernorEndpoint;
import dev.governor.runtime.systemd.SocketActivation;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/** For Issue12ListenFdsTest: a metrics endpoint bound first, then an "echo" listener asked of socket activation. */
public final class Issue12ListenFdsMain {
    private Issue12ListenFdsMain() {}

    public static void main(String[] args) throws Exception {
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        GovernorEndpoint metrics =
                GovernorEndpoint.builder(gov).port(0).jvmMetrics(false).build();
        SocketActivation activation = SocketActivation.fromEnvironment();
        try (ServerSocketChannel echo = activation.tcp("echo", new InetSocketAddress("127.0.0.1", 0))) {
            System.out.println("metrics-port=" + metrics.port() + " echo-port="
                    + ((InetSocketAddress) echo.getLocalAddress()).getPort() + " inherited="
                    + activation.inherited().size() + " problems="
                    + activation.problems().size());
        }
        System.exit(0);
    }
}
