package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.Libc;
import dev.governor.runtime.internal.os.ProcessCalls;
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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listening sockets by name: inherited from systemd ({@code LISTEN_FDS}, {@code LISTEN_PID},
 * {@code LISTEN_FDNAMES}, from a {@code .socket} unit or the fd store) or, when nothing was inherited
 * under that name, bound afresh at the address given.
 *
 * <pre>{@code
 * ServerSocketChannel echo = SocketActivation.fromEnvironment().tcp("echo", new InetSocketAddress(7007));
 * try (echo) { while (true) handle(echo.accept()); }   // blocking accept on a virtual thread is fine
 * }</pre>
 *
 * <p><b>Read once.</b> The environment is read, validated and removed ({@code unsetenv}, so a program
 * this one execs does not see it) the first time {@link #fromEnvironment()} is called; every inherited
 * descriptor is marked close-on-exec. A malformed environment ({@code LISTEN_FDS=abc}, a
 * {@code LISTEN_PID} of another process, a {@code LISTEN_FDNAMES} with the wrong count) is logged
 * and falls back safely: nothing inherited, or descriptors without names. The JDK keeps its own copy
 * of the environment ({@link System#getenv()}), which children started with {@link ProcessBuilder}
 * inherit; {@code LISTEN_PID} makes them ignore it, as sd_listen_fds(3) intends.
 *
 * <p><b>Listeners outlive the services that use them.</b> The first request for a name settles its
 * socket (inherited, or bound afresh) for the life of the process; each request returns a new channel
 * over a duplicate of it, so a service that closes its channel when it stops gets the same socket
 * again when it is restarted, and connections wait in the backlog meanwhile instead of being refused.
 * A socket bound afresh is also pushed to systemd's fd store ({@code FDSTORE=1}, {@code FDNAME=name})
 * when {@code NOTIFY_SOCKET} is set, so that after {@code systemctl restart} the next process inherits
 * it by the same name.
 *
 * <p>Matching: an inherited descriptor named exactly as asked; failing that, the only unnamed one
 * (systemd's name {@code unknown}) of the right kind, if there is exactly one. A descriptor of the
 * wrong kind under the asked name is an error, not a fallback.
 */
public final class SocketActivation {
    private static final Logger log = LoggerFactory.getLogger(SocketActivation.class);
    /** {@code SD_LISTEN_FDS_START}. */
    static final int FIRST_FD = 3;

    private static final String UNNAMED = "unknown";

    /** The kinds of listener a user asks for. */
    enum Kind {
        TCP,
        UDP,
        UNIX
    }

    /**
     * A descriptor passed by systemd.
     *
     * @param fd   its number
     * @param name its name from {@code LISTEN_FDNAMES}, {@code "unknown"} when it has none
     * @param kind what it is, e.g. "a tcp socket (INET6, listening)"
     */
    public record Inherited(int fd, String name, String kind) {}

    private final SdNotify notify;
    private final List<Inherited> inherited;
    private final Map<Integer, SocketKind> kinds;
    /** A name's socket for the life of the process: a descriptor this object keeps open, and its kind. */
    private record Settled(int fd, Kind kind) {}

    private final Map<String, Settled> settled = new LinkedHashMap<>();
    private final List<String> problems;

    private SocketActivation(
            SdNotify notify, List<Inherited> inherited, Map<Integer, SocketKind> kinds, List<String> problems) {
        this.notify = notify;
        this.inherited = List.copyOf(inherited);
        this.kinds = Map.copyOf(kinds);
        this.problems = List.copyOf(problems);
    }

    /** The process-wide view of what systemd passed, read (and removed from the environment) on first use. */
    public static SocketActivation fromEnvironment() {
        ListenFdsSnapshot.take();
        return FromEnvironment.INSTANCE;
    }

    /** Reads the environment on first use only. */
    private static final class FromEnvironment {
        static final SocketActivation INSTANCE = parse(
                System.getenv(),
                ProcessHandle.current().pid(),
                FIRST_FD,
                SocketActivation::unsetenv,
                SdNotify.fromEnvironment());
    }

    private static void unsetenv(String name) {
        try {
            ProcessCalls.unsetenv(name);
        } catch (ErrnoException e) {
            throw new IllegalArgumentException("cannot unset " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads {@code env} as sd_listen_fds_with_names(3) does, for the process {@code pid}, with the
     * descriptors starting at {@code firstFd}; every variable found is passed to {@code unset}.
     */
    static SocketActivation parse(
            Map<String, String> env, long pid, int firstFd, Consumer<String> unset, SdNotify notify) {
        String fdsVar = env.get("LISTEN_FDS");
        String pidVar = env.get("LISTEN_PID");
        String namesVar = env.get("LISTEN_FDNAMES");
        for (String var : List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")) {
            if (env.containsKey(var)) {
                unset.accept(var);
            }
        }
        List<String> problems = new ArrayList<>();
        List<Inherited> inherited = new ArrayList<>();
        Map<Integer, SocketKind> kinds = new LinkedHashMap<>();
        if (fdsVar == null) {
            if (pidVar != null || namesVar != null) {
                problems.add("LISTEN_PID/LISTEN_FDNAMES are set without LISTEN_FDS: ignored");
            }
        } else {
            int n = parseCount(fdsVar, problems);
            List<String> overstated = new ArrayList<>(); // one warning for all that LISTEN_FDS overstates
            if (n > ListenFdsSnapshot.MAX_FDS) {
                overstated.add("more than any service is passed (only the first " + ListenFdsSnapshot.MAX_FDS
                        + " are looked at)");
                n = ListenFdsSnapshot.MAX_FDS;
            }
            if (n > 0 && checkPid(pidVar, pid, problems)) {
                // only the real process environment was snapshotted before anything bound; a test's own numbering is
                // taken as given
                Map<Integer, String> before =
                        firstFd == FIRST_FD && env == System.getenv() ? ListenFdsSnapshot.sockets() : null;
                String[] names = names(namesVar, n, problems);
                List<Integer> absent = new ArrayList<>();
                List<Integer> ours = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int fd = firstFd + i;
                    try {
                        SocketKind kind = SocketKind.of(fd);
                        if (!kind.socket()) {
                            absent.add(fd);
                            continue;
                        }
                        if (before != null && !Objects.equals(before.get(fd), ListenFdsSnapshot.inode(fd))) {
                            ours.add(fd); // opened by this JVM after it started: never inherited
                            continue;
                        }
                        Libc.setCloseOnExec(fd);
                        kinds.put(fd, kind);
                        inherited.add(new Inherited(fd, names[i], kind.toString()));
                    } catch (IOException e) {
                        problems.add("inherited fd " + fd + " (\"" + names[i] + "\") is unusable: " + e.getMessage());
                    }
                }
                if (!absent.isEmpty()) {
                    overstated.add(absent.size() + " of the " + n + " descriptors looked at are not open sockets ("
                            + fdList(absent) + ")");
                }
                if (!ours.isEmpty()) {
                    overstated.add(ours.size() + " are sockets this process opened itself, not inherited ("
                            + fdList(ours) + ")");
                }
            }
            if (!overstated.isEmpty()) {
                problems.add("LISTEN_FDS=" + fdsVar + ": " + String.join("; ", overstated)
                        + ": ignored; LISTEN_FDS overstates what was passed");
            }
        }
        problems.forEach(p -> log.warn("socket activation: {}", p));
        if (!inherited.isEmpty()) {
            log.info("socket activation: inherited {}", inherited);
        }
        return new SocketActivation(notify, inherited, kinds, problems);
    }

    /** "fd 5, 6, 7 and 12 more": a few numbers, however many there are. */
    private static String fdList(List<Integer> fds) {
        String head = fds.stream().limit(5).map(String::valueOf).collect(java.util.stream.Collectors.joining(", "));
        return (fds.size() == 1 ? "fd " : "fds ") + head + (fds.size() > 5 ? " and " + (fds.size() - 5) + " more" : "");
    }

    private static int parseCount(String fdsVar, List<String> problems) {
        try {
            int n = Integer.parseInt(fdsVar.trim());
            if (n < 0) {
                problems.add(
                        "LISTEN_FDS=" + fdsVar + " must not be negative: nothing inherited, listeners bind afresh");
                return 0;
            }
            return n;
        } catch (NumberFormatException e) {
            problems.add("LISTEN_FDS=" + fdsVar + " is not a number: nothing inherited, listeners bind afresh");
            return 0;
        }
    }

    private static boolean checkPid(String pidVar, long pid, List<String> problems) {
        if (pidVar == null) {
            problems.add("LISTEN_FDS is set but LISTEN_PID is not: the descriptors may not be ours, nothing inherited");
            return false;
        }
        try {
            long listenPid = Long.parseLong(pidVar.trim());
            if (listenPid != pid) {
                problems.add("LISTEN_PID=" + pidVar + " names another process (this is pid " + pid
                        + "): the descriptors are not ours, nothing inherited, listeners bind afresh");
                return false;
            }
            return true;
        } catch (NumberFormatException e) {
            problems.add("LISTEN_PID=" + pidVar + " is not a number: nothing inherited, listeners bind afresh");
            return false;
        }
    }

    private static String[] names(String namesVar, int n, List<String> problems) {
        String[] names = new String[n];
        java.util.Arrays.fill(names, UNNAMED);
        if (namesVar == null) {
            return names;
        }
        String[] given = namesVar.split(":", -1);
        if (given.length != n) {
            problems.add(
                    "LISTEN_FDNAMES=" + namesVar + " has " + given.length + " name(s) for LISTEN_FDS=" + n
                            + ": the names are ignored, a listener takes an inherited descriptor only when it is the one of its kind");
            return names;
        }
        for (int i = 0; i < n; i++) {
            names[i] = given[i].isEmpty() ? UNNAMED : given[i];
        }
        return names;
    }

    /** What systemd passed, in order. */
    public List<Inherited> inherited() {
        return inherited;
    }

    /** What was wrong with the environment, as logged; empty when it was sound (or absent). */
    public List<String> problems() {
        return problems;
    }

    /** The listening TCP socket named {@code name}, inherited, or else bound at {@code fallback}. */
    public ServerSocketChannel tcp(String name, InetSocketAddress fallback) throws IOException {
        Objects.requireNonNull(fallback, "fallback");
        return (ServerSocketChannel) channel(name, Kind.TCP, fallback);
    }

    /** The inherited listening TCP socket named {@code name}; an {@link IOException} if there is none. */
    public ServerSocketChannel tcp(String name) throws IOException {
        return (ServerSocketChannel) channel(name, Kind.TCP, null);
    }

    /** The UDP socket named {@code name}, inherited, or else bound at {@code fallback}. */
    public DatagramChannel udp(String name, InetSocketAddress fallback) throws IOException {
        Objects.requireNonNull(fallback, "fallback");
        return (DatagramChannel) channel(name, Kind.UDP, fallback);
    }

    /** The inherited UDP socket named {@code name}; an {@link IOException} if there is none. */
    public DatagramChannel udp(String name) throws IOException {
        return (DatagramChannel) channel(name, Kind.UDP, null);
    }

    /**
     * The listening unix stream socket named {@code name}, inherited, or else bound at the path
     * {@code fallback} (a stale socket file there is replaced).
     */
    public ServerSocketChannel unix(String name, Path fallback) throws IOException {
        Objects.requireNonNull(fallback, "fallback");
        return (ServerSocketChannel) channel(name, Kind.UNIX, UnixDomainSocketAddress.of(fallback));
    }

    /** The inherited listening unix stream socket named {@code name}; an {@link IOException} if there is none. */
    public ServerSocketChannel unix(String name) throws IOException {
        return (ServerSocketChannel) channel(name, Kind.UNIX, null);
    }

    private synchronized NetworkChannel channel(String name, Kind kind, SocketAddress fallback) throws IOException {
        SdNotify.checkFdName(name);
        Settled known = settled.get(name);
        if (known != null) {
            if (known.kind() != kind) {
                throw new IOException(
                        "listener \"" + name + "\" is " + lower(known.kind()) + ", asked for as " + lower(kind));
            }
            return wrap(Libc.dup(known.fd()), kind);
        }
        Inherited match = match(name, kind);
        if (match != null) {
            settled.put(name, new Settled(match.fd(), kind));
            log.info("listener \"{}\": inherited fd {} ({})", name, match.fd(), match.kind());
            return wrap(Libc.dup(match.fd()), kind);
        }
        if (fallback == null) {
            throw new IOException("no inherited socket named \"" + name + "\" (inherited: "
                    + (inherited.isEmpty() ? "none" : inherited) + ") and the listener is inherit-only");
        }
        NetworkChannel fresh = bind(kind, fallback);
        if (!FdChannels.available()) {
            log.warn(
                    "listener \"{}\": bound {}, but without the JVM flag {} it is neither kept for a restart of its"
                            + " service nor pushed to systemd's fd store",
                    name,
                    fresh.getLocalAddress(),
                    FdChannels.REQUIRED_FLAG);
            return fresh;
        }
        int own = Libc.dup(FdChannels.fd(fresh));
        Libc.setCloseOnExec(own);
        settled.put(name, new Settled(own, kind));
        log.info("listener \"{}\": nothing inherited, bound {}", name, fresh.getLocalAddress());
        if (notify.enabled()) {
            notify.fdStore(name, own);
        }
        return fresh;
    }

    private boolean taken(int fd) {
        return settled.values().stream().anyMatch(s -> s.fd() == fd);
    }

    private static String lower(Kind kind) {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }

    private Inherited match(String name, Kind kind) throws IOException {
        for (Inherited in : inherited) {
            if (in.name().equals(name) && !taken(in.fd())) {
                if (!fits(kinds.get(in.fd()), kind)) {
                    throw new IOException("inherited fd " + in.fd() + " named \"" + name + "\" is " + in.kind()
                            + ", not the " + lower(kind) + " listener asked for");
                }
                return in;
            }
        }
        List<Inherited> unnamed = inherited.stream()
                .filter(in -> in.name().equals(UNNAMED) && !taken(in.fd()) && fits(kinds.get(in.fd()), kind))
                .toList();
        if (unnamed.size() == 1) {
            return unnamed.getFirst();
        }
        if (unnamed.size() > 1) {
            log.warn(
                    "listener \"{}\": {} unnamed inherited sockets could be it ({}); taking none: name them with"
                            + " FileDescriptorName= or --fdname",
                    name,
                    unnamed.size(),
                    unnamed);
        }
        return null;
    }

    private static boolean fits(SocketKind k, Kind kind) {
        return switch (kind) {
            case TCP -> k.listeningStream() && k.family() != StandardProtocolFamily.UNIX;
            case UNIX -> k.listeningStream() && k.family() == StandardProtocolFamily.UNIX;
            case UDP -> k.type() == Libc.SOCK_DGRAM && (k.domain() == Libc.AF_INET || k.domain() == Libc.AF_INET6);
        };
    }

    private static NetworkChannel wrap(int fd, Kind kind) throws IOException {
        try {
            return kind == Kind.UDP ? FdChannels.datagram(fd) : FdChannels.serverSocket(fd);
        } catch (IOException | RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    private static NetworkChannel bind(Kind kind, SocketAddress address) throws IOException {
        switch (kind) {
            case UDP -> {
                DatagramChannel ch = DatagramChannel.open();
                try {
                    return ch.bind(address);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
            }
            case UNIX -> {
                Path path = ((UnixDomainSocketAddress) address).getPath();
                if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                        && Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                                .isOther()) {
                    Files.delete(path); // a socket file left by a previous run
                }
                ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    return ch.bind(address);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
            }
            default -> {
                ServerSocketChannel ch = ServerSocketChannel.open();
                try {
                    return ch.bind(address);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw new IOException("cannot bind listener at " + address + ": " + e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "SocketActivation[inherited=" + inherited + ", settled=" + settled.keySet()
                + (problems.isEmpty() ? "" : ", problems=" + problems.size()) + "]";
    }
}
