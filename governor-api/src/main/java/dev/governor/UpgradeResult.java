package dev.governor;

/**
 * The outcome of {@link Governor#upgrade(UpgradeOptions)}.
 *
 * @param succeeded true when the new process is ready and serving (this one now drains and exits)
 * @param newPid    the new process's pid; -1 when none was started (the upgrade was refused)
 * @param reason    one sentence: what happened; for a failure, why, followed by the new process's
 *                  last lines of output when it wrote any
 */
public record UpgradeResult(boolean succeeded, long newPid, String reason) {
    @Override
    public String toString() {
        return (succeeded
                        ? "upgraded to pid " + newPid
                        : "upgrade failed" + (newPid > 0 ? " (pid " + newPid + ")" : ""))
                + ": " + reason;
    }
}
