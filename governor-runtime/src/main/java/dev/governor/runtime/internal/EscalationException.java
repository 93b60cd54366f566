package dev.governor.runtime.internal;

import java.io.Serial;

/** Thrown by a supervisor's run when a restart limit or its intensity is exceeded: its parent sees a failure. */
public final class EscalationException extends RuntimeException {
    @Serial private static final long serialVersionUID = 1L;

    EscalationException(String message) {
        super(message, null, false, false);
    }
}
