package dev.governor.runtime.handover;

import java.io.IOException;

/** A handover that did not happen, with the reason in words an operator can act on. */
public final class HandoverException extends IOException {
    private static final long serialVersionUID = 1L;

    public HandoverException(String message) {
        super(message);
    }

    public HandoverException(String message, Throwable cause) {
        super(message, cause);
    }
}
