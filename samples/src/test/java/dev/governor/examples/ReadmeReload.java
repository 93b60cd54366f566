package dev.governor.examples;

import dev.governor.Governor;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** README.md, "Zero-downtime reload": a greeter rebuilt from its file on every reload. */
final class ReadmeReload {
    static void install(Governor gov, Path config, InetSocketAddress address) {
        gov.addReloadable("greeter", (generation, number) -> {
            String greeting = Files.readString(config).strip(); // read now: a throw refuses this generation
            if (greeting.isEmpty()) {
                throw new IllegalArgumentException(config + ": the greeting is empty");
            }
            generation
                    .add("tcp", ctx -> {
                        try (ServerSocketChannel listener =
                                gov.listeners().tcp("greeter", address)) { // a new channel, same socket
                            ctx.markReady();
                            while (!ctx.stopping()) {
                                try (SocketChannel client = listener.accept()) {
                                    client.write(ByteBuffer.wrap(
                                            (number + ": " + greeting + "\n").getBytes(StandardCharsets.UTF_8)));
                                }
                            }
                        }
                    })
                    .readyOnStart(false)
                    .drainTimeout(Duration.ofSeconds(1)); // then the interrupt ends accept()
        });
    }
}
