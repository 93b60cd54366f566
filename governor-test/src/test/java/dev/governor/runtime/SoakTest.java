package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorListener;
import dev.governor.GovernorOptions;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.daemon.ControlSocket;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak of issue 12: rounds of a governor with more than 1,000 services under random failures,
 * restarts, stopChild/restartChild/removeChild, dynamic adds, reloads, control-socket clients
 * (some hanging up mid-line), HTTP scrapes (a third aborted), a slow listener and a throwing one;
 * each round ends with a full shutdown that must keep its deadline and leave nothing running.
 * Threads, open descriptors and heap (after a full GC), read from /proc/self and the JVM, must be
 * back at their starting values within the stated tolerance.
 *
 * <p>Off by default; {@code mvn -B -Psoak -pl governor-test -am verify -Dsoak.minutes=10}.
 */
@Tag("soak")
class SoakTest {
    static final int POOLS = 10;
    static final int WORKERS = 100;
    static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(20);
    static final Duration SERVICE_STOP_TIMEOUT = Duration.ofSeconds(10);
    static final Duration ROUND = Duration.ofSeconds(60);
    static final int THREAD_TOLERANCE = 4;
    static final int FD_TOLERANCE = 4;
    static final long HEAP_TOLERANCE = 32L << 20;

    // counts over the whole soak
    final LongAdder events = new LongAdder();
    final LongAdder restarts = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder stops = new LongAdder();
    final LongAdder restartChildren = new LongAdder();
    final LongAdder removes = new LongAdder();
    final LongAdder adds = new LongAdder();
    final LongAdder reloads = new LongAdder();
    final LongAdder controlClients = new LongAdder();
    final LongAdder controlHangUps = new LongAdder();
    final LongAdder scrapes = new LongAdder();
    final LongAdder abortedScrapes = new LongAdder();
    final LongAdder listenerThrows = new LongAdder();
    final LongAdder lateStops = new LongAdder();
    final LongAdder interruptedBeforeAwaitStop = new LongAdder();
    final LongAdder cleanups = new LongAdder();
    final LongAdder interruptedCleanups = new LongAdder();
    final LongAdder slowListenerMillis = new LongAdder();
    final AtomicLong longestShutdownMillis = new AtomicLong();
    final List<String> violations = new CopyOnWriteArrayList<>();
    int rounds;
    long maxServices;

    record Figures(long threads, long fds, long heap) {
        @Override
        public String toString() {
            return "threads " + threads + ", open fds " + fds + ", heap after GC " + (heap >> 20) + " MiB";
        }
    }

    @TempDir
    Path dir;

    @Test
    void soak() throws Exception {
        double minutes = Double.parseDouble(System.getProperty("soak.minutes", "10"));
        Duration total = Duration.ofMillis((long) (minutes * 60_000));
        Duration round = total.compareTo(ROUND) < 0 ? total : ROUND;
        round(
                Duration.ofSeconds(5),
                -1); // warm-up: classes, JIT, the shared timer and carrier threads exist before the baseline
        Figures before = settle(null);
        long started = System.nanoTime();
        while (System.nanoTime() - started < total.toNanos()) {
            round(round, rounds++);
        }
        long soakedMillis = (System.nanoTime() - started) / 1_000_000;
        Figures after = settle(before);
        String report = report(minutes, soakedMillis, before, after);
        System.out.println(report);
        Files.writeString(Path.of("target", "soak-report.txt"), report);
        assertThat(violations)
                .as("illegal event sequences, unstopped services, late shutdowns")
                .isEmpty();
        assertThat(after.threads())
                .as("threads")
                .isBetween(before.threads() - THREAD_TOLERANCE, before.threads() + THREAD_TOLERANCE);
        assertThat(after.fds()).as("open fds").isBetween(before.fds() - FD_TOLERANCE, before.fds() + FD_TOLERANCE);
        assertThat(after.heap()).as("heap after GC").isLessThanOrEqualTo(before.heap() + HEAP_TOLERANCE);
    }

    private String report(double minutes, long soakedMillis, Figures before, Figures after) {
        return String.join(
                "\n",
                "soak: " + minutes + " min asked, " + soakedMillis / 1000 + " s soaked in " + rounds
                        + " rounds of up to " + POOLS * WORKERS + "+ services (most at once: " + maxServices + ")",
                "  events " + events.sum() + ", restarts " + restarts.sum() + ", failures " + failures.sum()
                        + ", stopChild " + stops.sum() + ", restartChild " + restartChildren.sum() + ", removeChild "
                        + removes.sum()
                        + ", dynamic adds " + adds.sum() + ", reloads " + reloads.sum(),
                "  control-socket clients " + controlClients.sum() + " (hung up mid-line " + controlHangUps.sum()
                        + "), HTTP requests "
                        + scrapes.sum() + " (aborted " + abortedScrapes.sum() + "), listener throws "
                        + listenerThrows.sum()
                        + ", slow listener slept " + slowListenerMillis.sum() + " ms",
                "  every shutdown within " + SHUTDOWN_TIMEOUT.toSeconds() + " s (longest " + longestShutdownMillis.get()
                        + " ms), 0 services running after each, illegal event sequences: " + violations.size()
                        + ", cleanups interrupted after awaitStop: " + interruptedCleanups.sum() + " of "
                        + cleanups.sum()
                        + " (stopped before reaching awaitStop, interrupted as documented: "
                        + interruptedBeforeAwaitStop.sum() + ")",
                "  stops that overran their " + SERVICE_STOP_TIMEOUT.toSeconds()
                        + " s timeout during the rounds (reported unstopped," + " then Stopped when they ended): "
                        + lateStops.sum(),
                "  before: " + before,
                "  after:  " + after,
                "  tolerance: threads ±" + THREAD_TOLERANCE + ", fds ±" + FD_TOLERANCE + ", heap +"
                        + (HEAP_TOLERANCE >> 20) + " MiB",
                violations.isEmpty() ? "" : "  violations: " + violations.subList(0, Math.min(20, violations.size())),
                "");
    }

    // ---- one round ----

    private void round(Duration length, int n) throws Exception {
        Governor gov = Governor.create(GovernorOptions.builder()
                .systemd(false)
                .shutdownTimeout(SHUTDOWN_TIMEOUT)
                .serviceShutdownTimeout(SERVICE_STOP_TIMEOUT)
                .build());
        SequenceChecker checker = new SequenceChecker();
        gov.onEvent(checker);
        gov.onEvent(new SlowListener());
        gov.onEvent(new ThrowingListener());
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov)
                .port(0)
                .jvmMetrics(false)
                .aggregateChildrenOf("pool0")
                .build();
        endpoint.addTo(gov, "http");
        Path sock = dir.resolve("r" + (n + 1) + ".sock");
        ControlSocket.at(sock).idleTimeout(Duration.ofSeconds(2)).addTo(gov);
        List<Supervisor> pools = new ArrayList<>();
        for (int p = 0; p < POOLS; p++) {
            Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE);
            pool.restartPolicy(RestartPolicy.always(Duration.ofMillis(20))).intensity(1_000_000, Duration.ofSeconds(1));
            for (int w = 0; w < WORKERS; w++) {
                pool.add("w" + w, worker(w));
            }
            gov.add("pool" + p, pool);
            pools.add(pool);
        }
        AtomicInteger reloadCount = new AtomicInteger();
        gov.onReload(g -> {
            int k = reloadCount.incrementAndGet();
            g.add("reloaded" + k, ctx -> ctx.awaitStop()).start();
            if (k > 3) {
                g.removeChild("reloaded" + (k - 3));
            }
        });
        gov.start();
        assertThat(gov.awaitReady(Duration.ofSeconds(60)))
                .as("round " + n + " ready")
                .isTrue();

        long end = System.nanoTime() + length.toNanos();
        List<Thread> chaos = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            chaos.add(Thread.ofVirtual()
                    .name("soak-chaos-" + i)
                    .start(() -> chaos(gov, pools, endpoint.port(), sock, end)));
        }
        for (Thread t : chaos) {
            t.join();
        }
        maxServices = Math.max(maxServices, gov.services().size());

        long t0 = System.nanoTime();
        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        long took = (System.nanoTime() - t0) / 1_000_000;
        longestShutdownMillis.accumulateAndGet(took, Math::max);
        if (took > SHUTDOWN_TIMEOUT.toMillis() + 2_000) {
            violations.add("round " + n + ": shutdown took " + took + " ms, more than its " + SHUTDOWN_TIMEOUT);
        }
        if (!report.unstopped().isEmpty()) {
            violations.add("round " + n + ": unstopped " + report.unstopped());
        }
        List<String> running = gov.services().stream()
                .filter(s -> s.state() != ServiceState.STOPPED
                        && s.state() != ServiceState.FAILED
                        && s.state() != ServiceState.NEW)
                .map(s -> s.name() + "=" + s.state())
                .toList();
        if (!running.isEmpty()) {
            violations.add("round " + n + ": not stopped after shutdown: " + running);
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> GovernorRuntime.hooks(gov).liveThreads().isEmpty());
        violations.addAll(checker.violations);
        if (n >= 0) {
            System.out.println("round " + n + ": " + gov.services().size() + " services, shutdown " + took
                    + " ms, events so far " + events.sum() + ", violations " + violations.size());
        }
    }

    /** What worker {@code w} does: most run until stopped; some fail, complete, tick or clean up slowly. */
    private Service worker(int w) {
        return switch (w % 10) {
            case 6 ->
                ctx -> {
                    if (!ctx.sleep(Duration.ofMillis(ThreadLocalRandom.current().nextInt(50, 3000)))) {
                        failures.increment();
                        throw new SoakFailure("injected failure of " + ctx.name());
                    }
                };
            case 7 ->
                ctx -> ctx.sleep(
                        Duration.ofMillis(ThreadLocalRandom.current().nextInt(50, 5000))); // completes; restarted
            case 8 ->
                ctx -> {
                    while (!ctx.sleep(
                            Duration.ofMillis(ThreadLocalRandom.current().nextInt(10, 100)))) {
                        Thread.onSpinWait();
                    }
                };
            case 9 ->
                ctx -> {
                    ctx.awaitStop();
                    if (Thread.interrupted()) {
                        // stopped before it parked in awaitStop: the documented interrupt of a thread not waiting on
                        // its ctx
                        interruptedBeforeAwaitStop.increment();
                    }
                    try {
                        Thread.sleep(5); // cleanup that blocks: must not be interrupted
                    } catch (InterruptedException e) {
                        interruptedCleanups.increment();
                        violations.add(ctx.name() + ": cleanup after awaitStop was interrupted");
                    }
                    cleanups.increment();
                };
            default -> ctx -> ctx.awaitStop();
        };
    }

    private void chaos(Governor gov, List<Supervisor> pools, int port, Path sock, long end) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int dyn = 0;
        while (System.nanoTime() < end) {
            int p = r.nextInt(POOLS);
            String worker = "pool" + p + "/w" + r.nextInt(WORKERS);
            try {
                switch (r.nextInt(12)) {
                    case 0 -> {
                        gov.stopChild(worker);
                        stops.increment();
                    }
                    case 1 -> {
                        gov.restartChild(worker);
                        restartChildren.increment();
                    }
                    case 2 -> {
                        String name = "dyn-" + Thread.currentThread().getName() + "-" + dyn++;
                        pools.get(p).add(name, ctx -> ctx.awaitStop()).start();
                        adds.increment();
                        if (r.nextBoolean()) {
                            gov.removeChild("pool" + p + "/" + name);
                            removes.increment();
                        }
                    }
                    case 3 -> {
                        if (r.nextInt(10) == 0) {
                            gov.reload();
                            reloads.increment();
                        } else {
                            gov.restartChild(worker); // a stopped one starts again
                            restartChildren.increment();
                        }
                    }
                    case 4, 5 -> control(sock, worker, r);
                    default -> scrape(port, r);
                }
            } catch (IllegalArgumentException | IllegalStateException expected) {
                // a removed child, a name taken, or the loop busy: the tree is untouched
            } catch (IOException e) {
                violations.add("I/O error talking to the governor: " + e);
            }
            if (r.nextInt(4) == 0) {
                Thread.yield();
            }
        }
    }

    private void control(Path sock, String worker, ThreadLocalRandom r) throws IOException {
        controlClients.increment();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            String[] commands = {
                "status", "restart " + worker, "stop " + worker, "start " + worker, "reload", "bogus \u001b[2J"
            };
            String cmd = commands[r.nextInt(commands.length)];
            if (r.nextInt(5) == 0) {
                ch.write(ByteBuffer.wrap(
                        cmd.substring(0, cmd.length() / 2).getBytes(StandardCharsets.UTF_8))); // hang up mid-line
                controlHangUps.increment();
                return;
            }
            ch.write(ByteBuffer.wrap((cmd + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer in = ByteBuffer.allocate(1 << 20);
            while (ch.read(in) > 0 && in.get(in.position() - 1) != '\n') {
                // until the answer line ends
            }
            String answer = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
            if (!answer.startsWith("{\"ok\":")) {
                violations.add("control socket answered " + cmd + " with " + answer);
            }
        }
    }

    private void scrape(int port, ThreadLocalRandom r) throws IOException {
        String[] paths = {"/metrics", "/status.json", "/healthz", "/readyz", "/status"};
        String path = paths[r.nextInt(paths.length)];
        scrapes.increment();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            if (r.nextInt(3) == 0) {
                abortedScrapes.increment();
                if (r.nextBoolean()) {
                    s.setSoLinger(true, 0); // reset
                }
                return;
            }
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            if (!answer.startsWith("HTTP/1.1 200") && !answer.startsWith("HTTP/1.1 503")) {
                violations.add("GET " + path + " answered "
                        + answer.lines().findFirst().orElse("nothing"));
            }
        }
    }

    /** A failure of a soak worker: cheap (no stack trace), so that the log stays small. */
    static final class SoakFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SoakFailure(String message) {
            super(message, null, false, false);
        }
    }

    /** Checks each path's events against the documented lifecycle (see GovernorEvent). */
    final class SequenceChecker implements GovernorListener {
        private final Map<String, Boolean> active =
                new ConcurrentHashMap<>(); // delivery is one thread; the map is read at the end
        private final Map<String, Boolean> late = new ConcurrentHashMap<>();
        final List<String> violations = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(GovernorEvent e) {
            events.increment();
            String path = e.service();
            boolean running = active.getOrDefault(path, false);
            switch (e) {
                case GovernorEvent.Started s -> {
                    late.remove(path);
                    if (running) {
                        violate(e, "Started while a run is active");
                    }
                    active.put(path, true);
                }
                case GovernorEvent.Ready ready -> {
                    if (!path.isEmpty() && !running) {
                        violate(e, "Ready without a run");
                    }
                }
                case GovernorEvent.Completed c -> end(e, running);
                case GovernorEvent.StoppedOnPurpose c -> end(e, running);
                case GovernorEvent.Failed c -> end(e, running);
                case GovernorEvent.Stopped c -> end(e, running);
                case GovernorEvent.StopTimedOut c -> {
                    // legal: the run overran its stop timeout and is reported unstopped; when it ends
                    // at last, a Stopped follows (counted, and an unstopped service at shutdown fails the round)
                    lateStops.increment();
                    if (!running) {
                        violate(e, "StopTimedOut without a run");
                    }
                    active.put(path, false);
                    late.put(path, true);
                }
                case GovernorEvent.Restarting rs -> {
                    restarts.increment();
                    if (running) {
                        violate(e, "Restarting while a run is active");
                    }
                }
                case GovernorEvent.Escalated esc -> violate(e, "escalated (the intensity is set never to be reached)");
                case GovernorEvent.ShutdownRequested sr -> {
                    if (!path.isEmpty()) {
                        violate(e, "ShutdownRequested for a service");
                    }
                }
                case GovernorEvent.Reloaded rl -> {} // reloadable nodes only; the soak reloads through a handler
                case GovernorEvent.ReloadRefused rr -> {}
                case GovernorEvent.UpgradeStarted us -> {} // the soak upgrades nothing
                case GovernorEvent.UpgradeFailed uf -> {}
            }
        }

        private void end(GovernorEvent e, boolean running) {
            if (!running && e instanceof GovernorEvent.Stopped && late.remove(e.service()) != null) {
                return; // the late end of a run reported unstopped
            }
            if (!running) {
                violate(e, e.getClass().getSimpleName() + " without a run");
            }
            active.put(e.service(), false);
        }

        private void violate(GovernorEvent e, String why) {
            if (violations.size() < 100) {
                violations.add(e.service() + ": " + why + " (" + e.getClass().getSimpleName() + " at " + e.at() + ")");
            }
        }
    }

    /** Sleeps now and then, up to 20 ms: it must delay only itself. */
    final class SlowListener implements GovernorListener {
        @Override
        public void onEvent(GovernorEvent event) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            if (r.nextInt(50) == 0) {
                int ms = r.nextInt(2, 20);
                slowListenerMillis.add(ms);
                try {
                    Thread.sleep(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Throws now and then, an Error among them, and its toString throws too. */
    final class ThrowingListener implements GovernorListener {
        private long n;

        @Override
        public void onEvent(GovernorEvent event) {
            n++;
            if (n % 1009 == 0) {
                listenerThrows.increment();
                throw new StackOverflowError("soak: a listener's error");
            }
            if (n % 97 == 0) {
                listenerThrows.increment();
                throw new IllegalStateException("soak: a listener's exception");
            }
        }

        @Override
        public String toString() {
            throw new UnsupportedOperationException("soak: a listener whose toString throws");
        }
    }

    // ---- measuring ----

    static Figures measure() throws IOException {
        for (int i = 0; i < 3; i++) {
            ManagementFactory.getMemoryMXBean().gc();
        }
        long threads = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Threads:"))
                .mapToLong(l -> Long.parseLong(l.substring(8).strip()))
                .findFirst()
                .orElseThrow();
        long fds;
        try (Stream<Path> list = Files.list(Path.of("/proc/self/fd"))) {
            fds = list.count();
        }
        return new Figures(
                threads,
                fds,
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }

    /**
     * The figures once the JVM settled: idle carrier and compensation threads retire after the
     * virtual-thread scheduler's keep-alive (30 s), so this waits up to 2 minutes for the figures to
     * come within tolerance of {@code target} (or, for the baseline, to stop changing).
     */
    private static Figures settle(Figures target) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        Figures last = measure();
        while (System.nanoTime() < deadline) {
            Thread.sleep(Duration.ofSeconds(5));
            Figures now = measure();
            boolean done = target == null
                    ? now.threads() == last.threads() && now.fds() == last.fds()
                    : Math.abs(now.threads() - target.threads()) <= THREAD_TOLERANCE
                            && Math.abs(now.fds() - target.fds()) <= FD_TOLERANCE
                            && now.heap() <= target.heap() + HEAP_TOLERANCE;
            last = now;
            if (done) {
                break;
            }
        }
        return last;
    }

    @Override
    public String toString() {
        return "SoakTest[rounds=" + rounds + ", events=" + events.sum() + ", violations=" + violations.size() + "]";
    }
}
