package dev.governor.runtime.systemd;

import dev.governor.GovernorOptions;
import dev.governor.runtime.GovernorExtension;
import dev.governor.runtime.GovernorHooks;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every governor speak to systemd by itself, with no code from the user: installed through
 * {@code META-INF/services/dev.governor.runtime.GovernorExtension} and active when
 * {@code NOTIFY_SOCKET} is set and {@link GovernorOptions#systemd()} is true (the default).
 *
 * <table>
 * <caption>What is sent when</caption>
 * <tr><th>moment</th><th>message</th></tr>
 * <tr><td>the tree is ready (again)</td><td>{@code READY=1}, {@code STATUS=<counts>} (and {@code MAINPID}
 *     when this is not the process systemd started, i.e. {@code SYSTEMD_EXEC_PID} names another)</td></tr>
 * <tr><td>the counts per state change</td><td>{@code STATUS=5 running, 1 restarting}</td></tr>
 * <tr><td>a reload begins / ends</td><td>{@code RELOADING=1}, {@code MONOTONIC_USEC=…} / {@code READY=1}, {@code STATUS=…}</td></tr>
 * <tr><td>shutdown begins</td><td>{@code STOPPING=1}, {@code STATUS=stopping: <reason>},
 *     {@code EXTEND_TIMEOUT_USEC=<drain + shutdown timeout + 5 s>}</td></tr>
 * <tr><td>a service stopped during shutdown</td><td>{@code EXTEND_TIMEOUT_USEC=<shutdown timeout + 5 s>},
 *     at most once a second: the shutdown is making progress</td></tr>
 * <tr><td>every {@code WATCHDOG_USEC / 2}</td><td>{@code WATCHDOG=1} while {@link GovernorHooks#healthy()};
 *     withheld while not (a FAILED service, an escalation, a stalled supervisor loop), so systemd
 *     restarts a wedged process. Only when {@code WATCHDOG_PID} is unset or this process.</td></tr>
 * </table>
 *
 * The watchdog runs on the governor's {@link GovernorOptions#scheduler()}; it keeps pinging through
 * the shutdown and ends when the tree has stopped. Socket activation's environment is read (and
 * removed) at install, so inherited descriptors are marked close-on-exec before any service runs.
 */
public final class SystemdExtension implements GovernorExtension {
    private static final Logger log = LoggerFactory.getLogger(SystemdExtension.class);
    /** The shortest ping interval: a WATCHDOG_USEC of a few µs would otherwise send thousands of datagrams a second. */
    static final Duration MIN_WATCHDOG_PING = Duration.ofMillis(50);

    private final Map<String, String> env;
    private final SdNotify notify;
    private final boolean processEnvironment;

    /** The extension for this process's environment (what {@link java.util.ServiceLoader} makes). */
    public SystemdExtension() {
        this(System.getenv(), null, true);
    }

    /** For tests: the extension for {@code env}, sending with {@code notify}. */
    SystemdExtension(Map<String, String> env, SdNotify notify) {
        this(env, notify, false);
    }

    private SystemdExtension(Map<String, String> env, SdNotify notify, boolean processEnvironment) {
        this.env = Map.copyOf(env);
        this.notify = notify;
        this.processEnvironment = processEnvironment;
    }

    @Override
    public void install(GovernorHooks hooks) {
        GovernorOptions options = hooks.governor().options();
        if (!options.systemd()) {
            log.debug("systemd integration is off (GovernorOptions.systemd(false))");
            return;
        }
        if (processEnvironment
                && (env.containsKey("LISTEN_FDS")
                        || env.containsKey("LISTEN_PID")
                        || env.containsKey("LISTEN_FDNAMES"))) {
            SocketActivation.fromEnvironment(); // nothing inherited: read on first use instead, off the start path
        }
        SdNotify client = notify != null ? notify : SdNotify.fromEnvironment();
        if (!client.enabled()) {
            return;
        }
        long pid = ProcessHandle.current().pid();
        Optional<Duration> watchdog = watchdogInterval(env, pid);
        boolean sendMainPid = Optional.ofNullable(env.get("SYSTEMD_EXEC_PID"))
                .map(p -> !p.trim().equals(Long.toString(pid)))
                .orElse(false);
        SystemdNotifier notifier =
                new SystemdNotifier(hooks, client, options, watchdog.orElse(null), sendMainPid ? pid : 0);
        hooks.addLifecycleListener(notifier);
        notifier.startWatchdog();
        log.info(
                "notifying systemd at NOTIFY_SOCKET={}{}",
                client.socket(),
                watchdog.map(w -> ", WATCHDOG=1 every " + w.toMillis() + " ms while healthy")
                        .orElse(""));
    }

    /**
     * Half of {@code WATCHDOG_USEC} when the watchdog applies to {@code pid}, as sd_watchdog_enabled(3)
     * decides; a malformed value is logged and disables the watchdog.
     */
    static Optional<Duration> watchdogInterval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null) {
            return Optional.empty();
        }
        String watchdogPid = env.get("WATCHDOG_PID");
        if (watchdogPid != null) {
            try {
                long p = Long.parseLong(watchdogPid.trim());
                if (p != pid) {
                    log.info(
                            "WATCHDOG_PID={} is another process (this is pid {}): no watchdog pings from here",
                            watchdogPid,
                            pid);
                    return Optional.empty();
                }
            } catch (NumberFormatException e) {
                log.warn(
                        "WATCHDOG_PID={} is not a number: no watchdog pings (systemd may restart this service)",
                        watchdogPid);
                return Optional.empty();
            }
        }
        try {
            long micros = Long.parseLong(usec.trim());
            if (micros <= 0) {
                log.warn("WATCHDOG_USEC={} must be positive: no watchdog pings", usec);
                return Optional.empty();
            }
            Duration half = Duration.of(micros, ChronoUnit.MICROS).dividedBy(2); // no overflow, even at Long.MAX_VALUE
            if (half.compareTo(MIN_WATCHDOG_PING) < 0) {
                log.warn(
                        "WATCHDOG_USEC={} asks for a ping every {} µs: pinging every {} ms instead (faster would flood systemd;"
                                + " raise WatchdogSec=)",
                        usec,
                        half.toNanos() / 1_000,
                        MIN_WATCHDOG_PING.toMillis());
                return Optional.of(MIN_WATCHDOG_PING);
            }
            return Optional.of(half);
        } catch (NumberFormatException e) {
            log.warn("WATCHDOG_USEC={} is not a number: no watchdog pings (systemd may restart this service)", usec);
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "SystemdExtension[" + (notify != null ? notify : SdNotify.fromEnvironment()) + "]";
    }
}
