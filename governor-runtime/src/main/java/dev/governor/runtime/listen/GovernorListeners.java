package dev.governor.runtime.listen;

import dev.governor.Governor;
import dev.governor.Listeners;
import dev.governor.runtime.systemd.SdNotify;
import dev.governor.runtime.systemd.SocketActivation;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's {@link Listeners}: one owned channel per name, held until {@link #close()} (the end
 * of the governor), and a new channel over a dup of it for every call.
 *
 * <p>A name's socket is settled by its first call: taken from the first {@link ListenerSource} that
 * has it (handed over, then systemd), else bound fresh at the address asked for, with a backlog of
 * {@value #BACKLOG} (the kernel caps it at {@code net.core.somaxconn}), and then, under systemd,
 * pushed to its fd store ({@code FDSTORE=1}, {@code FDNAME=name}) so a restarted process finds it.
 * Later calls must ask for the same kind and address (the address asked for, not the one found:
 * {@code :0} stays {@code :0}).
 */
public final class GovernorListeners implements Listeners, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GovernorListeners.class);
    static final int BACKLOG = 4096;

    /** A settled socket: the channel the governor keeps, never used for I/O, and how it was asked for. */
    private record Owned(
            String name,
            ListenerKind kind,
            SocketAddress asked,
            NetworkChannel channel,
            String address,
            String source) {}

    private final List<ListenerSource> sources;
    private final Supplier<SdNotify> fdStore;
    private final Map<String, Owned> owned = new LinkedHashMap<>(); // guarded by this
    private boolean closed; // guarded by this
    private final List<java.util.function.Consumer<ListenerInfo>> watchers =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Listeners looking in {@code sources}, in order, before binding fresh; {@code fdStore} gives the
     * systemd client a fresh socket is pushed to (a disabled one: not pushed).
     */
    public GovernorListeners(List<ListenerSource> sources, Supplier<SdNotify> fdStore) {
        this.sources = List.copyOf(sources);
        this.fdStore = Objects.requireNonNull(fdStore, "fdStore");
    }

    /**
     * The listeners of a governor in this process: handed-over sockets, then (when {@code systemd}
     * is on) those systemd passed, else fresh, pushed to systemd's fd store.
     */
    public static GovernorListeners forProcess(boolean systemd) {
        if (!systemd) {
            return new GovernorListeners(List.of(HandedOverSockets.instance()), SdNotify::disabled);
        }
        return new GovernorListeners(
                List.of(HandedOverSockets.instance(), new LazySystemd()), SdNotify::fromEnvironment);
    }

    /** The runtime's listeners of {@code governor}. */
    public static GovernorListeners of(Governor governor) {
        if (governor.listeners() instanceof GovernorListeners l) {
            return l;
        }
        throw new IllegalArgumentException(
                "governor " + governor + " was not created by dev.governor:governor-runtime");
    }

    @Override
    public ServerSocketChannel tcp(String name, InetSocketAddress address) throws IOException {
        Objects.requireNonNull(address, "address of listener \"" + name + "\"");
        return (ServerSocketChannel) channel(name, ListenerKind.TCP, address);
    }

    @Override
    public ServerSocketChannel unix(String name, Path path) throws IOException {
        Objects.requireNonNull(path, "path of listener \"" + name + "\"");
        return (ServerSocketChannel)
                channel(name, ListenerKind.UNIX, UnixDomainSocketAddress.of(path.toAbsolutePath()));
    }

    @Override
    public DatagramChannel udp(String name, InetSocketAddress address) throws IOException {
        Objects.requireNonNull(address, "address of listener \"" + name + "\"");
        return (DatagramChannel) channel(name, ListenerKind.UDP, address);
    }

    @Override
    public synchronized Set<String> names() {
        return new LinkedHashSet<>(owned.keySet());
    }

    /** What is owned, in the order first asked for. */
    public synchronized List<ListenerInfo> info() {
        List<ListenerInfo> out = new ArrayList<>(owned.size());
        owned.values().forEach(o -> out.add(new ListenerInfo(o.name(), o.kind(), o.address(), o.source())));
        return out;
    }

    /**
     * Calls {@code watcher} with every listener settled from now on (on the thread that asked for
     * it, after the lock is released); one that throws is logged and kept.
     */
    public void onSettled(java.util.function.Consumer<ListenerInfo> watcher) {
        watchers.add(Objects.requireNonNull(watcher, "watcher"));
    }

    /**
     * A new channel over the socket settled under {@code name} (for handing it to another process),
     * or null if none is.
     */
    public NetworkChannel duplicate(String name) throws IOException {
        Owned o;
        synchronized (this) {
            o = owned.get(name);
        }
        return o == null ? null : Fds.dup(o.channel());
    }

    private NetworkChannel channel(String name, ListenerKind kind, SocketAddress asked) throws IOException {
        ListenerNames.check(name);
        Owned o;
        boolean settled = false;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(
                        "listener \"" + name + "\": the governor has stopped, its sockets are closed");
            }
            o = owned.get(name);
            if (o == null) {
                o = settle(name, kind, asked);
                owned.put(name, o);
                settled = true;
            } else if (o.kind() != kind || !o.asked().equals(asked)) {
                throw new IllegalArgumentException("listener \"" + name + "\" is "
                        + o.kind().label() + " " + describe(o.asked())
                        + " (" + o.source() + ", at " + o.address() + "), asked for now as " + kind.label() + " "
                        + describe(asked) + ": one name, one socket");
            }
        }
        if (settled) {
            ListenerInfo info = new ListenerInfo(o.name(), o.kind(), o.address(), o.source());
            for (var w : watchers) {
                try {
                    w.accept(info);
                } catch (RuntimeException e) {
                    log.warn("listener \"{}\": a watcher failed: {}", name, e.toString());
                }
            }
        }
        return Fds.dup(o.channel());
    }

    private Owned settle(String name, ListenerKind kind, SocketAddress asked) throws IOException {
        for (ListenerSource source : sources) {
            NetworkChannel found = source.take(name, kind);
            if (found != null) {
                Owned o = new Owned(name, kind, asked, found, address(found), source.label());
                log.info("listener \"{}\": {} {} from {}", name, kind.label(), o.address(), source.label());
                return o;
            }
        }
        NetworkChannel fresh = bind(kind, asked);
        Owned o = new Owned(name, kind, asked, fresh, address(fresh), "bound");
        log.info("listener \"{}\": bound {} {}", name, kind.label(), o.address());
        SdNotify notify = fdStore.get();
        if (notify.enabled()) {
            notify.fdStore(name, Fds.fd(fresh));
        }
        return o;
    }

    private static NetworkChannel bind(ListenerKind kind, SocketAddress address) throws IOException {
        NetworkChannel channel = switch (kind) {
            case TCP -> ServerSocketChannel.open();
            case UNIX -> ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            case UDP -> udpChannel((InetSocketAddress) address);
        };
        try {
            if (kind == ListenerKind.UNIX) {
                removeStaleSocketFile(((UnixDomainSocketAddress) address).getPath());
            }
            if (channel instanceof ServerSocketChannel server) {
                server.bind(address, BACKLOG);
            } else {
                channel.bind(address);
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new IOException(
                    "cannot bind " + kind.label() + " listener at " + describe(address) + ": " + e.getMessage(), e);
        }
    }

    private static DatagramChannel udpChannel(InetSocketAddress address) throws IOException {
        java.net.InetAddress ip = address.getAddress();
        if (ip == null || ip.isAnyLocalAddress()) {
            return DatagramChannel.open();
        }
        return DatagramChannel.open(
                ip instanceof java.net.Inet4Address ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
    }

    private static void removeStaleSocketFile(Path path) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                && Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .isOther()) {
            Files.delete(path); // a socket file left by a previous run
        }
    }

    private static String address(NetworkChannel channel) throws IOException {
        return describe(channel.getLocalAddress());
    }

    private static String describe(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress unix) {
            return unix.getPath().toString();
        }
        if (address instanceof InetSocketAddress inet) {
            String host = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** Closes every owned socket; later calls throw. */
    @Override
    public void close() {
        List<Owned> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = List.copyOf(owned.values());
        }
        for (Owned o : all) {
            try {
                o.channel().close(); // a unix socket's file stays: a process it was handed to may still listen there
            } catch (IOException | RuntimeException e) {
                log.warn("listener \"{}\": closing failed: {}", o.name(), e.toString());
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "Listeners" + info();
    }

    /** Systemd's sockets, read from the environment only when a listener is first asked for. */
    private static final class LazySystemd implements ListenerSource {
        @Override
        public String label() {
            return "systemd";
        }

        @Override
        public NetworkChannel take(String name, ListenerKind kind) throws IOException {
            return new SystemdSockets(SocketActivation.fromEnvironment()).take(name, kind);
        }
    }
}
