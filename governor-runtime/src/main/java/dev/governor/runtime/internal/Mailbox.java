package dev.governor.runtime.internal;

import java.util.Collection;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A supervisor loop's mailbox: many senders, one taker (the loop's thread). Lock-free: a sender
 * appends and unparks the taker only when it is about to park; the taker parks only when it
 * found nothing after saying so. With both steps on volatile state (the taker writes
 * {@code taker} then polls; a sender offers then reads {@code taker}), one of the two always sees
 * the other, so no message is left waiting. A run's end wakes its loop with one unpark, without
 * the lock and condition queue of a blocking queue.
 */
final class Mailbox {
    private final ConcurrentLinkedQueue<Msg> queue = new ConcurrentLinkedQueue<>();
    private volatile Thread taker;

    void add(Msg m) {
        queue.offer(m);
        Thread t = taker;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Appends {@code m} without waking the taker: it is handled once the loop wakes for another
     * message or a {@link #wake()} (a chain's report left to its batch or its sweep: Handoff).
     */
    void addQuietly(Msg m) {
        queue.offer(m);
    }

    /** Wakes the taker if it waits while messages are queued. */
    void wake() {
        Thread t = taker;
        if (t != null && !queue.isEmpty()) {
            LockSupport.unpark(t);
        }
    }

    /** The next message without taking it, or null; only the loop's thread calls it. */
    Msg peek() {
        return queue.peek();
    }

    /** Takes the message {@link #peek()} returned; only the loop's thread calls it. */
    void skip() {
        queue.poll();
    }

    /** The next message, waiting for one; only the loop's thread calls it. */
    Msg take() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("supervisor loop interrupted");
        }
        Msg m = queue.poll();
        if (m != null) {
            return m;
        }
        taker = Thread.currentThread();
        try {
            while ((m = queue.poll()) == null) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    throw new InterruptedException("supervisor loop interrupted");
                }
            }
            return m;
        } finally {
            taker = null;
        }
    }

    /** Moves every message left into {@code into} (the loop has ended). */
    void drainTo(Collection<Msg> into) {
        Msg m;
        while ((m = queue.poll()) != null) {
            into.add(m);
        }
    }

    @Override
    public String toString() {
        return "Mailbox[" + (queue.isEmpty() ? "empty" : "not empty") + (taker != null ? ", waiting" : "") + "]";
    }
}
