package dev.governor.runtime.listen;

import java.io.IOException;
import java.nio.channels.NetworkChannel;

/**
 * Somewhere an existing socket may come from, asked in order before a listener is bound fresh:
 * {@link HandedOverSockets} (a previous process), then systemd ({@code LISTEN_FDNAMES}).
 */
public interface ListenerSource {
    /** What {@code /status.json} and {@code governor_listener_info{source}} call a socket found here. */
    String label();

    /**
     * The socket this source holds under {@code name}, as a channel the caller owns from now on, or
     * null if it has none. Taken once: a second call for the same name returns null.
     *
     * @throws IOException if the socket under {@code name} is not of {@code kind} (an error, not a fallback)
     */
    NetworkChannel take(String name, ListenerKind kind) throws IOException;
}
