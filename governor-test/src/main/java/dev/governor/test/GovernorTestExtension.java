package dev.governor.test;

import dev.governor.Governor;
import dev.governor.ShutdownReport;
import dev.governor.runtime.GovernorRuntime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test a {@link Governor} on a {@link VirtualClock} with an {@link EventRecorder}
 * attached, and afterwards shuts it down (advancing virtual time so stop timeouts can pass) and
 * checks that nothing was left behind. See {@link GovernorTest}.
 */
public final class GovernorTestExtension implements ParameterResolver, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(GovernorTestExtension.class);
    /** Real-time bound on the shutdown after a test. */
    private static final Duration SHUTDOWN_BOUND = Duration.ofSeconds(60);

    record Kit(VirtualClock clock, EventRecorder recorder, Governor governor) {}

    /** Made by JUnit for {@code @ExtendWith(GovernorTestExtension.class)}, which {@link GovernorTest} carries. */
    public GovernorTestExtension() {}

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext ctx) {
        Class<?> type = p.getParameter().getType();
        return type == Governor.class || type == VirtualClock.class || type == EventRecorder.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext ctx) {
        Kit kit = ctx.getStore(NS)
                .getOrComputeIfAbsent(
                        Kit.class,
                        k -> {
                            VirtualClock clock = new VirtualClock();
                            EventRecorder recorder = new EventRecorder();
                            Governor gov = Governor.create(clock.options());
                            gov.onEvent(recorder);
                            return new Kit(clock, recorder, gov);
                        },
                        Kit.class);
        Class<?> type = p.getParameter().getType();
        if (type == Governor.class) {
            return kit.governor();
        }
        return type == VirtualClock.class ? kit.clock() : kit.recorder();
    }

    @Override
    public void afterEach(ExtensionContext ctx) throws Exception {
        Kit kit = ctx.getStore(NS).get(Kit.class, Kit.class);
        if (kit == null) {
            return;
        }
        ShutdownReport report = shutDown(kit);
        boolean allowUnstopped = ctx.getRequiredTestClass().isAnnotationPresent(GovernorTest.class)
                && ctx.getRequiredTestClass().getAnnotation(GovernorTest.class).allowUnstopped();
        if (report != null && !report.unstopped().isEmpty() && !allowUnstopped) {
            throw new AssertionError("the test left services unstopped: " + report.unstopped());
        }
        List<String> live = awaitNoLiveThreads(kit.governor(), Duration.ofSeconds(20));
        if (!live.isEmpty()) {
            throw new AssertionError("governor threads still alive after the test: " + live);
        }
    }

    /** Shuts the governor down, advancing virtual time while it stops; null if it never started. */
    static ShutdownReport shutDown(Kit kit) throws Exception {
        Governor gov = kit.governor();
        gov.requestShutdown("end of test");
        CompletableFuture<ShutdownReport> done = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return gov.waitForShutdown();
                    } catch (IllegalStateException notStarted) {
                        return null;
                    }
                },
                r -> Thread.ofVirtual().start(r));
        long deadline = System.nanoTime() + SHUTDOWN_BOUND.toNanos();
        while (true) {
            try {
                return done.get(5, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            "governor did not shut down within " + SHUTDOWN_BOUND + " of real time: " + gov);
                }
                kit.clock().advance(Duration.ofMillis(500));
            }
        }
    }

    private static List<String> awaitNoLiveThreads(Governor gov, Duration bound) {
        Waits.until(
                bound,
                Duration.ofMillis(5),
                () -> GovernorRuntime.hooks(gov).liveThreads().isEmpty()); // the caller reports the names
        return GovernorRuntime.hooks(gov).liveThreads();
    }
}
