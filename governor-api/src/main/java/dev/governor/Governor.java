package dev.governor;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The root supervisor (strategy {@link Strategy#ONE_FOR_ONE}, name {@code ""}) and the process
 * around it: signals, ordered shutdown, readiness.
 *
 * <pre>{@code
 * Governor gov = Governor.create();
 * gov.restart(Duration.ofSeconds(1));
 * gov.add("http", new HttpFrontend(8080));
 * System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 * <ol>
 *   <li><b>Configuring</b>: {@code add}, policies, listeners, {@code catchSignals}.
 *   <li><b>Running</b>, from {@link #start()}: every child added so far starts in order; children
 *       added later start at {@link ServiceConfig#start()}. {@link #isReady()} turns true once every
 *       started service is ready (a {@code Ready} event for {@code ""}).
 *   <li><b>Shutting down</b>, from the first of: {@link #shutdown()}, INT/TERM (after
 *       {@code catchSignals}), an escalation at the root, a fatal error, or the natural end (every
 *       service has ended for good). Readiness drops at once, {@link #globalContext()} is cancelled,
 *       a {@code ShutdownRequested} event is published; after the drain delay, services stop in the
 *       reverse of start order, each within its timeout, the whole within {@link #shutdownTimeout}.
 *       {@code add} now throws {@link IllegalStateException}.
 *   <li><b>Stopped</b>: every event delivered, {@link #waitForShutdown()} returns the
 *       {@link ShutdownReport}, no governor thread keeps the JVM alive. Terminal.
 * </ol>
 *
 * <p><b>The natural end</b> is judged on services, not supervisors: once at least one service has
 * run and no service anywhere in the tree is running, waiting to start or waiting to restart (nor
 * a supervisor waiting to start or restart), the governor shuts down by itself. Nested
 * supervisors stay up when their children have ended ({@link Supervisor#autoShutdown}) but do not
 * hold the end back. Its exit code is 0 when every service completed or stopped on purpose, the
 * escalation code (1) when any node is {@link ServiceState#FAILED}.
 *
 * <p>The governor never exits the JVM by itself except on a second INT/TERM during shutdown
 * (exit 130/143 at once); {@code main} decides, typically with the report's exit code.
 *
 * <p>All methods are thread-safe. Listener calls come from a governor thread, after every lock
 * is released, in order per listener.
 */
public interface Governor extends Supervisor, AutoCloseable {

    /** A governor with {@link GovernorOptions#defaults()}, from the runtime on the class path. */
    static Governor create() {
        return create(GovernorOptions.defaults());
    }

    /** A governor with these options: clock, scheduler, timeouts, exit codes. */
    static Governor create(GovernorOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null; use GovernorOptions.defaults()");
        }
        return Runtimes.provider().createGovernor(options);
    }

    /**
     * Handles POSIX signals: INT and TERM begin an ordered shutdown (a second one during shutdown
     * exits at once with 130 / 143); HUP runs the reload handler when one is set, else shuts down.
     * QUIT and USR2 stay the JVM's (thread dump, HotSpot). Idempotent.
     */
    Governor catchSignals();

    /** Same as {@code restartPolicy(RestartPolicy.always(after))}. */
    Governor restart(Duration after);

    /** Default policy of every service that sets none, whenever it was added. */
    @Override
    Governor restartPolicy(RestartPolicy policy);

    /**
     * OTP intensity of the root: more than {@code maxRestarts} restarts of its children within
     * {@code window} escalate at the root, which shuts the governor down with the escalation code.
     * See {@link Supervisor#intensity(int, Duration)}.
     */
    @Override
    Governor intensity(int maxRestarts, Duration window);

    /** Stops the root's children concurrently. See {@link Supervisor#parallelStop()}. */
    @Override
    Governor parallelStop();

    /**
     * Accepted for the interface and ignored: the root's end is the natural end judged on services
     * (see the class documentation), not on its significant children.
     */
    @Override
    Governor autoShutdown(AutoShutdown mode);

    /** Bound on the whole ordered shutdown; default 30 s. */
    Governor shutdownTimeout(Duration timeout);

    /** What SIGHUP (or {@link #reload()}) does. */
    Governor onReload(ReloadHandler handler);

    /**
     * What SIGHUP (or {@link #reload()}) does, for a reload that needs no governor:
     * {@code gov.onReload(() -> config.reread())}. Replaces any handler set before.
     *
     * @param action the reload; not null
     * @return this governor
     */
    default Governor onReload(ReloadAction action) {
        if (action == null) {
            throw new IllegalArgumentException("reload action must not be null");
        }
        return onReload((ReloadHandler) governor -> action.reload());
    }

    /** Adds a listener of every event of the tree. */
    Governor onEvent(GovernorListener listener);

    /** Starts every added, not yet started child; idempotent. */
    Governor start();

    /**
     * Begins an ordered shutdown and blocks until the tree has stopped. Idempotent; concurrent
     * callers all wait. Called from inside a service of this governor, it requests the shutdown
     * and returns at once (the calling run then sees {@code ctx.stopping()}).
     */
    void shutdown();

    /** Begins an ordered shutdown for {@code reason} and returns at once. Idempotent. */
    void requestShutdown(String reason);

    /** Blocks until the tree has stopped (after a shutdown or the natural end) and returns the report. */
    ShutdownReport waitForShutdown();

    /** Waits up to {@code timeout} for readiness; false if it did not come (or shutdown began). */
    boolean awaitReady(Duration timeout) throws InterruptedException;

    /** True while every started service is ready and shutdown has not begun. */
    boolean isReady();

    /**
     * Reloads now, on the calling thread (what SIGHUP, the control socket's {@code reload} and
     * {@code governorctl reload} do): runs the reload handler if one is set, then rebuilds every
     * reloadable node ({@link Supervisor#addReloadable}) one after the other, each as a new
     * generation started beside the current one (or after it, with {@link Supervisor#syncReload()}).
     * Reloads are serialized: a second caller waits for the first to finish.
     *
     * @return true if everything succeeded; false if the handler threw or any generation was refused
     *     (its builder threw, it failed or was not ready within the reload timeout): logged, published
     *     as {@link GovernorEvent.ReloadRefused}, and the current generation keeps serving, untouched
     * @throws IllegalStateException if there is nothing to reload (no handler, no reloadable node), or
     *     once shutdown has begun
     */
    boolean reload();

    /** For the reloadable children of the root: a reload stops the old generation, then starts the new one. */
    @Override
    Governor syncReload();

    /** How long a reload waits for a new generation to become ready before refusing it; default 30 s. */
    Governor reloadTimeout(Duration timeout);

    /** The sockets this process owns, by name; see {@link Listeners}. */
    Listeners listeners();

    /** A context cancelled when shutdown begins. */
    ServiceCtx globalContext();

    /** Sleeps on the governor's clock; true if cancelled by shutdown. */
    boolean sleep(Duration duration);

    /** True once shutdown has begun. */
    boolean stopping();

    /** Snapshot of the whole tree, depth first, siblings in start order; the root is not listed. */
    List<ServiceInfo> services();

    /** The node at {@code path} (as in {@link ServiceCtx#name()}, e.g. {@code "db/pool"}). */
    Optional<ServiceInfo> service(String path);

    /** The options this governor was created with. */
    GovernorOptions options();

    /**
     * Replaces this process with a new one without refusing a connection (what SIGUSR1, the control
     * socket's {@code upgrade} and {@code governorctl upgrade} do): starts the new process (by default
     * this one's command line), hands it every socket of {@code listeners()} over a private unix socket
     * with {@code SCM_RIGHTS}, waits until it is ready, then begins this process's ordered shutdown
     * (drain, exit 0). Blocks until the outcome is known, at most {@code options.readyTimeout()}.
     * Refused while another upgrade or a shutdown is under way. A new process that exits, refuses the
     * sockets or is not ready in time is killed by pid, and this process keeps serving.
     *
     * @return the outcome; never throws for a failed upgrade
     */
    UpgradeResult upgrade(UpgradeOptions options);

    /** Same as {@link #shutdown()}. */
    @Override
    void close();
}
