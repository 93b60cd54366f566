package dev.governor.test;

import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.Stoppable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ready-made misbehaving services for tests. Each counts its runs ({@link Counting#runs()}); the
 * ones that can block forever have a {@code release()} so a test leaves no thread behind.
 */
public final class Faults {
    private Faults() {}

    /** A service that counts how often it ran. */
    public abstract static class Counting implements Service {
        private final AtomicInteger runs = new AtomicInteger();

        /** A service that has not run yet. */
        protected Counting() {}

        @Override
        public final void run(ServiceCtx ctx) throws Exception {
            runs.incrementAndGet();
            body(ctx);
        }

        protected abstract void body(ServiceCtx ctx) throws Exception;

        /** How many runs began. */
        public int runs() {
            return runs.get();
        }
    }

    /** The failure every fault service throws. */
    public static final class InjectedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public InjectedFailure(String message) {
            super(message);
        }
    }

    /** Fails its first {@code n} runs, then runs until stopped. */
    public static Counting failsThenRuns(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, was " + n);
        }
        return new Counting() {
            @Override
            protected void body(ServiceCtx ctx) throws InterruptedException {
                if (runs() <= n) {
                    throw new InjectedFailure("failure " + runs() + " of " + n);
                }
                ctx.awaitStop();
            }

            @Override
            public String toString() {
                return "failsThenRuns(" + n + ")";
            }
        };
    }

    /** Fails on every run. */
    public static Counting failsForever() {
        return new Counting() {
            @Override
            protected void body(ServiceCtx ctx) {
                throw new InjectedFailure("failure " + runs());
            }

            @Override
            public String toString() {
                return "failsForever()";
            }
        };
    }

    /** Returns at once. */
    public static Counting completesAtOnce() {
        return new Counting() {
            @Override
            protected void body(ServiceCtx ctx) {}

            @Override
            public String toString() {
                return "completesAtOnce()";
            }
        };
    }

    /** Runs until stopped, ready when it begins. */
    public static Counting runsUntilStopped() {
        return new Counting() {
            @Override
            protected void body(ServiceCtx ctx) throws InterruptedException {
                ctx.awaitStop();
            }

            @Override
            public String toString() {
                return "runsUntilStopped()";
            }
        };
    }

    /** Marks itself ready after {@code delay} on the governor's clock (add it with {@code readyOnStart(false)}). */
    public static Counting readyAfter(Duration delay) {
        return new Counting() {
            @Override
            protected void body(ServiceCtx ctx) throws InterruptedException {
                if (ctx.sleep(delay)) {
                    return;
                }
                ctx.markReady();
                ctx.awaitStop();
            }

            @Override
            public String toString() {
                return "readyAfter(" + delay + ")";
            }
        };
    }

    /** Ignores cancellation and interrupts until {@link IgnoresCancellation#release()}: the governor must report it unstopped. */
    public static IgnoresCancellation ignoresCancellation() {
        return new IgnoresCancellation();
    }

    /** See {@link #ignoresCancellation()}. */
    public static final class IgnoresCancellation extends Counting {
        private final CountDownLatch released = new CountDownLatch(1);
        private final CountDownLatch entered = new CountDownLatch(1);

        /** A service that will ignore cancellation until {@code release()}. */
        public IgnoresCancellation() {}

        @Override
        protected void body(ServiceCtx ctx) {
            entered.countDown();
            boolean interrupted = false;
            while (released.getCount() > 0) {
                try {
                    released.await();
                } catch (InterruptedException e) {
                    interrupted = true; // ignored on purpose
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Lets the run return. */
        public void release() {
            released.countDown();
        }

        /** Waits until a run has begun. */
        public void awaitEntered(Duration timeout) throws InterruptedException {
            if (!entered.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new AssertionError("ignoresCancellation() did not begin within " + timeout);
            }
        }

        @Override
        public String toString() {
            return "ignoresCancellation()";
        }
    }

    /** A Stoppable whose {@code stop()} throws; its run still ends on cancellation. */
    public static ThrowsFromStop throwsFromStop() {
        return new ThrowsFromStop();
    }

    /** See {@link #throwsFromStop()}. */
    public static final class ThrowsFromStop extends Counting implements Stoppable {
        private final AtomicInteger stops = new AtomicInteger();

        /** A service whose {@code stop()} will throw. */
        public ThrowsFromStop() {}

        @Override
        protected void body(ServiceCtx ctx) throws InterruptedException {
            ctx.awaitStop();
        }

        @Override
        public void stop() {
            stops.incrementAndGet();
            throw new InjectedFailure("stop() throws on purpose");
        }

        /** How often stop() was called. */
        public int stops() {
            return stops.get();
        }

        @Override
        public String toString() {
            return "throwsFromStop()";
        }
    }

    /** Blocks in {@code accept()} on a loopback socket, ignoring the context: only the interrupt (which closes it) ends it. */
    public static BlocksOnSocket blocksOnSocket() {
        return new BlocksOnSocket();
    }

    /** See {@link #blocksOnSocket()}. */
    public static final class BlocksOnSocket extends Counting {
        private volatile ServerSocket socket;
        private final CountDownLatch listening = new CountDownLatch(1);

        /** A service that will block in {@code accept()} on a fresh loopback socket. */
        public BlocksOnSocket() {}

        @Override
        protected void body(ServiceCtx ctx) throws IOException {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                socket = s;
                listening.countDown();
                while (true) {
                    s.accept().close();
                }
            }
        }

        /** Waits until it listens; returns its port. */
        public int awaitListening(Duration timeout) throws InterruptedException {
            if (!listening.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new AssertionError("blocksOnSocket() did not listen within " + timeout);
            }
            return socket.getLocalPort();
        }

        /** The socket, closed once the run ended. */
        public ServerSocket socket() {
            return socket;
        }

        @Override
        public String toString() {
            return "blocksOnSocket()";
        }
    }
}
