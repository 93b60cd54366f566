package dev.governor.benchmarks;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * N services that count down a latch and block in {@code ctx.awaitStop()} under one parallel-stop
 * supervisor, against N
 * bare virtual threads parked on a latch, in the same JVM: time from {@code start()} until all
 * run (ready), time from {@code shutdown()} until all have stopped, and heap bytes per service
 * (or thread) after a full GC. The time to {@code add} the N services is shown apart.
 *
 * <p>Run: {@code mvn -B -q -Pscale package -DskipTests} (see the README for the table).
 */
public final class PoolScale {
    private PoolScale() {}

    record Figures(long n, Duration start, Duration stop, double heapPerUnit, Duration add) {}

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--one")) {
            System.out.println(row(Integer.parseInt(args[1])));
            return;
        }
        List<Integer> sizes = new ArrayList<>();
        for (String a : args) {
            sizes.add(Integer.parseInt(a.replace("_", "")));
        }
        if (sizes.isEmpty()) {
            sizes = List.of(10_000, 100_000, 1_000_000);
        }
        System.out.printf(Locale.ROOT, "JDK %s, %d cores, max heap %d MiB; each N in a fresh JVM, after three warm-up rounds of 20,000%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        System.out.println("| N | governor start | bare start | ratio | governor stop | bare stop | ratio | governor heap/service | bare heap/thread | ratio | add() of N |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (int n : sizes) {
            System.out.println(inFreshJvm(n));
        }
    }

    /** Runs one size in a child JVM with this JVM's flags and class path, so sizes do not disturb each other. */
    private static String inFreshJvm(int n) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PoolScale.class.getName(), "--one", Integer.toString(n)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("size " + n + " failed:\n" + out);
        }
        return out.lines().reduce((a, b) -> b).orElseThrow();
    }

    private static String row(int n) throws InterruptedException {
        for (int i = 0; i < 3; i++) { // both paths JIT-compiled before measuring
            bare(20_000);
            governor(20_000);
        }
        Figures b = bare(n);
        Figures g = governor(n);
        return String.format(Locale.ROOT, "| %,d | %d ms | %d ms | %.2f× | %d ms | %d ms | %.2f× | %.0f B | %.0f B | %.2f× | %d ms |",
                n, g.start.toMillis(), b.start.toMillis(), ratio(g.start, b.start),
                g.stop.toMillis(), b.stop.toMillis(), ratio(g.stop, b.stop),
                g.heapPerUnit, b.heapPerUnit, g.heapPerUnit / b.heapPerUnit, g.add.toMillis());
    }

    private static double ratio(Duration a, Duration b) {
        return (double) Math.max(1, a.toNanos()) / Math.max(1, b.toNanos());
    }

    static Figures bare(int n) throws InterruptedException {
        long before = usedAfterGc();
        CountDownLatch running = new CountDownLatch(n);
        CountDownLatch stop = new CountDownLatch(1);
        Thread[] threads = new Thread[n];
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            threads[i] = Thread.ofVirtual().name("w" + i).start(() -> {
                running.countDown();
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        running.await();
        Duration start = Duration.ofNanos(System.nanoTime() - t0);
        double heap = (double) (usedAfterGc() - before) / n;
        long t1 = System.nanoTime();
        stop.countDown();
        for (Thread t : threads) {
            t.join();
        }
        Duration stopped = Duration.ofNanos(System.nanoTime() - t1);
        return new Figures(n, start, stopped, heap, Duration.ZERO);
    }

    static Figures governor(int n) throws InterruptedException {
        long before = usedAfterGc();
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        CountDownLatch running = new CountDownLatch(n);   // as the bare threads do: counted once really running
        long tAdd = System.nanoTime();
        for (int i = 0; i < n; i++) {
            pool.add("w" + i, ctx -> {
                running.countDown();
                ctx.awaitStop();
            });
        }
        gov.add("pool", pool);
        Duration add = Duration.ofNanos(System.nanoTime() - tAdd);
        long t0 = System.nanoTime();
        gov.start();
        if (!gov.awaitReady(Duration.ofMinutes(10))) {
            throw new IllegalStateException("pool of " + n + " not ready: " + gov);
        }
        running.await();
        Duration start = Duration.ofNanos(System.nanoTime() - t0);
        double heap = (double) (usedAfterGc() - before) / n;
        long t1 = System.nanoTime();
        gov.shutdown();
        Duration stopped = Duration.ofNanos(System.nanoTime() - t1);
        return new Figures(n, start, stopped, heap, add);
    }

    private static long usedAfterGc() {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return mem.getHeapMemoryUsage().getUsed();
    }
}
