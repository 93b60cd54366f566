package dev.governor.samples;

import dev.governor.runtime.handover.HandoverReceiver;
import dev.governor.runtime.handover.Kind;
import dev.governor.runtime.systemd.FdChannels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The receiving end of a handover in its own process: one round per socket path in args, each
 * fetching every socket, saying ready, closing all and printing its descriptor count; the last
 * round first accepts one connection on its last socket.
 */
public final class HandoverPeer {
    private HandoverPeer() {}

    public static void main(String[] args) throws Exception {
        for (int round = 1; round <= args.length; round++) {
            String r = "round " + round + ": ";
            HandoverReceiver received;
            try {
                received = HandoverReceiver.fetch(Path.of(args[round - 1]), Duration.ofSeconds(60));
            } catch (Exception e) {
                System.out.println(r + "refused: " + e.getMessage());
                continue;
            }
            List<ServerSocketChannel> channels = new ArrayList<>();
            for (HandoverReceiver.Socket s : received.sockets()) {
                if (s.entry().kind() != Kind.TCP) {
                    throw new IllegalStateException("expected tcp, got " + s.entry());
                }
                channels.add(FdChannels.sharedServerSocket(s.fd()));
            }
            System.out.println(r + "received " + channels.size() + " sockets from pid " + received.senderPid()
                    + ", last " + received.sockets().getLast().entry());
            if (round == args.length) {
                System.out.println(r + "accepting on " + channels.getLast().getLocalAddress());
                try (SocketChannel conn = channels.getLast().accept()) {
                    System.out.println(r + "accepted a connection from " + conn.getRemoteAddress());
                }
            }
            System.out.println(r + "ready answered: " + received.ready(Duration.ofSeconds(60)));
            for (ServerSocketChannel ch : channels) {
                ch.close();
            }
            System.out.println("fds after " + r + fds());
        }
    }

    private static long fds() throws Exception {
        try (Stream<Path> list = Files.list(Path.of("/proc/self/fd"))) {
            return list.count() - 1;
        }
    }
}
