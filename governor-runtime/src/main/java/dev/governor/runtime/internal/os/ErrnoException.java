package dev.governor.runtime.internal.os;

import java.io.IOException;

/**
 * A libc call that failed: the call with its arguments, {@code errno}, and libc's words for it, as
 * in {@code "dup2(5, 1) failed: Bad file descriptor (errno 9)"}. The one error of {@link Libc}.
 */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    ErrnoException(String call, int errno) {
        super(call + " failed: " + Libc.strerror(errno) + " (errno " + errno + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call as the message names it, e.g. {@code "dup2(5, 1)"}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    /** The message alone: it names the call, the reason and the errno. */
    @Override
    public String toString() {
        return getMessage();
    }
}
