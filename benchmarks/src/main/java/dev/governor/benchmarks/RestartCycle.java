package dev.governor.benchmarks;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.RestartPolicy;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * W2 as the peer harness measures it ({@code Bench.w2}): one service that fails at once every time
 * it starts, restarted with zero delay and no limit; each start is a fresh run on a fresh virtual
 * thread. Floor: a supervisor virtual thread that starts the worker on a fresh virtual thread, joins
 * it, sees the failure and starts the next at once (the harness's {@code RawVirtualThreads} row).
 * Second floor, the cheapest restart on a fresh virtual thread we know of: a chain, where each run catches
 * its own failure and starts the next run on a fresh virtual thread as it ends (no supervisor, no
 * bookkeeping). One discarded round, then 3 rounds of 1 s warm-up + 3 s window, each side in a
 * fresh JVM; the rounds are printed too, since a G1 heap that is still touching its young
 * generation's pages for the first time makes early rounds of an allocating loop slower.
 * The gap of a cycle is from the moment the worker is about to throw to the next start.
 *
 * <p>Run: {@code mvn -B -q -pl benchmarks -am package -DskipTests -Prestart}.
 */
public final class RestartCycle {
    static final int REPS = 3;
    static final long WARMUP_MS = 1_000, WINDOW_MS = 3_000;

    private RestartCycle() {}

    /** Counts starts and records fail-to-next-start gaps; one incarnation runs at a time. */
    static final class Probe {
        private final int[] gapNs = new int[1 << 23];
        private volatile long starts;
        private volatile long lastFailNs;

        void started() {
            long now = System.nanoTime();
            long i = starts;
            if (i > 0 && i < gapNs.length) {
                gapNs[(int) i] = (int) Math.min(Integer.MAX_VALUE, now - lastFailNs);
            }
            starts = i + 1;
        }

        void failing() {
            lastFailNs = System.nanoTime();
        }

        int[] sortedGaps(long from, long to) {
            int[] s = Arrays.copyOfRange(gapNs, (int) Math.min(from, gapNs.length), (int) Math.min(to, gapNs.length));
            Arrays.sort(s);
            return s;
        }
    }

    interface Side {
        void start(Probe probe);

        void stop() throws InterruptedException;
    }

    static final class Bare implements Side {
        private volatile boolean stopping;
        private Thread supervisor;

        /** The failing worker; the wrapper catches the failure so the supervisor sees it. */
        static final class Attempt implements Runnable {
            final Probe probe;
            Throwable failure;

            Attempt(Probe probe) {
                this.probe = probe;
            }

            @Override
            public void run() {
                try {
                    probe.started();
                    probe.failing();
                    throw new IllegalStateException("boom");
                } catch (RuntimeException e) {
                    failure = e;
                }
            }
        }

        @Override
        public void start(Probe probe) {
            stopping = false;
            supervisor = Thread.ofVirtual().start(() -> {
                while (!stopping) {
                    Attempt a = new Attempt(probe);
                    Thread child = Thread.ofVirtual().start(a);
                    try {
                        child.join();
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (a.failure == null) {
                        return;
                    }
                }
            });
        }

        @Override
        public void stop() throws InterruptedException {
            stopping = true;
            supervisor.interrupt();
            supervisor.join();
        }
    }

    /** Each run starts the next as it ends: what a fresh virtual thread per run costs, nothing else. */
    static final class Chain implements Side {
        private volatile boolean stopping;
        private volatile Thread last;

        /** One run: the bare side's attempt, then the next run on a fresh virtual thread if it failed. */
        final class Link implements Runnable {
            final Probe probe;

            Link(Probe probe) {
                this.probe = probe;
            }

            @Override
            public void run() {
                Bare.Attempt a = new Bare.Attempt(probe);
                a.run();
                if (a.failure != null && !stopping) {
                    last = Thread.ofVirtual().start(new Link(probe));
                }
            }
        }

        @Override
        public void start(Probe probe) {
            stopping = false;
            last = Thread.ofVirtual().start(new Link(probe));
        }

        @Override
        public void stop() throws InterruptedException {
            stopping = true;
            Thread t;
            do { // the run that read stopping as false may still start one more
                t = last;
                t.join();
            } while (last != t);
        }
    }

    static final class Governed implements Side {
        private Governor gov;

        @Override
        public void start(Probe probe) {
            gov = Governor.create(GovernorOptions.builder().systemd(false).build());
            gov.add("w", ctx -> {
                        probe.started();
                        probe.failing();
                        throw new IllegalStateException("boom");
                    })
                    .restartPolicy(RestartPolicy.onFailure(Duration.ZERO));
            gov.start();
        }

        @Override
        public void stop() {
            gov.shutdown();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--one")) {
            one(args[1]);
            return;
        }
        System.out.println(Jvms.header("W2 fail → restart cycle, zero delay"));
        System.out.println(
                "| side | restarts/s | µs/cycle | rounds (µs/cycle) | ratio to bare | ratio to chain | gap p50 | gap p99 |");
        System.out.println("|---|--:|--:|--:|--:|--:|--:|--:|");
        String[] b = Jvms.result(Jvms.run(RestartCycle.class, "--one", "bare"), "RESULT");
        String[] c = Jvms.result(Jvms.run(RestartCycle.class, "--one", "chain"), "RESULT");
        String[] g = Jvms.result(Jvms.run(RestartCycle.class, "--one", "governor"), "RESULT");
        double bus = Double.parseDouble(b[1]);
        double cus = Double.parseDouble(c[1]);
        for (String[] r : new String[][] {b, c, g}) {
            double us = Double.parseDouble(r[1]);
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %,.0f | %.2f | %s | %s | %s | %.2f µs | %.2f µs |%n",
                    r == b
                            ? "bare virtual threads (floor)"
                            : r == c ? "chain of fresh virtual threads (floor)" : "Governor",
                    Double.parseDouble(r[0]),
                    us,
                    r[4].replace(",", " / "),
                    Jvms.ratio(us, bus),
                    Jvms.ratio(us, cus),
                    Double.parseDouble(r[2]),
                    Double.parseDouble(r[3]));
        }
        System.out.println(
                "logging off in all JVMs (the harness's Governor row logs through slf4j-nop); gap = from the worker's"
                        + " throw to its next start; µs/cycle = the median round");
        System.out.println(Jvms.reproduce("restart"));
    }

    /**
     * In a fresh JVM: prints {@code RESULT restarts/s us/cycle p50_us p99_us rounds} (medians of 3
     * rounds, then each round's µs per cycle, comma-separated).
     */
    private static void one(String sideName) throws Exception {
        // as the harness's slf4j-nop: each failure would otherwise be logged with its stack trace
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "off");
        round(sideName);
        double[][] rounds = new double[REPS][];
        for (int r = 0; r < REPS; r++) {
            rounds[r] = round(sideName);
            System.err.println(String.format(
                    Locale.ROOT,
                    "%s round %d: %.0f restarts/s, %.2f us/cycle, p50 %.2f us, p99 %.2f us",
                    sideName,
                    r,
                    rounds[r][0],
                    rounds[r][1],
                    rounds[r][2],
                    rounds[r][3]));
        }
        double[] med = new double[4];
        for (int i = 0; i < 4; i++) {
            double[] v = new double[REPS];
            for (int r = 0; r < REPS; r++) {
                v[r] = rounds[r][i];
            }
            med[i] = Jvms.median(v);
        }
        StringBuilder each = new StringBuilder();
        for (double[] r : rounds) {
            each.append(each.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.2f", r[1]));
        }
        System.out.printf(Locale.ROOT, "RESULT\t%.0f\t%.3f\t%.3f\t%.3f\t%s%n", med[0], med[1], med[2], med[3], each);
        System.exit(0);
    }

    private static double[] round(String sideName) throws InterruptedException {
        Side side = switch (sideName) {
            case "bare" -> new Bare();
            case "chain" -> new Chain();
            case "governor" -> new Governed();
            default -> throw new IllegalArgumentException("side must be bare, chain or governor: " + sideName);
        };
        Probe p = new Probe();
        side.start(p);
        Thread.sleep(WARMUP_MS);
        long c0 = p.starts, t0 = System.nanoTime();
        Thread.sleep(WINDOW_MS);
        long c1 = p.starts, t1 = System.nanoTime();
        side.stop();
        long cycles = c1 - c0;
        if (cycles <= 0) {
            throw new IllegalStateException(sideName + ": no restart in " + WINDOW_MS + " ms");
        }
        int[] gaps = p.sortedGaps(c0, c1);
        return new double[] {
            cycles / ((t1 - t0) / 1e9), (t1 - t0) / 1e3 / cycles, pct(gaps, 0.50) / 1e3, pct(gaps, 0.99) / 1e3
        };
    }

    private static double pct(int[] sorted, double q) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) Math.round(q * (sorted.length - 1))];
    }
}
