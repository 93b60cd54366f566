package dev.governor.runtime.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The JVM-wide POSIX signal handlers, installed once, dispatching to every governor that called
 * {@code catchSignals()}. INT, TERM, HUP and USR1 (upgrade) are ours; QUIT (thread dump) and USR2 (HotSpot) stay
 * the JVM's. A Java TERM handler replaces the JVM's own, so when no governor is left a signal
 * ends the process with the conventional code, as the JVM would.
 */
final class Signals {
    private static final Logger LOG = LoggerFactory.getLogger("dev.governor");
    private static final List<GovernorImpl> GOVERNORS = new CopyOnWriteArrayList<>();
    private static final String[] HANDLED = {"INT", "TERM", "HUP", "USR1"};
    /** A repeat of the same signal within this window is the same request, not an escalation. */
    static final long SAME_REQUEST_NANOS = 500_000_000L;
    private static boolean installed;

    private Signals() {}

    static synchronized void register(GovernorImpl governor) {
        GOVERNORS.add(governor);
        if (installed) {
            return;
        }
        for (String name : HANDLED) {
            try {
                Signal.handle(new Signal(name), Signals::handle);
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{} in this JVM: {}", name, e.getMessage());
            }
        }
        installed = true;
        LOG.debug("handling SIGINT, SIGTERM, SIGHUP, SIGUSR1; SIGQUIT and SIGUSR2 stay the JVM's");
    }

    static void unregister(GovernorImpl governor) {
        GOVERNORS.remove(governor);
    }

    private static void handle(Signal signal) {
        List<GovernorImpl> live = GOVERNORS.stream().filter(g -> !g.terminatedAlready()).toList();
        if (live.isEmpty()) {
            int code = 128 + signal.getNumber();
            LOG.info("SIG{} with no running governor: exiting with {}", signal.getName(), code);
            System.exit(code);
            return;
        }
        LOG.info("received SIG{}", signal.getName());
        for (GovernorImpl g : live) {
            g.onSignal(signal.getName(), signal.getNumber());
        }
    }
}
