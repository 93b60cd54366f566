package dev.governor.runtime.upgrade;

import dev.governor.Governor;
import dev.governor.runtime.listen.HandedOverSockets;
import dev.governor.runtime.listen.ListenerKind;
import java.io.IOException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sockets the runtime itself serves outside {@code listeners()} — the control socket, bound at mode
 * 0600 its own way — that an upgrade hands over too, so the new process answers at the same path
 * without a gap. Registered by their owner while they listen; a new process takes them back by name.
 */
public final class OwnSockets {
    private static final Map<Governor, Map<String, ServerSocketChannel>> BY_GOVERNOR = new ConcurrentHashMap<>();
    private static volatile boolean handedOver;

    private OwnSockets() {}

    /** Hands {@code channel} over under {@code name} in every upgrade of {@code gov}, until {@link #remove}. */
    public static void add(Governor gov, String name, ServerSocketChannel channel) {
        BY_GOVERNOR.compute(gov, (g, own) -> {
            Map<String, ServerSocketChannel> map = own == null ? new ConcurrentHashMap<>() : own;
            map.put(name, channel);
            return map;
        });
    }

    /** Stops handing {@code name} over; the governor's entry goes with its last socket (it must not outlive the governor). */
    public static void remove(Governor gov, String name) {
        BY_GOVERNOR.computeIfPresent(gov, (g, own) -> {
            own.remove(name);
            return own.isEmpty() ? null : own;
        });
    }

    /** How many governors have sockets registered (for the test that no stopped governor stays referenced). */
    static int governors() {
        return BY_GOVERNOR.size();
    }

    static Map<String, ServerSocketChannel> of(Governor gov) {
        return Map.copyOf(BY_GOVERNOR.getOrDefault(gov, Map.of()));
    }

    /**
     * The socket a previous process handed over under {@code name}, or null: the owner serves it
     * instead of binding (the socket file at its path is the same).
     */
    public static ServerSocketChannel inherited(String name) throws IOException {
        if (!HandedOverSockets.instance().names().contains(name)) {
            return null;
        }
        NetworkChannel ch = HandedOverSockets.instance().take(name, ListenerKind.UNIX);
        return (ServerSocketChannel) ch;
    }

    /** True once this process has handed its sockets to a new one: files at their paths are the new process's now. */
    public static boolean handedOver() {
        return handedOver;
    }

    static void markHandedOver() {
        handedOver = true;
    }
}
