package dev.governor.runtime.listen;

import dev.governor.runtime.systemd.SocketActivation;
import java.io.IOException;
import java.nio.channels.NetworkChannel;
import java.util.List;

/**
 * Sockets systemd passed ({@code LISTEN_FDS}, {@code LISTEN_FDNAMES}): those of a {@code .socket}
 * unit first, then those of the fd store, as systemd orders them. Read through
 * {@link SocketActivation}, which keeps its own copy of each for the life of the process.
 */
public final class SystemdSockets implements ListenerSource {
    private final SocketActivation activation;

    /** The sockets {@code activation} found. */
    public SystemdSockets(SocketActivation activation) {
        this.activation = activation;
    }

    @Override
    public String label() {
        return "systemd";
    }

    @Override
    public NetworkChannel take(String name, ListenerKind kind) throws IOException {
        List<SocketActivation.Inherited> inherited = activation.inherited();
        boolean named = inherited.stream().anyMatch(i -> i.name().equals(name));
        boolean unnamed = inherited.stream().anyMatch(i -> i.name().equals("unknown"));
        if (!named && !unnamed) {
            return null;
        }
        try {
            return switch (kind) {
                case TCP -> activation.tcp(name);
                case UNIX -> activation.unix(name);
                case UDP -> activation.udp(name);
            };
        } catch (IOException e) {
            if (named) {
                throw e; // a socket under this very name, of another kind
            }
            return null; // no unnamed socket fits: bind fresh
        }
    }

    @Override
    public String toString() {
        return "SystemdSockets[" + activation + "]";
    }
}
