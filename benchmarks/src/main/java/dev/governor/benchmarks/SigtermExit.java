package dev.governor.benchmarks;

import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * W3: SIGTERM → exit of a real child JVM holding N (10,000) services blocked in socket reads, one
 * connection each, against the bare JVM's own exit with N virtual threads blocked the same way.
 * This process is the peer of every connection (it accepts them and never writes), so the child
 * holds one descriptor per service. The time runs from sending SIGTERM ({@link Process#destroy()})
 * until the child has exited.
 *
 * <ul>
 * <li><b>bare</b> (floor): N virtual threads blocked in {@code SocketChannel.read}; SIGTERM takes the
 *     JVM's default path (shutdown hooks, exit 143).
 * <li><b>inturn</b>: the bare JVM's threads, interrupted and joined one at a time in reverse order by
 *     a shutdown hook (on a virtual thread): what a stop in the documented order costs with nothing
 *     but the JDK, the floor of the flat shape's own stop.
 * <li><b>together</b>: the bare JVM's threads, all interrupted, then all joined, by a shutdown hook
 *     (on a virtual thread): the floor of the pool's own stop.
 * <li><b>flat</b>: N services directly under the root of a governor with {@code catchSignals()}; main
 *     exits with {@code waitForShutdown().exitCode()}. Services stop one at a time in reverse order.
 * <li><b>pool</b>: the same N services in one {@code parallelStop()} supervisor.
 * </ul>
 *
 * <p>Run: {@code mvn -B -q -pl benchmarks -am package -DskipTests -Pexit}.
 */
public final class SigtermExit {
    static final int REPS = 5;

    private SigtermExit() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("--child")) {
            child(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            return;
        }
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 10_000;
        System.out.println(Jvms.header(
                "W3 SIGTERM → exit, " + String.format(Locale.ROOT, "%,d", n) + " services blocked in socket reads",
                java.util.stream.Stream.concat(Jvms.HARNESS_FLAGS.stream(), Jvms.NATIVE_FLAGS.stream())
                        .toList()));
        try (Peer peer = new Peer()) {
            double bare = shape(peer, "bare", n);
            double inTurn = shape(peer, "inturn", n);
            double together = shape(peer, "together", n);
            double flat = shape(peer, "flat", n);
            double pool = shape(peer, "pool", n);
            System.out.println("| shape | SIGTERM → exit | ratio to the bare JVM |");
            System.out.println("|---|--:|--:|");
            System.out.printf(
                    Locale.ROOT, "| bare JVM, %,d virtual threads in reads (floor) | %.0f ms | 1.00× |%n", n, bare);
            System.out.printf(
                    Locale.ROOT,
                    "| bare JVM, the same threads interrupted and joined one at a time in reverse order | %.0f ms | %s |%n",
                    inTurn,
                    Jvms.ratio(inTurn, bare));
            System.out.printf(
                    Locale.ROOT,
                    "| bare JVM, the same threads all interrupted, then all joined | %.0f ms | %s |%n",
                    together,
                    Jvms.ratio(together, bare));
            System.out.printf(
                    Locale.ROOT,
                    "| Governor, %,d services flat under the root | %.0f ms | %s |%n",
                    n,
                    flat,
                    Jvms.ratio(flat, bare));
            System.out.printf(
                    Locale.ROOT,
                    "| Governor, %,d services in a parallelStop() pool | %.0f ms | %s |%n",
                    n,
                    pool,
                    Jvms.ratio(pool, bare));
        }
        System.out.println("medians of " + REPS + " child JVMs per shape; logging at WARN");
        System.out.println(Jvms.reproduce("exit"));
    }

    /** Median over REPS child JVMs of SIGTERM → exit, in ms. */
    private static double shape(Peer peer, String shape, int n) throws Exception {
        double[] ms = new double[REPS];
        for (int r = 0; r < REPS; r++) {
            ms[r] = once(peer, shape, n);
            System.err.println(
                    String.format(Locale.ROOT, "%s N=%d rep %d: SIGTERM -> exit %.1f ms", shape, n, r, ms[r]));
        }
        return Jvms.median(ms);
    }

    private static double once(Peer peer, String shape, int n) throws Exception {
        peer.reset();
        Process p = new ProcessBuilder(Jvms.command(
                        SigtermExit.class, true, "--child", shape, Integer.toString(n), Integer.toString(peer.port())))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("READY")) {
                System.err.println(shape + ": " + line);
            }
            if (line == null) {
                throw new IllegalStateException(shape + ": the child ended before READY, exit " + p.waitFor());
            }
            if (!peer.awaitAccepted(n, Duration.ofSeconds(60))) {
                throw new IllegalStateException(
                        shape + ": only " + peer.accepted() + " of " + n + " connections arrived");
            }
            long t0 = System.nanoTime();
            p.toHandle().destroy(); // SIGTERM (Process.destroy() would also close our end of its pipes)
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException(shape + ": no exit within 2 minutes of SIGTERM");
            }
            long t1 = System.nanoTime();
            int rc = p.exitValue();
            if (rc != 143 && rc != 0) {
                throw new IllegalStateException(shape + ": exit code " + rc + " after SIGTERM");
            }
            return (t1 - t0) / 1e6;
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /** The far end of every connection: accepts, holds, never writes. */
    static final class Peer implements AutoCloseable {
        private final ServerSocketChannel server;
        private final ConcurrentLinkedQueue<SocketChannel> held = new ConcurrentLinkedQueue<>();
        private final AtomicInteger accepted = new AtomicInteger();
        private final Thread acceptor;

        Peer() throws IOException {
            server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
            acceptor = Thread.ofPlatform().daemon().name("peer-accept").start(() -> {
                try {
                    while (true) {
                        held.add(server.accept());
                        accepted.incrementAndGet();
                    }
                } catch (IOException e) {
                    // closed
                }
            });
        }

        int port() throws IOException {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        }

        int accepted() {
            return accepted.get();
        }

        boolean awaitAccepted(int n, Duration within) throws InterruptedException {
            long deadline = System.nanoTime() + within.toNanos();
            while (accepted.get() < n) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                Thread.sleep(10);
            }
            return true;
        }

        /** Closes the connections of the previous child. */
        void reset() throws IOException {
            for (SocketChannel c; (c = held.poll()) != null; ) {
                c.close();
            }
            accepted.set(0);
        }

        @Override
        public void close() throws IOException {
            server.close();
            try {
                acceptor.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // kept for the caller; the held connections are closed anyway
            }
            reset();
        }
    }

    // ---------------------------------------------------------------- the child JVM

    private static void child(String shape, int n, int port) throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        CountDownLatch connected = new CountDownLatch(n);
        Service reader = ctx -> {
            try (SocketChannel c = SocketChannel.open(peer)) {
                connected.countDown();
                c.read(ByteBuffer.allocate(1)); // blocks until the stop closes the channel
            }
        };
        switch (shape) {
            case "bare", "inturn", "together" -> {
                Thread[] threads = startReaders(reader, n);
                if (shape.equals("inturn")) { // an ordered stop with nothing but the JDK: the flat shape's own floor
                    stopOnShutdown(() -> {
                        for (int i = threads.length - 1; i >= 0; i--) {
                            threads[i].interrupt();
                            join(threads[i]);
                        }
                    });
                } else if (shape.equals("together")) { // all at once with nothing but the JDK: the pool's own floor
                    stopOnShutdown(() -> {
                        for (int i = threads.length - 1; i >= 0; i--) {
                            threads[i].interrupt();
                        }
                        for (int i = threads.length - 1; i >= 0; i--) {
                            join(threads[i]);
                        }
                    });
                }
                awaitConnected(connected);
                System.out.println("READY");
                System.out.flush();
                Thread.sleep(
                        Long.MAX_VALUE); // SIGTERM: the JVM's own exit (in turn: once its hook stopped the threads)
            }
            case "flat", "pool" -> {
                Governor gov = Governor.create();
                if (shape.equals("flat")) {
                    for (int i = 0; i < n; i++) {
                        gov.add("conn-" + i, reader);
                    }
                } else {
                    Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
                    for (int i = 0; i < n; i++) {
                        pool.add("conn-" + i, reader);
                    }
                    gov.add("pool", pool);
                }
                gov.catchSignals().start();
                awaitConnected(connected);
                if (!gov.awaitReady(Duration.ofMinutes(1))) {
                    throw new IllegalStateException("not ready: " + gov);
                }
                System.out.println("READY");
                System.out.flush();
                System.exit(gov.waitForShutdown().exitCode());
            }
            default -> throw new IllegalArgumentException("shape " + shape + ": bare, inturn, together, flat or pool");
        }
    }

    /** N bare virtual threads running {@code reader} (ended by the JVM's exit, or by an interrupt that closes the channel). */
    private static Thread[] startReaders(Service reader, int n) {
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            threads[i] = Thread.ofVirtual().start(() -> {
                try {
                    reader.run(null);
                } catch (Exception e) {
                    // interrupted (the channel is closed) or the JVM is exiting
                }
            });
        }
        return threads;
    }

    /** Runs {@code stop} on a virtual thread (as a governor's loop is) from a shutdown hook, which waits for it. */
    private static void stopOnShutdown(Runnable stop) {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> join(Thread.ofVirtual().start(stop))));
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the JVM is exiting anyway
        }
    }

    private static void awaitConnected(CountDownLatch connected) throws InterruptedException {
        if (!connected.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException(connected.getCount() + " connections still missing");
        }
    }
}
