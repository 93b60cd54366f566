package dev.governor.runtime.internal;

import java.time.Duration;
import java.time.Instant;

/** How changes of the governor's readiness are logged; called on the thread that reports them, one at a time. */
final class ReadinessLog {
    private final Tree tree;
    private boolean everReady;
    private Instant lastReadinessLog; // when a readiness change was last logged at INFO
    private int unloggedReadinessChanges;

    ReadinessLog(Tree tree) {
        this.tree = tree;
    }

    /**
     * The first readiness, and every change at most once a second at INFO (the others at DEBUG,
     * counted in the next INFO line): a pool of workers backing off would otherwise flood the log.
     */
    void changed(boolean ready) {
        if (!ready && !everReady) {
            return; // not ready yet: nothing changed for anyone
        }
        String line =
                ready ? (everReady ? "governor ready again: {}" : "governor ready: {}") : "governor not ready: {}";
        Instant now = tree.now();
        Instant last = lastReadinessLog;
        if (last == null || Duration.between(last, now).compareTo(Duration.ofSeconds(1)) >= 0) {
            lastReadinessLog = now;
            int skipped = unloggedReadinessChanges;
            unloggedReadinessChanges = 0;
            Tree.LOG.info(
                    skipped == 0 ? line : line + " (and {} changes since the last such line, logged at DEBUG)",
                    tree.statusLine(),
                    skipped);
        } else {
            unloggedReadinessChanges++;
            Tree.LOG.debug(line, tree.statusLine());
        }
        everReady |= ready;
    }

    @Override
    public String toString() {
        return "ReadinessLog[everReady=" + everReady + ", unlogged=" + unloggedReadinessChanges + "]";
    }
}
