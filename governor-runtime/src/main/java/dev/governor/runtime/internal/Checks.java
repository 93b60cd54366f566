package dev.governor.runtime.internal;

import java.time.Duration;
import java.time.Instant;

/** Argument checks whose messages name the argument, the value and the rule. */
final class Checks {
    private Checks() {}

    static Duration notNegative(Duration d, String what) {
        if (d == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, was " + d);
        }
        return d;
    }

    static Duration positive(Duration d, String what) {
        notNegative(d, what);
        if (d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
        return d;
    }

    /** {@code at + d}, or {@link Instant#MAX} when that is past the end of time ("forever"). */
    static Instant plusSaturated(Instant at, Duration d) {
        try {
            return at.plus(d);
        } catch (java.time.DateTimeException | ArithmeticException tooFar) {
            return d.isNegative() ? Instant.MIN : Instant.MAX;
        }
    }

    static String childName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        if (name.isBlank()) {
            throw new IllegalArgumentException("name \"" + name + "\" must not be blank");
        }
        if (name.indexOf('/') >= 0) {
            throw new IllegalArgumentException("name \"" + name + "\" must not contain '/'");
        }
        return name;
    }
}
