package dev.governor;

import java.time.Duration;

/**
 * A node of the tree that supervises children. A Supervisor is itself a {@link Service}: nest one
 * by adding it to another ({@code parent.add("db", Supervisor.create(Strategy.REST_FOR_ONE))}),
 * which also gives it its own restart policy, timeout and dependencies within its parent.
 *
 * <p>Its {@code run()} is the loop that alone owns its children: every change to them (start,
 * exit, restart, stop, add, remove) is a message handled by that loop, one at a time. It returns
 * after stopping its children, in reverse start order, when its context is cancelled or (with
 * {@link #autoShutdown}) when its significant children have ended, and throws an
 * {@link EscalationException} when its intensity or a child's limit is exceeded (escalation to its
 * parent). It stays up when its children have ended, by default. A restarted supervisor starts all
 * its children anew, their attempts back at 0, except a child whose previous run would not stop:
 * that one starts once that run ends. An instance can be added only once.
 *
 * <p>Children start in the order added, adjusted so that each starts after its
 * {@link ServiceConfig#dependsOn} targets are ready; they stop in the reverse of that order. A
 * supervisor is ready when all its running children are ready, except those added with
 * {@link ServiceConfig#excludeFromReadiness()}.
 *
 * <p>Methods may be called from any thread, before or while the supervisor runs. The blocking
 * ones ({@code stopChild}, {@code restartChild}, {@code removeChild}) wait for the loop to finish
 * the work; called before the supervisor runs they act at once.
 */
public interface Supervisor extends Service {

    /** A new supervisor with {@code strategy}, from the runtime on the class path. */
    static Supervisor create(Strategy strategy) {
        if (strategy == null) {
            throw new IllegalArgumentException(
                    "strategy must not be null; one of ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE");
        }
        return Runtimes.provider().createSupervisor(strategy);
    }

    /** Path from the root, e.g. {@code "db/pool"}; the root's is {@code ""}. */
    String name();

    /** This supervisor's strategy. */
    Strategy strategy();

    /**
     * Adds a child. The name must be non-blank, without {@code '/'}, and unique among the
     * siblings. When the supervisor already runs, the child starts at {@link ServiceConfig#start()}.
     *
     * @throws IllegalArgumentException for a bad or duplicate name, a null service, a supervisor
     *     instance already added elsewhere, or a {@link Governor}
     * @throws IllegalStateException once shutdown has begun
     */
    ServiceConfig add(String name, Service service);

    /** Default policy for the children that set none, whenever they were added. */
    Supervisor restartPolicy(RestartPolicy policy);

    /**
     * OTP intensity: more than {@code maxRestarts} restarts of its children within {@code window}
     * and this supervisor stops its children and fails, escalating to its parent. Unlimited by default.
     * {@code intensity(0, window)} allows no restart at all: the first restart a child would need
     * escalates at once (OTP's {@code intensity => 0}).
     */
    Supervisor intensity(int maxRestarts, Duration window);

    /** Stop children concurrently instead of one by one (pools of like workers). */
    Supervisor parallelStop();

    /**
     * Adds a reloadable child: a supervisor (strategy {@link Strategy#ONE_FOR_ONE}) whose children
     * are built by {@code builder}: generation 1 now, and a new generation on every reload
     * ({@link Governor#reload()}, SIGHUP, the control socket's {@code reload}). A reload builds
     * generation n+1, starts it beside generation n, waits until it is ready (the governor's
     * {@link Governor#reloadTimeout reload timeout}), then stops generation n in reverse order, each
     * service with its drain ({@link ServiceConfig#drainTimeout}). A builder that throws, or a
     * generation that fails or is not ready in time, is refused and generation n keeps serving,
     * untouched. The current generation's paths stay {@code name/child} across reloads; an outgoing
     * one is listed as {@code name~n/child} while it stops, then removed. The returned config
     * (restart policy, timeouts, dependencies) applies to every generation.
     *
     * @throws IllegalArgumentException for a bad or duplicate name, or a null builder
     * @throws IllegalStateException if the builder refuses generation 1 (its exception is the cause)
     */
    ServiceConfig addReloadable(String name, GenerationBuilder builder);

    /**
     * For this node's reloadable children: a reload stops generation n first, then starts n+1 (for
     * services that cannot run twice at once, e.g. holding an exclusive lock). Connections on
     * governor-owned listeners wait in the backlog meanwhile. A refused generation n+1 then means
     * generation n is started again.
     */
    Supervisor syncReload();

    /**
     * OTP's {@code auto_shutdown}: whether this supervisor ends by itself when its
     * {@link ServiceConfig#significant significant} children end. Default {@link AutoShutdown#NEVER}:
     * a nested supervisor stays up when its children have ended (a stopped child can be restarted
     * with {@link #restartChild}, new ones added). The root ignores it: the governor's natural end
     * is judged on services (see {@link Governor}).
     */
    Supervisor autoShutdown(AutoShutdown mode);

    /**
     * Stops one child for good (no restart); blocks until it stopped or its timeout ran out.
     *
     * @throws IllegalArgumentException if no child has that name
     */
    void stopChild(String name);

    /** Stops then starts one child now; its attempt grows by one. */
    void restartChild(String name);

    /** Stops one child and forgets it; its name may be added again. */
    void removeChild(String name);
}
