package dev.governor.test;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Polls a condition until it holds or a bound passes: the waits of the test kit. (The kit used
 * awaitility for this; awaitility ships no module name, and a published module must not require
 * one derived from a jar's file name.)
 */
final class Waits {
    private Waits() {}

    /** True once {@code condition} holds, false if it still does not after {@code bound}. */
    static boolean until(Duration bound, Duration every, BooleanSupplier condition) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting", e);
            }
        }
        return true;
    }

    /** Waits for {@code condition}; after {@code bound}, fails naming {@code what} (read at that moment). */
    static void orFail(Duration bound, Duration every, Supplier<String> what, BooleanSupplier condition) {
        if (!until(bound, every, condition)) {
            throw new AssertionError("waited " + bound + " for " + what.get());
        }
    }
}
