package dev.governor.runtime.internal;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Formats what user code hands back (exceptions, their messages and causes, {@code toString()})
 * without trusting it: any of these may throw, recurse or return null. Used by every log line,
 * event and answer that shows user objects. Nothing here throws, not even an error the user's
 * code threw while being formatted. Not part of the API.
 */
public final class Untrusted {
    private static final int MAX_CHAIN = 16;

    private Untrusted() {}

    /** {@code o.toString()}, or a stand-in naming its class and what the call threw. */
    public static String toString(Object o) {
        if (o == null) {
            return "null";
        }
        try {
            String s = o.toString();
            return s == null ? className(o) + "@(toString() returned null)" : s;
        } catch (Throwable t) {
            return className(o) + "@(toString() threw " + className(t) + ")";
        }
    }

    /** {@code "Class: message"} (or the class alone), the way the control socket and status page show a failure. */
    public static String describe(Throwable t) {
        if (t == null) {
            return "null";
        }
        String message = message(t);
        return message == null ? className(t) : className(t) + ": " + message;
    }

    /** {@code t.getMessage()}, or a stand-in saying what the call threw. */
    public static String message(Throwable t) {
        try {
            return t.getMessage();
        } catch (Throwable e) {
            return "(getMessage() threw " + className(e) + ")";
        }
    }

    /**
     * {@code t} itself when a logger can print it safely ({@code toString()}, messages and stack
     * traces of it and its causes answer), else a stand-in with the same class name, message and
     * stack trace as far as they could be read.
     */
    public static Throwable loggable(Throwable t) {
        // Every caller hands the result to the governor's logger at WARN or ERROR: when that is off,
        // nothing will print t, and checking it (which materializes every stack trace of the chain)
        // is work for nobody, once per failure of a service restarted in a tight loop.
        if (t == null || !Tree.LOG.isWarnEnabled() || printable(t)) {
            return t;
        }
        return standIn(t, 0);
    }

    private static boolean printable(Throwable t) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable c = t; c != null && seen.size() < MAX_CHAIN; ) {
            if (seen.put(c, true) != null) {
                return true;
            }
            try {
                c.toString();
                c.getLocalizedMessage();
                c.getStackTrace();
                for (Throwable s : c.getSuppressed()) {
                    if (!printable(s)) {
                        return false;
                    }
                }
                c = c.getCause();
            } catch (Throwable e) {
                return false;
            }
        }
        return true;
    }

    private static Throwable standIn(Throwable t, int depth) {
        Throwable cause = null;
        if (depth < MAX_CHAIN) {
            try {
                Throwable c = t.getCause();
                cause = c == null || c == t ? null : standIn(c, depth + 1);
            } catch (Throwable e) {
            }
        }
        StandIn s = new StandIn(describe(t), cause);
        try {
            s.setStackTrace(t.getStackTrace());
        } catch (Throwable e) {
            s.setStackTrace(new StackTraceElement[0]);
        }
        return s;
    }

    private static String className(Object o) {
        return o.getClass().getName();
    }

    /** A printable copy of an exception whose own methods threw. */
    static final class StandIn extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StandIn(String description, Throwable cause) {
            super(description + " (printed by the governor: the original's methods threw)", cause, false, true);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }
}
