package dev.governor.runtime.listen;

import java.io.IOException;
import java.nio.channels.NetworkChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sockets handed over by a previous process (an upgrade), by name, for the process's governors to
 * take: the first place {@link GovernorListeners} looks. Whoever receives them (over a unix socket,
 * with {@code SCM_RIGHTS}) calls {@link #offer} before the services ask for their listeners.
 * Process-wide; thread-safe.
 */
public final class HandedOverSockets implements ListenerSource {
    private static final Logger log = LoggerFactory.getLogger(HandedOverSockets.class);
    private static final HandedOverSockets INSTANCE = new HandedOverSockets();

    private final Map<String, Integer> offered = new LinkedHashMap<>(); // guarded by this

    private HandedOverSockets() {}

    /** The process-wide instance. */
    public static HandedOverSockets instance() {
        return INSTANCE;
    }

    /**
     * Offers the descriptor {@code fd}, received under {@code name}; this object owns it until a
     * listener takes it (then wrapped as a JDK channel of the kind asked for).
     *
     * @throws IllegalArgumentException for a bad name, or a name offered already and not yet taken
     */
    public synchronized void offer(String name, int fd) {
        ListenerNames.check(name);
        if (fd < 0) {
            throw new IllegalArgumentException("handed-over socket \"" + name + "\": fd must be >= 0, was " + fd);
        }
        if (offered.containsKey(name)) {
            throw new IllegalArgumentException("handed-over socket \"" + name + "\" was offered twice (fd "
                    + offered.get(name) + " and fd " + fd + ")");
        }
        offered.put(name, fd);
        log.info("listener \"{}\": handed over as fd {}", name, fd);
    }

    /** Names offered and not yet taken. */
    public synchronized Set<String> names() {
        return Set.copyOf(offered.keySet());
    }

    @Override
    public String label() {
        return "handed-over";
    }

    @Override
    public NetworkChannel take(String name, ListenerKind kind) throws IOException {
        Integer fd;
        synchronized (this) {
            fd = offered.remove(name);
        }
        if (fd == null) {
            return null;
        }
        try {
            return kind.wrap(fd);
        } catch (IOException e) {
            throw new IOException(
                    "handed-over socket \"" + name + "\" (fd " + fd + ") is not the " + kind.label()
                            + " listener asked for: " + e.getMessage(),
                    e);
        }
    }

    @Override
    public synchronized String toString() {
        return "HandedOverSockets" + offered;
    }
}
