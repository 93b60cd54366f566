package dev.governor.runtime.systemd;

import dev.governor.GovernorOptions;
import dev.governor.Scheduler;
import dev.governor.ShutdownReport;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.LifecycleListener;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One governor's side of the conversation with systemd; see {@link SystemdExtension} for what is sent when. */
final class SystemdNotifier implements LifecycleListener {
    /** How an upgrade's shutdown reason begins (see {@code dev.governor.runtime.upgrade.Upgrader}). */
    static final String UPGRADE_REASON = "upgrade: handed over to pid ";

    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    static final Duration EXTEND_SLACK = Duration.ofSeconds(5);
    private static final Duration EXTEND_EVERY = Duration.ofSeconds(1);

    private final GovernorHooks hooks;
    private final SdNotify notify;
    private final GovernorOptions options;
    private final Scheduler scheduler;
    private final Duration watchdogEvery;
    private final long mainPid;
    private final AtomicLong pings = new AtomicLong();
    private final AtomicLong withheld = new AtomicLong();
    private volatile boolean stopping;
    private volatile boolean stopped;
    private volatile boolean withholding;
    private volatile Instant lastExtend = Instant.MIN;
    private volatile Scheduler.Cancellable nextTick;
    private Instant nextDue; // the scheduler's thread only, after startWatchdog

    /**
     * @param watchdogEvery the ping period, null for no watchdog
     * @param mainPid       the pid to announce with {@code MAINPID=} on readiness, 0 for none
     */
    SystemdNotifier(
            GovernorHooks hooks, SdNotify notify, GovernorOptions options, Duration watchdogEvery, long mainPid) {
        this.hooks = hooks;
        this.notify = notify;
        this.options = options;
        this.scheduler = options.scheduler();
        this.watchdogEvery = watchdogEvery;
        this.mainPid = mainPid;
    }

    void startWatchdog() {
        if (watchdogEvery != null) {
            nextDue = options.clock().instant();
            scheduleNext();
        }
    }

    /**
     * At a fixed rate from the first tick, so a late tick does not push every later one back; after a
     * pause longer than a period the missed ticks are skipped, not sent in a burst.
     */
    private void scheduleNext() {
        Instant now = options.clock().instant();
        nextDue = nextDue.plus(watchdogEvery);
        if (!nextDue.isAfter(now)) {
            nextDue = now.plus(watchdogEvery);
        }
        nextTick = scheduler.schedule(Duration.between(now, nextDue), this::tick);
    }

    /** One watchdog period: ping if healthy, withhold if not, and schedule the next. */
    private void tick() {
        if (stopped) {
            return;
        }
        try {
            if (hooks.healthy()) {
                notify.watchdog();
                pings.incrementAndGet();
                if (withholding) {
                    withholding = false;
                    log.info("the tree is healthy again: WATCHDOG=1 resumes");
                }
            } else {
                withheld.incrementAndGet();
                if (!withholding) {
                    withholding = true;
                    log.warn(
                            "the tree is unhealthy ({}): WATCHDOG=1 withheld, so systemd restarts this service"
                                    + " when WatchdogSec= passes",
                            hooks.statusLine());
                }
            }
        } finally {
            if (!stopped) {
                scheduleNext();
            }
        }
    }

    @Override
    public void ready() {
        if (stopping) {
            return;
        }
        notify.send("READY=1\nSTATUS=" + hooks.statusLine() + (mainPid > 0 ? "\nMAINPID=" + mainPid : ""));
    }

    @Override
    public void statusChanged(String statusLine) {
        if (stopped) {
            return; // a count change delivered after the end must not overwrite the final status
        }
        notify.status(stopping ? "stopping: " + statusLine : statusLine);
    }

    @Override
    public void shutdownBegan(String reason) {
        stopping = true;
        Duration bound = options.drainDelay().plus(options.shutdownTimeout()).plus(EXTEND_SLACK);
        lastExtend = options.clock().instant();
        if (reason.startsWith(UPGRADE_REASON)) {
            // MAINPID is the new process now: STOPPING=1 from here would stop the service it serves
            notify.status("draining: " + reason.replace('\n', ' '));
            return;
        }
        notify.send("STOPPING=1\nSTATUS=stopping: " + reason.replace('\n', ' ') + "\nEXTEND_TIMEOUT_USEC="
                + SdNotify.micros(bound));
    }

    @Override
    public void shutdownProgress(String service) {
        Instant now = options.clock().instant();
        if (Duration.between(lastExtend, now).compareTo(EXTEND_EVERY) >= 0) {
            lastExtend = now;
            notify.extendTimeout(options.shutdownTimeout().plus(EXTEND_SLACK));
        }
    }

    @Override
    public void reloadBegan() {
        notify.reloading();
    }

    @Override
    public void reloadEnded(boolean ok) {
        notify.send("READY=1\nSTATUS=" + (ok ? "reloaded: " : "reload failed, previous services kept: ")
                + hooks.statusLine());
    }

    @Override
    public void reloadEnded(boolean ok, String error) {
        if (ok || error == null) {
            reloadEnded(ok);
        } else { // STATUS is one line: the error names the node and the cause
            notify.send("READY=1\nSTATUS=reload refused, previous generation kept: " + error.replace('\n', ' ') + " ("
                    + hooks.statusLine() + ")");
        }
    }

    @Override
    public void stopped(ShutdownReport report) {
        stopped = true;
        Scheduler.Cancellable tick = nextTick;
        if (tick != null) {
            tick.cancel();
        }
        notify.status("stopped, exit code " + report.exitCode()
                + (report.unstopped().isEmpty() ? "" : ", unstopped: " + String.join(", ", report.unstopped())));
    }

    @Override
    public String toString() {
        return "SystemdNotifier[" + notify + ", watchdog="
                + (watchdogEvery == null ? "off" : watchdogEvery.toMillis() + "ms") + ", pings=" + pings + ", withheld="
                + withheld + (stopped ? ", stopped" : stopping ? ", stopping" : "") + "]";
    }
}
