package dev.governor.runtime.listen;

import dev.governor.runtime.systemd.FdChannels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.Channel;
import java.nio.channels.NetworkChannel;

/**
 * Raw descriptors of sockets, through the JDK's FFM API (no jnr: it links in microseconds): a
 * {@code dup} that is close-on-exec from birth, and {@code close}. Every call is short and never
 * blocks, so it may run on a virtual thread.
 */
public final class Fds {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    // downcallHandle is restricted: the JVM allows it to the modules named by --enable-native-access
    // (ALL-UNNAMED on the class path, dev.governor.runtime on the module path; see the README)
    @SuppressWarnings("restricted")
    private static final MethodHandle FCNTL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("fcntl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
    @SuppressWarnings("restricted") // as FCNTL
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Fds() {}

    /** A new descriptor for the same open socket as {@code fd}, close-on-exec, numbered 3 or above. */
    public static int dup(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            int copy = (int) FCNTL.invokeExact(state, fd, F_DUPFD_CLOEXEC, 3);
            if (copy < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new IOException("dup of fd " + fd + " failed: errno " + errno
                        + (errno == 24 ? " (too many open files)" : errno == 9 ? " (not an open descriptor)" : ""));
            }
            return copy;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl(F_DUPFD_CLOEXEC) could not be called", t);
        }
    }

    /** Closes {@code fd}, ignoring errors (for cleanup paths). */
    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do: cleanup only
        }
    }

    /** The descriptor of a JDK socket channel; see {@link FdChannels#fd(Channel)}. */
    public static int fd(Channel channel) {
        return FdChannels.fd(channel);
    }

    /** A new channel of the same kind over a dup of {@code channel}'s socket; closing it leaves {@code channel} open. */
    public static NetworkChannel dup(NetworkChannel channel) throws IOException {
        return ListenerKind.of(channel).wrap(dup(fd(channel)));
    }
}
