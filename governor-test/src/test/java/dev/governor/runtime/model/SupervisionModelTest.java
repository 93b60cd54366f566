package dev.governor.runtime.model;

import static org.awaitility.Awaitility.await;

import dev.governor.AutoShutdown;
import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.StopService;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.model.SupervisionModel.ChildSpec;
import dev.governor.runtime.model.SupervisionModel.End;
import dev.governor.runtime.model.SupervisionModel.Mode;
import dev.governor.runtime.model.SupervisionModel.SupSpec;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Differential test of supervision (issue 16): random trees and operation sequences run on the
 * runtime (on a virtual clock) and on {@link SupervisionModel}; after every step the events of
 * each path, and each node's state, must be the same. jqwik seeds every run (the seed is printed
 * on failure) and shrinks a failing sequence to a short one.
 *
 * <p>Fast mode in every {@code mvn verify} ({@code jqwik.tries.default} in
 * {@code junit-platform.properties}); {@code mvn -Pmodel verify} runs the long mode.
 */
class SupervisionModelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    sealed interface Op {}

    record EndRun(int child, End how) implements Op {}

    record Advance(Duration by) implements Op {}

    record StopChild(int child) implements Op {}

    record RestartChild(int child) implements Op {}

    record RemoveChild(int child) implements Op {}

    record Add(ChildSpec spec) implements Op {}

    record Scenario(SupSpec sup, List<ChildSpec> children, List<Op> ops) {}

    @Property(shrinking = net.jqwik.api.ShrinkingMode.FULL, edgeCases = net.jqwik.api.EdgeCasesMode.NONE)
    void runtimeBehavesAsTheModel(@ForAll("scenarios") Scenario scenario) throws Exception {
        SupervisionModel model = new SupervisionModel(scenario.sup(), scenario.children());
        try (Harness h = new Harness(scenario.sup(), scenario.children())) {
            model.start();
            if (!h.gov.awaitReady(WAIT)) {
                throw new AssertionError("not ready within " + WAIT + ": " + h.gov.services());
            }
            h.settle(model);
            h.expect(model, "start");
            int step = 0;
            for (Op op : scenario.ops()) {
                step++;
                apply(op, model, h);
                h.settle(model);
                h.expect(model, "step " + step + ": " + op);
            }
        }
        net.jqwik.api.statistics.Statistics.label("supervisor s at the end").collect(model.supState);
        net.jqwik.api.statistics.Statistics.label("events checked")
                .collect(model.events.values().stream().mapToInt(List::size).sum() / 10 * 10 + "+");
    }

    private static void apply(Op op, SupervisionModel model, Harness h) throws Exception {
        switch (op) {
            case EndRun e -> {
                SupervisionModel.Child c = model.child(e.child());
                int attempt = c == null ? -1 : c.attempt;
                if (model.end(e.child(), e.how())) {
                    h.end(c.name, attempt, e.how());
                }
            }
            case Advance a -> {
                model.advance(a.by());
                h.advance(a.by());
            }
            case StopChild s -> {
                SupervisionModel.Child c = model.child(s.child());
                if (c != null) {
                    model.stopChild(s.child());
                    h.sup.stopChild(c.name);
                }
            }
            case RestartChild r -> {
                SupervisionModel.Child c = model.child(r.child());
                if (c != null) {
                    boolean allowed = model.restartChild(r.child());
                    boolean refused = false;
                    try {
                        h.sup.restartChild(c.name);
                    } catch (IllegalStateException expected) {
                        refused = true;
                    }
                    if (refused == allowed) {
                        throw new AssertionError("restartChild(" + c.name + ") " + (refused ? "refused" : "accepted")
                                + " by the runtime; the model says it is " + (allowed ? "accepted" : "refused"));
                    }
                }
            }
            case RemoveChild r -> {
                SupervisionModel.Child c = model.child(r.child());
                if (c != null) {
                    model.removeChild(r.child());
                    h.sup.removeChild(c.name);
                    h.configs.remove(c.name);
                }
            }
            case Add a -> {
                if (model.children.size() < 6) {
                    h.add(model.add(a.spec()), a.spec());
                }
            }
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<SupSpec> sup = Combinators.combine(
                        Arbitraries.of(Strategy.class),
                        Arbitraries.of(-1, -1, 0, 1, 2, 3),
                        Arbitraries.of(Duration.ofSeconds(5), Duration.ofSeconds(20)),
                        Arbitraries.of(
                                AutoShutdown.NEVER,
                                AutoShutdown.NEVER,
                                AutoShutdown.ANY_SIGNIFICANT,
                                AutoShutdown.ALL_SIGNIFICANT))
                .as(SupSpec::new);
        Arbitrary<List<ChildSpec>> children = childSpec().list().ofMinSize(1).ofMaxSize(4);
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(
                        10,
                        Combinators.combine(Arbitraries.integers().between(0, 5), Arbitraries.of(End.class))
                                .as(EndRun::new)),
                net.jqwik.api.Tuple.of(
                        5,
                        Arbitraries.of(
                                        Duration.ofSeconds(1),
                                        Duration.ofSeconds(2),
                                        Duration.ofSeconds(3),
                                        Duration.ofSeconds(10))
                                .map(Advance::new)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 5).map(StopChild::new)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 5).map(RestartChild::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 5).map(RemoveChild::new)),
                net.jqwik.api.Tuple.of(1, childSpec().map(Add::new)));
        return Combinators.combine(sup, children, op.list().ofMinSize(1).ofMaxSize(16))
                .as(Scenario::new);
    }

    private static Arbitrary<ChildSpec> childSpec() {
        return Combinators.combine(
                        Arbitraries.of(Mode.class),
                        Arbitraries.of(Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(3)),
                        Arbitraries.of(0, 0, 1, 2),
                        Arbitraries.of(true, false))
                .as((mode, delay, limit, significant) -> new ChildSpec(
                        mode, delay, mode == Mode.NEVER ? 0 : limit, Duration.ofSeconds(10), significant));
    }

    // ---- the runtime side ----

    /** A failure without a stack trace: thousands of them are logged in a long run. */
    static final class PuppetFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PuppetFailure(String message) {
            super(message, null, false, false);
        }
    }

    /** One run of a puppet: its thread and the command that ends it. */
    record Handle(Thread thread, LinkedBlockingQueue<End> commands) {}

    /** A governor with a keeper and the supervisor "s" of puppets whose runs end when told to. */
    static final class Harness implements AutoCloseable {
        final VirtualClock clock = new VirtualClock();
        final Governor gov = Governor.create(clock.options());
        final Supervisor sup;
        final ServiceConfig keeper;
        final Map<String, ServiceConfig> configs = new LinkedHashMap<>(); // of the children not removed
        final Map<String, Handle> runs = new HashMap<>(); // guarded by itself
        final List<GovernorEvent> events = new ArrayList<>(); // guarded by itself

        final Service puppet = this::runPuppet;

        Harness(SupSpec spec, List<ChildSpec> children) {
            sup = Supervisor.create(spec.strategy()).autoShutdown(spec.autoShutdown());
            if (spec.intensity() >= 0) {
                sup.intensity(spec.intensity(), spec.intensityWindow());
            }
            for (int i = 0; i < children.size(); i++) {
                configure("c" + i, sup.add("c" + i, puppet), children.get(i));
            }
            gov.onEvent(e -> {
                synchronized (events) {
                    events.add(e);
                }
            });
            keeper = gov.add("keeper", ServiceCtx::awaitStop);
            gov.add("s", sup).noRestart();
            gov.start();
        }

        private void configure(String name, ServiceConfig cfg, ChildSpec spec) {
            RestartPolicy p = switch (spec.mode()) {
                case NEVER -> RestartPolicy.never();
                case ALWAYS -> RestartPolicy.always(spec.delay());
                case ON_FAILURE -> RestartPolicy.onFailure(spec.delay());
            };
            if (spec.limit() > 0) {
                p = p.withLimit(spec.limit(), spec.limitWindow());
            }
            cfg.restartPolicy(p).significant(spec.significant());
            configs.put(name, cfg);
        }

        private void runPuppet(ServiceCtx ctx) {
            String name = ctx.name().substring("s/".length());
            Handle h = new Handle(Thread.currentThread(), new LinkedBlockingQueue<>());
            synchronized (runs) {
                runs.put(name + "#" + ctx.attempt(), h);
                runs.notifyAll();
            }
            End how;
            try {
                how = h.commands().take();
            } catch (InterruptedException stopped) {
                return;
            }
            switch (how) {
                case COMPLETE -> {}
                case FAIL -> throw new PuppetFailure(ctx.name() + " told to fail");
                case STOP_SERVICE -> throw new StopService("told to stop");
            }
        }

        void end(String name, int attempt, End how) throws InterruptedException {
            String key = name + "#" + attempt;
            Handle h;
            long deadline = System.nanoTime() + WAIT.toNanos();
            synchronized (runs) {
                while ((h = runs.remove(key)) == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("run " + key + " did not begin within " + WAIT);
                    }
                    runs.wait(Math.max(1, left / 1_000_000));
                }
            }
            h.commands().add(how);
            if (!h.thread().join(WAIT)) {
                throw new AssertionError("run " + key + " did not end within " + WAIT);
            }
        }

        void advance(Duration by) {
            clock.advance(by);
        }

        void add(String name, ChildSpec spec) {
            ServiceConfig cfg = sup.add(name, puppet);
            configure(name, cfg, spec);
            cfg.start();
        }

        /**
         * Waits until the runtime has done all that the last step causes, so that one comparison
         * suffices. A start() of an already started child is a message to its supervisor's loop that
         * does nothing and returns once every event before it was delivered: two through s's loop
         * (a message may post another: a restart with no delay), one through the root's. When the
         * model says s has ended, its end reaches the root's loop from s's thread: wait for it.
         */
        void settle(SupervisionModel model) {
            ServiceConfig any = configs.values().stream().findFirst().orElse(null);
            if (any != null) { // with every child removed, nothing happens in s's loop but the calls
                any.start();
                any.start();
            }
            keeper.start();
            if (!model.supRunning()) {
                await().atMost(WAIT)
                        .pollInterval(Duration.ofMillis(1))
                        .alias("s ended, as the model says")
                        .until(() -> gov.service("s")
                                .map(i -> i.state().isTerminal())
                                .orElse(false));
                keeper.start();
            }
        }

        Map<String, List<String>> observed() {
            Map<String, List<String>> out = new LinkedHashMap<>();
            List<GovernorEvent> copy;
            synchronized (events) {
                copy = List.copyOf(events);
            }
            for (GovernorEvent e : copy) {
                String path = e.service();
                if (!(path.equals("s") || path.startsWith("s/"))) {
                    continue;
                }
                String text = switch (e) {
                    case GovernorEvent.Started s -> "Started " + s.attempt();
                    case GovernorEvent.Ready r -> path.equals("s") ? null : "Ready";
                    case GovernorEvent.Restarting r -> "Restarting " + r.delay();
                    case GovernorEvent.Escalated x -> "Escalated " + x.restarts() + " " + x.window() + " " + x.child();
                    default -> e.getClass().getSimpleName();
                };
                if (text != null) {
                    out.computeIfAbsent(path, p -> new ArrayList<>()).add(text);
                }
            }
            return out;
        }

        Map<String, ServiceState> states() {
            Map<String, ServiceState> out = new HashMap<>();
            for (ServiceInfo i : gov.services()) {
                if (i.name().equals("s") || i.name().startsWith("s/")) {
                    out.put(i.name(), i.state());
                }
            }
            return out;
        }

        void expect(SupervisionModel model, String when) {
            Map<String, List<String>> expected = model.events;
            Map<String, ServiceState> expectedStates = model.states();
            Map<String, List<String>> actual = observed();
            if (!actual.equals(expected) || !states().equals(expectedStates)) {
                throw new AssertionError(
                        "after " + when + ":\n  model events   " + expected + "\n  runtime events " + actual
                                + "\n  model states   " + new java.util.TreeMap<>(expectedStates)
                                + "\n  runtime states " + new java.util.TreeMap<>(states()));
            }
        }

        @Override
        public void close() {
            gov.shutdown();
        }
    }
}
