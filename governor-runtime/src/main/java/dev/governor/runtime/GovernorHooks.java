package dev.governor.runtime;

import dev.governor.Governor;

/**
 * What the runtime exposes beyond the public {@link Governor} API, for extensions and for the
 * runtime's own public packages (metrics, HTTP probes, systemd, control socket). Obtain it with
 * {@link GovernorRuntime#hooks(Governor)}.
 */
public interface GovernorHooks {
    /** The governor these hooks belong to. */
    Governor governor();

    /**
     * Adds a listener of the governor's lifecycle. Calls come on a governor thread in the order the
     * moments happen; a listener that throws is logged and kept. Added after a moment passed, it
     * is not told of it (check {@link Governor#isReady()} and {@link Governor#stopping()}).
     */
    void addLifecycleListener(LifecycleListener listener);

    /**
     * True while the tree is healthy: no node FAILED, no escalation under way, and no running
     * supervisor loop stalled. A loop is stalled once it has been busy with one message for more
     * than 30 s, measured on the governor's clock ({@link dev.governor.GovernorOptions#clock()}):
     * a stop waiting for a child that will not end within its timeout, say, or user code the loop
     * calls that blocks. It is healthy again as soon as the loop takes up its next message. Each
     * loop stamps the start of every message; this call reads the stamps, it sends nothing. Drives
     * the systemd watchdog ({@code WATCHDOG=1} withheld while false) and {@code /healthz} (503).
     */
    boolean healthy();

    /**
     * Names of the governor's threads still alive: runs that have not returned (including ones
     * reported unstopped), supervisor loops, event delivery. Empty once the tree has stopped
     * cleanly; the test kit fails a test that leaves any.
     */
    java.util.List<String> liveThreads();

    /** Every reloadable node of the tree, depth first: its generation and its last reload. */
    default java.util.List<ReloadableStatus> reloadables() {
        return java.util.List.of();
    }

    /** Why the last reload was refused (a sentence naming the node and the cause), or null if it succeeded or none ran. */
    default String lastReloadError() {
        return null;
    }

    /** A one-line summary of the tree's counts per state, e.g. {@code "5 running, 1 restarting"}. */
    String statusLine();
}
