package dev.governor.samples;

import dev.governor.Governor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The reload part of the sample daemon: a reloadable node {@code hello} whose generation is one
 * {@link HelloHttpService} built from the config file, on the governor-owned listener {@code hello}.
 * Edit the file and send SIGHUP (or {@code governorctl reload}): the next generation starts beside
 * the current one and takes over without a failed request; a broken file is refused, and the
 * current generation keeps answering.
 */
final class HelloSample {
    private HelloSample() {}

    static void install(Governor gov, Path config, InetSocketAddress address) {
        int port;
        try (ServerSocketChannel first =
                gov.listeners().tcp("hello", address)) { // settled now, for the life of the process
            port = ((InetSocketAddress) first.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException("hello listener at " + address + ": " + e.getMessage(), e);
        }
        gov.addReloadable("hello", (generation, number) -> {
            HelloConfig cfg = HelloConfig.read(config); // a broken file throws: this generation is refused
            generation
                    .add("http", new HelloHttpService(() -> gov.listeners().tcp("hello", address), cfg, number))
                    .readyOnStart(false)
                    .drainTimeout(Duration.ofSeconds(10))
                    .shutdownTimeout(Duration.ofSeconds(5));
        });
        System.out.println("hello: http://" + address.getHostString() + ":" + port + "/hello (config " + config
                + "; edit it, then kill -HUP " + ProcessHandle.current().pid() + ")");
    }
}
