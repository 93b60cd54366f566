package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.Libc;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts between raw socket file descriptors and standard {@code java.nio} channels, which the JDK
 * offers no public API for.
 *
 * <p><b>How.</b> The JDK itself wraps an inherited descriptor for {@link System#inheritedChannel()}
 * with package-private constructors of {@code sun.nio.ch.ServerSocketChannelImpl} and
 * {@code DatagramChannelImpl} that take a {@link FileDescriptor}; this class calls the same
 * constructors by reflection. The result is the JDK's own channel class, so blocking {@code accept()}
 * on virtual threads, selectors and {@code socket()} behave exactly as for a channel the JDK opened.
 * That reflection needs the JVM flag {@value #REQUIRED_FLAG} (or {@code Add-Opens: java.base/sun.nio.ch}
 * in the manifest of an executable jar); without it every method here throws an
 * {@link IllegalStateException} that names the flag.
 */
public final class FdChannels {
    /** The JVM flag this class needs. */
    public static final String REQUIRED_FLAG = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";

    private static final Logger log = LoggerFactory.getLogger(FdChannels.class);

    private FdChannels() {}

    /** The reflective entry points, resolved once. */
    private record Internals(
            Method newFd, Constructor<?> serverSocket, Constructor<?> datagram, Field datagramFamily, Method fdVal) {}

    private static volatile Internals internals;

    private static Internals internals(String purpose) {
        Internals in = internals;
        if (in != null) {
            return in;
        }
        try {
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
            Method newFd = ioUtil.getDeclaredMethod("newFD", int.class);
            newFd.setAccessible(true);
            Constructor<?> ssc = Class.forName("sun.nio.ch.ServerSocketChannelImpl")
                    .getDeclaredConstructor(
                            SelectorProvider.class, ProtocolFamily.class, FileDescriptor.class, boolean.class);
            ssc.setAccessible(true);
            Class<?> dcImpl = Class.forName("sun.nio.ch.DatagramChannelImpl");
            Constructor<?> dc = dcImpl.getDeclaredConstructor(SelectorProvider.class, FileDescriptor.class);
            dc.setAccessible(true);
            Field family = dcImpl.getDeclaredField("family");
            family.setAccessible(true);
            Method fdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
            fdVal.setAccessible(true);
            in = new Internals(newFd, ssc, dc, family, fdVal);
            internals = in;
            return in;
        } catch (InaccessibleObjectException e) {
            throw new IllegalStateException(
                    purpose + " needs the JVM flag " + REQUIRED_FLAG
                            + " (put it on the java command line, or Add-Opens: java.base/sun.nio.ch in the manifest"
                            + " of an executable jar)",
                    e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    purpose + " is not supported by this JDK (" + Runtime.version()
                            + "): its sun.nio.ch internals differ from JDK 25's",
                    e);
        }
    }

    /** Whether this JVM lets descriptors be wrapped (the flag {@value #REQUIRED_FLAG} is present). */
    public static boolean available() {
        try {
            internals("wrapping a descriptor");
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /**
     * A {@link ServerSocketChannel} over {@code fd}, which must be a listening TCP (IPv4, IPv6) or
     * unix stream socket. The channel owns the descriptor from now on: closing it closes {@code fd}.
     * The descriptor is put in blocking mode (the JDK's assumption for a new channel) and marked
     * close-on-exec.
     *
     * @throws IOException if {@code fd} is not a listening stream socket
     * @throws IllegalStateException if the JVM lacks {@value #REQUIRED_FLAG}
     */
    public static ServerSocketChannel serverSocket(int fd) throws IOException {
        return serverSocket(fd, true);
    }

    /**
     * As {@link #serverSocket(int)}, for a descriptor that shares its open file description with
     * channels in use (a {@code dup}): {@code O_NONBLOCK} is left as it is, since clearing it would
     * make a virtual thread blocked in {@code accept()} on another of them block its carrier. (A JDK
     * channel in blocking mode over a non-blocking descriptor polls, so the other way is safe.)
     */
    public static ServerSocketChannel sharedServerSocket(int fd) throws IOException {
        return serverSocket(fd, false);
    }

    /** As {@link #datagram(int)}, leaving {@code O_NONBLOCK} as it is; see {@link #sharedServerSocket(int)}. */
    public static DatagramChannel sharedDatagram(int fd) throws IOException {
        return datagram(fd, false);
    }

    private static ServerSocketChannel serverSocket(int fd, boolean unblock) throws IOException {
        Internals in = internals("wrapping fd " + fd + " in a ServerSocketChannel");
        SocketKind kind = SocketKind.of(fd);
        if (!kind.listeningStream()) {
            throw new IOException("fd " + fd + " is " + kind + ", not a listening stream socket");
        }
        prepare(fd, unblock);
        ProtocolFamily family = kind.family();
        return (ServerSocketChannel)
                construct(in.serverSocket(), SelectorProvider.provider(), family, newFd(in, fd), true);
    }

    /**
     * A {@link DatagramChannel} over {@code fd}, which must be a UDP socket (IPv4 or IPv6; the JDK
     * has no unix datagram channels). Owns, unblocks and marks the descriptor as
     * {@link #serverSocket(int)} does.
     */
    public static DatagramChannel datagram(int fd) throws IOException {
        return datagram(fd, true);
    }

    private static DatagramChannel datagram(int fd, boolean unblock) throws IOException {
        Internals in = internals("wrapping fd " + fd + " in a DatagramChannel");
        SocketKind kind = SocketKind.of(fd);
        if (kind.type() != Libc.SOCK_DGRAM || kind.family() == StandardProtocolFamily.UNIX || kind.family() == null) {
            throw new IOException("fd " + fd + " is " + kind + ", not a UDP socket");
        }
        prepare(fd, unblock);
        DatagramChannel channel =
                (DatagramChannel) construct(in.datagram(), SelectorProvider.provider(), newFd(in, fd));
        // the JDK assumes IPv6 for a wrapped datagram socket; an IPv4 one must say so, or every send fails
        if (kind.family() == StandardProtocolFamily.INET) {
            try {
                in.datagramFamily().set(channel, StandardProtocolFamily.INET);
            } catch (IllegalAccessException | RuntimeException e) {
                log.warn(
                        "inherited IPv4 datagram fd {}: cannot mark its channel IPv4 ({}); send() may fail",
                        fd,
                        e.toString());
            }
        }
        return channel;
    }

    /**
     * The descriptor of a channel the JDK made (or one made by this class).
     *
     * @throws IllegalArgumentException if {@code channel} is not backed by a descriptor of the JDK's
     * @throws IllegalStateException if the JVM lacks {@value #REQUIRED_FLAG}
     */
    public static int fd(Channel channel) {
        Objects.requireNonNull(channel, "channel");
        Internals in = internals("reading the descriptor of " + channel);
        if (!in.fdVal().getDeclaringClass().isInstance(channel)) {
            throw new IllegalArgumentException(
                    "channel " + channel + " (" + channel.getClass().getName() + ") is not a JDK socket channel");
        }
        try {
            return (int) in.fdVal().invoke(channel);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("reading the descriptor of " + channel + " needs " + REQUIRED_FLAG, e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("reading the descriptor of " + channel + " failed", e.getCause());
        }
    }

    private static void prepare(int fd, boolean unblock) throws IOException {
        Libc.setCloseOnExec(fd);
        if (unblock) {
            Libc.setBlocking(fd);
        }
    }

    private static FileDescriptor newFd(Internals in, int fd) {
        try {
            return (FileDescriptor) in.newFd().invoke(null, fd);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make a FileDescriptor for fd " + fd, e);
        }
    }

    private static Object construct(Constructor<?> constructor, Object... args) throws IOException {
        try {
            return constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("cannot wrap a descriptor with " + constructor, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot wrap a descriptor with " + constructor, e);
        }
    }
}
