package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of {@code sd_notify}: a unix datagram socket bound where {@code NOTIFY_SOCKET}
 * will point, recording every message with the descriptors passed along. It stands in for systemd
 * in tests, and lets a parent process (a launcher, a daemonizing parent) learn when a child is ready.
 *
 * <pre>{@code
 * try (NotifyReceiver systemd = NotifyReceiver.bind("@my-test-" + ProcessHandle.current().pid())) {
 *     // start the child with NOTIFY_SOCKET=systemd.address()
 *     systemd.await(m -> m.has("READY", "1"), Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * A {@code BARRIER=1} message has its descriptor closed at once, which is how systemd answers
 * {@code sd_notify_barrier(3)} (used by {@code systemd-notify}).
 * Messages are read by one platform daemon thread (the receive blocks in native code, which would pin
 * a virtual thread's carrier). Descriptors received are closed by {@link #close()}: {@code dup} the ones
 * you keep.
 */
public final class NotifyReceiver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NotifyReceiver.class);
    private static final int POLL_MILLIS = 100;

    /**
     * One datagram received.
     *
     * @param text          the payload, newline-separated {@code KEY=VALUE} lines
     * @param fds           descriptors passed with it (SCM_RIGHTS), owned by the receiver
     * @param receivedNanos {@link System#nanoTime()} when it was read
     */
    public record Message(String text, List<Integer> fds, long receivedNanos) {
        public Message {
            Objects.requireNonNull(text, "text");
            fds = List.copyOf(fds);
        }

        /** The assignments, in order (a key given twice keeps its last value). */
        public Map<String, String> fields() {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    fields.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return fields;
        }

        /** The value of {@code key}, if assigned. */
        public Optional<String> get(String key) {
            return Optional.ofNullable(fields().get(key));
        }

        /** Whether {@code key=value} is among the assignments. */
        public boolean has(String key, String value) {
            return value.equals(fields().get(key));
        }

        @Override
        public String toString() {
            return text.replace('\n', ' ') + (fds.isEmpty() ? "" : " fds=" + fds);
        }
    }

    private final UnixAddress address;
    private final UnixDatagram socket;
    private final List<Message> messages = new ArrayList<>();
    private final Thread reader;
    private volatile boolean closed;

    private NotifyReceiver(UnixAddress address, UnixDatagram socket) {
        this.address = address;
        this.socket = socket;
        this.reader =
                Thread.ofPlatform().daemon().name("notify-receiver " + address).start(this::read);
    }

    /**
     * Binds a receiver at {@code address}: an absolute path (which must not exist yet) or an abstract
     * {@code @name}.
     */
    public static NotifyReceiver bind(String address) throws IOException {
        UnixAddress addr;
        try {
            addr = new UnixAddress(address);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("address " + e.getMessage(), e);
        }
        UnixDatagram socket = UnixDatagram.open();
        try {
            socket.bind(addr);
            socket.receiveTimeout(POLL_MILLIS);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        return new NotifyReceiver(addr, socket);
    }

    /** The value to give a child as {@code NOTIFY_SOCKET}. */
    public String address() {
        return address.spelling();
    }

    private void read() {
        while (!closed) {
            try {
                UnixDatagram.Datagram d = socket.receive(4096, 16);
                if (d == null) {
                    continue;
                }
                List<Integer> fds = d.fds();
                if (d.text().lines().anyMatch("BARRIER=1"::equals)) {
                    // sd_notify_barrier(3): the sender waits until its pipe's write end is closed, as systemd does
                    fds.forEach(Libc::close);
                    fds = List.of();
                }
                synchronized (messages) {
                    messages.add(new Message(d.text(), fds, System.nanoTime()));
                    messages.notifyAll();
                }
            } catch (IOException e) {
                if (!closed) {
                    log.warn("notify receiver {} stops reading: {}", address, e.toString());
                }
                return;
            }
        }
    }

    /** Every message received so far, in order. */
    public List<Message> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /**
     * Waits for the first message (received at any time, also before this call) that matches.
     *
     * @throws AssertionError naming the messages seen, if none matches within {@code timeout}
     */
    public Message await(Predicate<Message> match, Duration timeout) throws InterruptedException {
        return awaitAfter(-1, match, timeout);
    }

    /** As {@link #await} but only messages at index {@code after + 1} or later count. */
    public Message awaitAfter(int after, Predicate<Message> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            int seen = Math.max(0, after + 1);
            while (true) {
                for (; seen < messages.size(); seen++) {
                    if (match.test(messages.get(seen))) {
                        return messages.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching notify message at " + address + " within " + timeout
                            + "; received: " + messages);
                }
                messages.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** The index of {@code message} in {@link #messages()}, -1 if absent. */
    public int indexOf(Message message) {
        synchronized (messages) {
            for (int i = 0; i < messages.size(); i++) {
                if (messages.get(i) == message) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** Stops reading, closes the socket and every descriptor received, and removes a path socket. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            reader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        socket.close();
        synchronized (messages) {
            messages.forEach(m -> m.fds().forEach(Libc::close));
        }
        if (!address.isAbstract()) {
            try {
                Files.deleteIfExists(Path.of(address.spelling()));
            } catch (IOException e) {
                log.debug("cannot remove {}: {}", address, e.toString());
            }
        }
    }

    @Override
    public String toString() {
        synchronized (messages) {
            return "NotifyReceiver[" + address + ", messages=" + messages.size() + (closed ? ", closed" : "") + "]";
        }
    }
}
