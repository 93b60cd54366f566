package dev.governor;

import java.io.Serial;
import java.time.Duration;

/**
 * Why a supervisor gave up: the cause of the {@code Failed} event of a supervisor whose
 * intensity, or one of whose children's restart limit, was exceeded, and of the
 * {@link ShutdownReport#fatalCause()} of an escalation at the root. It records no stack trace:
 * the message says what happened.
 */
public final class EscalationException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String supervisor;
    private final String child;
    private final int restarts;
    private final transient Duration window;

    /**
     * @param message what was exceeded, for the log
     * @param supervisor path of the supervisor that gave up ({@code ""} for the root)
     * @param child path of the child whose restart tipped it
     * @param restarts the restarts already made within {@code window}
     * @param window the sliding window of the limit that was exceeded
     */
    public EscalationException(String message, String supervisor, String child, int restarts, Duration window) {
        super(message, null, false, false);
        this.supervisor = supervisor;
        this.child = child;
        this.restarts = restarts;
        this.window = window;
    }

    /** Path of the supervisor that gave up; {@code ""} for the root. */
    public String supervisor() {
        return supervisor;
    }

    /** Path of the child whose restart would have exceeded the limit. */
    public String child() {
        return child;
    }

    /** Restarts already made within {@link #window()} when it gave up. */
    public int restarts() {
        return restarts;
    }

    /** The window of the limit that was exceeded. */
    public Duration window() {
        return window;
    }
}
