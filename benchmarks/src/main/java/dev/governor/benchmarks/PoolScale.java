package dev.governor.benchmarks;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * W1 as the peer harness measures it ({@code ../shared/bench/anchors}, {@code Bench.w1}), Governor
 * and its floor side by side, each size and each side in a fresh JVM with the harness's flags:
 *
 * <ul>
 * <li><b>floor</b>: N bare virtual threads that park until interrupted; stop = interrupt and join all
 *     (the harness's {@code RawVirtualThreads} row).
 * <li><b>Governor</b>: a fresh governor, one {@code parallelStop()} ONE_FOR_ONE pool of N services that
 *     block in {@code ctx.awaitStop()}; start is timed from the first {@code add()} until every
 *     service runs; stop = {@code shutdown()} until every service has ended.
 * </ul>
 *
 * Warm-up rounds of min(N, 100k) until 200k workers were started or 5 s passed, then 3 measured
 * rounds; medians. Heap per worker = heap used after a full GC with N running minus with none, / N.
 *
 * <p>Run: {@code mvn -B -q -pl benchmarks -am package -DskipTests -Pscale} (sizes with {@code -Dbench.sizes=...}).
 */
public final class PoolScale {
    static final int REPS = 3, WARMUP_ROUND_MAX = 100_000, WARMUP_WORKERS = 200_000;
    static final long WARMUP_MAX_NS = 5_000_000_000L;

    private PoolScale() {}

    /** One side of the comparison, driven the same way. */
    interface Side {
        void open();

        void startAll(int n, CountDownLatch running, CountDownLatch terminated);

        void stopAll() throws InterruptedException;
    }

    static final class Bare implements Side {
        private Thread[] threads = new Thread[0];

        @Override
        public void open() {
            threads = new Thread[0];
        }

        @Override
        public void startAll(int n, CountDownLatch running, CountDownLatch terminated) {
            Runnable body = () -> {
                running.countDown();
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        LockSupport.park();
                    }
                } finally {
                    terminated.countDown();
                }
            };
            Thread.Builder builder = Thread.ofVirtual();
            Thread[] ts = new Thread[n];
            for (int i = 0; i < n; i++) {
                ts[i] = builder.start(body);
            }
            threads = ts;
        }

        @Override
        public void stopAll() throws InterruptedException {
            for (Thread t : threads) {
                t.interrupt();
            }
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    static final class Governed implements Side {
        private Governor gov;

        @Override
        public void open() {
            gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        }

        @Override
        public void startAll(int n, CountDownLatch running, CountDownLatch terminated) {
            Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
            for (int i = 0; i < n; i++) {
                pool.add("w" + i, ctx -> {
                    running.countDown();
                    try {
                        ctx.awaitStop();
                    } finally {
                        terminated.countDown();
                    }
                });
            }
            gov.add("pool", pool);
            gov.start();
        }

        @Override
        public void stopAll() {
            gov.shutdown();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--one")) {
            one(args[1], Integer.parseInt(args[2]));
            return;
        }
        List<Integer> sizes = new ArrayList<>();
        for (String a : args) {
            sizes.add(Integer.parseInt(a.replace("_", "").replace(",", "")));
        }
        if (sizes.isEmpty()) {
            sizes = List.of(10_000, 100_000, 1_000_000);
        }
        System.out.println(Jvms.header("W1 pool scale"));
        System.out.println(
                "| N | bare start | governor start | ratio | bare stop | governor stop | ratio | bare heap/thread | governor heap/service | ratio | bare RSS/thread | governor RSS/service | ratio |");
        System.out.println("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (int n : sizes) {
            double[] b = row("bare", n);
            double[] g = row("governor", n);
            System.out.printf(
                    Locale.ROOT,
                    "| %,d | %s | %s | %s | %s | %s | %s | %,.0f B | %,.0f B | %s | %,.0f B | %,.0f B | %s |%n",
                    n,
                    ms(b[0]),
                    ms(g[0]),
                    Jvms.ratio(g[0], b[0]),
                    ms(b[1]),
                    ms(g[1]),
                    Jvms.ratio(g[1], b[1]),
                    b[2],
                    g[2],
                    Jvms.ratio(g[2], b[2]),
                    b[3],
                    g[3],
                    Jvms.ratio(g[3], b[3]));
        }
        System.out.println(
                "start = from the first add() (bare: the first Thread.start) until all run; stop = shutdown() (bare: interrupt + join) until all ended;"
                        + " heap = used after a full GC with N running minus with none, / N; RSS = VmRSS with N running minus that of the fresh JVM holding an empty supervisor, / N;"
                        + " medians of 3 rounds after warm-up, as the harness's Bench.w1");
        System.out.println(Jvms.reproduce("scale")
                + (sizes.equals(List.of(10_000, 100_000, 1_000_000))
                        ? ""
                        : " -Dbench.sizes=\""
                                + String.join(
                                        " ", sizes.stream().map(String::valueOf).toList()) + "\""));
    }

    static String ms(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f ms", v) : String.format(Locale.ROOT, "%.1f ms", v);
    }

    private static double[] row(String side, int n) throws Exception {
        String[] r = Jvms.result(Jvms.run(PoolScale.class, "--one", side, Integer.toString(n)), "RESULT");
        return new double[] {
            Double.parseDouble(r[0]), Double.parseDouble(r[1]), Double.parseDouble(r[2]), Double.parseDouble(r[3])
        };
    }

    /** In a fresh JVM: warm-up, then 3 rounds; prints {@code RESULT start_ms stop_ms heap_B rss_B}. */
    private static void one(String sideName, int n) throws Exception {
        Side side = sideName.equals("bare") ? new Bare() : new Governed();
        side.open(); // a fresh process holding an empty supervisor: the RSS baseline
        Jvms.heapAfterGc();
        long rss0 = Jvms.rss();
        side.stopAll();
        int wn = Math.min(n, WARMUP_ROUND_MAX);
        long warm0 = System.nanoTime();
        for (long started = 0; started < WARMUP_WORKERS && System.nanoTime() - warm0 < WARMUP_MAX_NS; started += wn) {
            round(side, wn, rss0);
        }
        double[][] rounds = new double[REPS][];
        for (int r = 0; r < REPS; r++) {
            rounds[r] = round(side, n, rss0);
            System.err.println(String.format(
                    Locale.ROOT,
                    "%s N=%d round %d: start %.1f ms, stop %.1f ms, heap %.0f B/worker, rss %.0f B/worker",
                    sideName,
                    n,
                    r,
                    rounds[r][0],
                    rounds[r][1],
                    rounds[r][2],
                    rounds[r][3]));
        }
        System.out.printf(
                Locale.ROOT,
                "RESULT\t%.2f\t%.2f\t%.1f\t%.1f%n",
                med(rounds, 0),
                med(rounds, 1),
                med(rounds, 2),
                med(rounds, 3));
        System.exit(0);
    }

    private static double med(double[][] rounds, int i) {
        double[] v = new double[rounds.length];
        for (int r = 0; r < rounds.length; r++) {
            v[r] = rounds[r][i];
        }
        return Jvms.median(v);
    }

    /** {start ms, stop ms, heap B/worker, RSS B/worker}, timed and sampled as the harness's w1Round. */
    static double[] round(Side side, int n, long rss0) throws Exception {
        side.open();
        long heap0 = Jvms.heapAfterGc();
        CountDownLatch running = new CountDownLatch(n);
        CountDownLatch terminated = new CountDownLatch(n);
        long t0 = System.nanoTime();
        side.startAll(n, running, terminated);
        await(running, "running");
        long t1 = System.nanoTime();
        long heapN = Jvms.heapAfterGc();
        long rssN = Jvms.rss();
        long t2 = System.nanoTime();
        side.stopAll();
        await(terminated, "terminated");
        long t3 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e6, (t3 - t2) / 1e6, (double) (heapN - heap0) / n, (double) (rssN - rss0) / n
        };
    }

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("timed out waiting for " + what + " (" + latch.getCount() + " left)");
        }
    }
}
