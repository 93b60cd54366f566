package dev.governor.runtime.internal;

import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * When {@link #train()} runs (~90 ms, once per JVM): never on the way to a small tree's
 * readiness. The training only matters to trees that will hold tens of thousands of parked
 * services (without it, stopping 1,000,000 of them deoptimizes their frames one by one: 5.6 s
 * instead of 1 s); a daemon of a few services would pay it on every start for nothing.
 *
 * <ul>
 * <li>A tree that holds {@value #LARGE_TREE} services or more when it starts trains first, on the
 *     calling thread, as before: its services must not park in code compiled without the profile.
 * <li>Any other tree starts at once; the training runs afterwards on a background daemon thread, once
 *     that governor is ready (or a second after its start at the latest), so a pool grown later by
 *     {@code add(...).start()} finds the wait paths trained.
 * </ul>
 */
final class WaitPathTraining {
    static final int LARGE_TREE = 10_000;
    private static final long READY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private static boolean started; // guarded by WaitPathTraining.class
    private static volatile boolean urgent; // a large tree is waiting: train now
    private static final CountDownLatch TRAINED = new CountDownLatch(1);

    private WaitPathTraining() {}

    /** Called by {@code start()} before the root's loop starts. */
    static void beforeStart(GovernorImpl governor, SupervisorImpl root) {
        startOnce(governor);
        if (atLeast(root, LARGE_TREE)) {
            urgent = true;
            try {
                TRAINED.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Starts the trainer once per JVM. Nothing static refers to the thread or to {@code first}: the
     * governor is not kept alive past its own life by the training.
     */
    private static synchronized void startOnce(GovernorImpl first) {
        if (started) {
            return;
        }
        started = true;
        Thread.ofPlatform()
                .daemon()
                .name("governor-jit-training")
                .priority(Thread.MIN_PRIORITY)
                .start(() -> {
                    try {
                        long deadline = System.nanoTime() + READY_WAIT_NANOS;
                        while (!urgent && !first.isReady() && System.nanoTime() - deadline < 0) {
                            LockSupport.parkNanos(POLL_NANOS);
                        }
                        train(); // once: startOnce starts this thread once per JVM
                    } finally {
                        TRAINED.countDown();
                    }
                });
    }

    /** Whether the tree under {@code root} holds at least {@code n} services (walks at most n nodes). */
    static boolean atLeast(SupervisorImpl root, int n) {
        int seen = 0;
        ArrayDeque<SupervisorImpl> todo = new ArrayDeque<>();
        todo.add(root);
        while (!todo.isEmpty()) {
            for (Child c : todo.poll().childrenView()) {
                if (++seen >= n) {
                    return true;
                }
                if (c.service instanceof SupervisorImpl s) {
                    todo.add(s);
                }
            }
        }
        return false;
    }
    /**
     * Runs the wait paths of {@link Run} (park, cancel, wake, return) on a few thousand throwaway
     * runs. Without it the JIT compiles {@link Run#awaitStop()} and {@link Run#sleep} while every
     * caller is still parked, with no profile of what follows the park: the code after it becomes
     * an uncommon trap, and stopping a pool of N parked services then deoptimizes N frames one by
     * one (measured: 600,000 deoptimizations, 5.6 s instead of 1 s to stop 1,000,000 services).
     */
    private static void train() {
        int n = 4_000;
        Run[] runs = new Run[n];
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            Run r = new Run(null, null, "jit-training", 0);
            runs[i] = r;
            threads[i] = Thread.ofVirtual().unstarted(() -> awaitStopQuietly(r));
            r.thread = threads[i];
            threads[i].start();
        }
        for (Run r : runs) {
            r.cancel();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void awaitStopQuietly(Run r) {
        try {
            r.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
