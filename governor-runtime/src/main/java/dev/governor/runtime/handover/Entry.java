package dev.governor.runtime.handover;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the handover says of one socket, beside its descriptor.
 *
 * @param name    the name it has in {@code Governor.listeners()}
 * @param kind    tcp, unix or udp, checked by the receiver against the descriptor
 * @param address where it is bound, as {@link #address(SocketAddress)} spells it, checked too
 * @param source  where the sender got it (bound, activation, fdstore, handover): for the log only
 */
public record Entry(String name, Kind kind, String address, String source) {
    /** Longest name, address or source accepted (a header field, not a payload). */
    static final int MAX_FIELD = 1024;

    public Entry {
        Objects.requireNonNull(kind, "kind");
        check("name", name);
        check("address", address);
        check("source", source);
    }

    private static void check(String field, String value) {
        Objects.requireNonNull(value, field);
        if (value.isEmpty() || value.length() > MAX_FIELD) {
            throw new IllegalArgumentException(
                    "socket " + field + " must be 1 to " + MAX_FIELD + " characters, was " + value.length());
        }
    }

    /** {@code 127.0.0.1:8080}, {@code [::1]:8080}, or a unix socket's path. */
    public static String address(SocketAddress address) {
        return switch (address) {
            case InetSocketAddress inet -> {
                String host = inet.getAddress() == null
                        ? inet.getHostString()
                        : inet.getAddress().getHostAddress();
                int percent = host.indexOf('%'); // a scope id names an interface of this host only
                String bare = percent < 0 ? host : host.substring(0, percent);
                yield (bare.contains(":") ? "[" + bare + "]" : bare) + ":" + inet.getPort();
            }
            case UnixDomainSocketAddress unix -> unix.getPath().toString();
            case null -> throw new IllegalArgumentException("socket is not bound");
            default -> throw new IllegalArgumentException("address " + address + " is neither inet nor unix");
        };
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("kind", kind.wireName());
        m.put("address", address);
        m.put("source", source);
        return m;
    }

    static Entry fromJson(Object json) {
        if (!(json instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("socket entry is not an object: " + json);
        }
        return new Entry(field(m, "name"), Kind.of(field(m, "kind")), field(m, "address"), field(m, "source"));
    }

    private static String field(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof String s)) {
            throw new IllegalArgumentException("socket entry lacks the string \"" + key + "\": " + m);
        }
        return s;
    }

    @Override
    public String toString() {
        return kind + " \"" + name + "\" at " + address + " (" + source + ")";
    }
}
