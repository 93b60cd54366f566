package dev.governor.runtime.handover;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The libc calls of the handover, through the JDK's FFM API (linked in milliseconds, where jnr's
 * first call costs ~450 ms of class generation). Linux x86-64 and aarch64 layouts (LP64): {@code
 * struct msghdr} is 56 bytes, {@code struct cmsghdr} a 16-byte header. Every call captures errno;
 * sends and receives never block ({@code MSG_DONTWAIT}): callers wait in {@link #poll}, with a deadline.
 */
final class Native {
    static final int SOL_SOCKET = 1;
    static final int SO_TYPE = 3;
    static final int SO_PEERCRED = 17;
    static final int SO_ACCEPTCONN = 30;
    static final int SO_DOMAIN = 39;
    static final int SCM_RIGHTS = 1;
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int MSG_CTRUNC = 0x8;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int MSG_CMSG_CLOEXEC = 0x40000000;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int POLLIN = 0x1;
    static final int POLLOUT = 0x4;
    static final int EAGAIN = 11;
    static final int EINTR = 4;
    static final int ENOTSOCK = 88;
    /** The kernel's cap on descriptors in one SCM_RIGHTS message ({@code SCM_MAX_FD}). */
    static final int SCM_MAX_FD = 253;

    private static final long MSGHDR_SIZE = 56;
    private static final long CMSG_HEADER = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final MethodHandle SENDMSG = function("sendmsg", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECVMSG = function("recvmsg", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle POLL = function("poll", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle GETSOCKOPT = function("getsockopt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle GETSOCKNAME = function("getsockname", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle FCNTL = function("fcntl", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = function("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle DUP2 = function("dup2", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Native() {}

    private static MethodHandle function(String name, FunctionDescriptor descriptor) {
        return function(name, descriptor, ERRNO_OPTION);
    }

    // downcallHandle is restricted: the JVM allows it to the modules named by --enable-native-access
    // (ALL-UNNAMED on the class path, dev.governor.runtime on the module path; see the README)
    @SuppressWarnings("restricted")
    private static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option variadic) {
        MemorySegment symbol = LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return variadic == ERRNO_OPTION ? LINKER.downcallHandle(symbol, descriptor, ERRNO_OPTION)
                : LINKER.downcallHandle(symbol, descriptor, variadic, ERRNO_OPTION);
    }

    /** What one {@code recvmsg} brought: data bytes, descriptors (close-on-exec), whether control data was cut. */
    record Received(byte[] data, List<Integer> fds, boolean truncated) {}

    /**
     * Sends {@code data} with {@code fds} as one SCM_RIGHTS message; returns the bytes sent (a stream
     * socket may take fewer: the caller sends the rest without descriptors).
     */
    static long sendmsg(int socket, byte[] data, int offset, int length, int[] fds) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocate(MSGHDR_SIZE, 8);
            MemorySegment iov = arena.allocate(16, 8);
            MemorySegment buf = arena.allocate(Math.max(1, length));
            MemorySegment.copy(data, offset, buf, ValueLayout.JAVA_BYTE, 0, length);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, length);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            if (fds.length > 0) {
                long space = cmsgSpace(4L * fds.length);
                MemorySegment control = arena.allocate(space, 8);
                control.set(ValueLayout.JAVA_LONG, 0, CMSG_HEADER + 4L * fds.length);
                control.set(ValueLayout.JAVA_INT, 8, SOL_SOCKET);
                control.set(ValueLayout.JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(ValueLayout.JAVA_INT, CMSG_HEADER + 4L * i, fds[i]);
                }
                msg.set(ValueLayout.ADDRESS, 32, control);
                msg.set(ValueLayout.JAVA_LONG, 40, space);
            }
            MemorySegment state = arena.allocate(CAPTURE);
            long sent = (long) SENDMSG.invokeExact(state, socket, msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent < 0) {
                int errno = errno(state);
                if (errno == EAGAIN || errno == EINTR) {
                    return 0;
                }
                throw new IOException("sendmsg on fd " + socket + " with " + fds.length + " descriptors failed: " + describe(errno));
            }
            return sent;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sendmsg", t);
        }
    }

    /** One {@code recvmsg} of at most {@code maxBytes} and {@code maxFds} descriptors; null when it would block. */
    static Received recvmsg(int socket, int maxBytes, int maxFds) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocate(MSGHDR_SIZE, 8);
            MemorySegment iov = arena.allocate(16, 8);
            MemorySegment buf = arena.allocate(maxBytes);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, maxBytes);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            long space = cmsgSpace(4L * maxFds);
            MemorySegment control = arena.allocate(space, 8);
            msg.set(ValueLayout.ADDRESS, 32, control);
            msg.set(ValueLayout.JAVA_LONG, 40, space);
            MemorySegment state = arena.allocate(CAPTURE);
            long n = (long) RECVMSG.invokeExact(state, socket, msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
            if (n < 0) {
                int errno = errno(state);
                if (errno == EAGAIN || errno == EINTR) {
                    return null;
                }
                throw new IOException("recvmsg on fd " + socket + " failed: " + describe(errno));
            }
            byte[] data = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            List<Integer> fds = new ArrayList<>();
            long controlLen = msg.get(ValueLayout.JAVA_LONG, 40);
            long at = 0;
            while (at + CMSG_HEADER <= controlLen) {
                long len = control.get(ValueLayout.JAVA_LONG, at);
                if (len < CMSG_HEADER || at + len > controlLen) {
                    break;
                }
                int level = control.get(ValueLayout.JAVA_INT, at + 8);
                int type = control.get(ValueLayout.JAVA_INT, at + 12);
                if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                    for (long p = CMSG_HEADER; p + 4 <= len; p += 4) {
                        fds.add(control.get(ValueLayout.JAVA_INT, at + p));
                    }
                }
                at += cmsgSpace(len - CMSG_HEADER);
            }
            int flags = msg.get(ValueLayout.JAVA_INT, 48);
            return new Received(data, fds, (flags & MSG_CTRUNC) != 0);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("recvmsg", t);
        }
    }

    /** Waits up to {@code millis} for {@code events} on {@code fd}; true when one is pending (or an error/hangup). */
    static boolean poll(int fd, int events, int millis) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4);
            pollfd.set(ValueLayout.JAVA_INT, 0, fd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, (short) events);
            MemorySegment state = arena.allocate(CAPTURE);
            int n = (int) POLL.invokeExact(state, pollfd, 1L, millis);
            if (n < 0) {
                int errno = errno(state);
                if (errno == EINTR) {
                    return false;
                }
                throw new IOException("poll on fd " + fd + " failed: " + describe(errno));
            }
            return n > 0;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("poll", t);
        }
    }

    /** One int-valued {@code SOL_SOCKET} option; throws {@link NotASocket} for a descriptor that is no socket. */
    static int socketOption(int fd, int option) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 4);
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) GETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, option, value, len);
            if (rc != 0) {
                int errno = errno(state);
                if (errno == ENOTSOCK) {
                    throw new NotASocket(fd);
                }
                throw new IOException("getsockopt(fd " + fd + ", option " + option + ") failed: " + describe(errno));
            }
            return value.get(ValueLayout.JAVA_INT, 0);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("getsockopt", t);
        }
    }

    /** Where {@code fd} is bound ({@code getsockname}): an inet or unix address; null for another family. */
    static java.net.SocketAddress localAddress(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(128, 8);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 128);
            MemorySegment state = arena.allocate(CAPTURE);
            if ((int) GETSOCKNAME.invokeExact(state, fd, addr, len) != 0) {
                throw new IOException("getsockname(fd " + fd + ") failed: " + describe(errno(state)));
            }
            int length = Math.min(128, len.get(ValueLayout.JAVA_INT, 0));
            int family = Short.toUnsignedInt(addr.get(ValueLayout.JAVA_SHORT, 0));
            int port = Short.toUnsignedInt(addr.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2));
            return switch (family) {
                case AF_INET -> new java.net.InetSocketAddress(java.net.InetAddress.getByAddress(addr.asSlice(4, 4).toArray(ValueLayout.JAVA_BYTE)), port);
                case AF_INET6 -> new java.net.InetSocketAddress(java.net.InetAddress.getByAddress(addr.asSlice(8, 16).toArray(ValueLayout.JAVA_BYTE)), port);
                case AF_UNIX -> {
                    byte[] path = addr.asSlice(2, Math.max(0, length - 2)).toArray(ValueLayout.JAVA_BYTE);
                    int end = 0;
                    while (end < path.length && path[end] != 0) {
                        end++;
                    }
                    yield java.net.UnixDomainSocketAddress.of(new String(path, 0, end, java.nio.charset.StandardCharsets.UTF_8));
                }
                default -> null;
            };
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("getsockname", t);
        }
    }

    /** The peer's {@code {pid, uid, gid}} of a connected unix socket ({@code SO_PEERCRED}). */
    static int[] peerCredentials(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(12, 4);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 12);
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) GETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_PEERCRED, value, len);
            if (rc != 0) {
                throw new IOException("getsockopt(SO_PEERCRED) on fd " + fd + " failed: " + describe(errno(state)));
            }
            return new int[] {value.get(ValueLayout.JAVA_INT, 0), value.get(ValueLayout.JAVA_INT, 4), value.get(ValueLayout.JAVA_INT, 8)};
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("getsockopt", t);
        }
    }

    /** A close-on-exec duplicate of {@code fd}. */
    static int dup(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int copy = (int) FCNTL.invokeExact(state, fd, F_DUPFD_CLOEXEC, 3);
            if (copy < 0) {
                throw new IOException("dup of fd " + fd + " failed: " + describe(errno(state)));
            }
            return copy;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl", t);
        }
    }

    /** {@code dup2(from, to)}: {@code to} becomes a copy of {@code from}. */
    static void dup2(int from, int to) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            if ((int) DUP2.invokeExact(state, from, to) < 0) {
                throw new IOException("dup2(" + from + ", " + to + ") failed: " + describe(errno(state)));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("dup2", t);
        }
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int ignored = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close", t);
        }
    }

    static void closeAll(List<Integer> fds) {
        for (int fd : fds) {
            close(fd);
        }
    }

    private static long cmsgSpace(long dataBytes) {
        return CMSG_HEADER + ((dataBytes + 7) & ~7L);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static String describe(int errno) {
        String name = switch (errno) {
            case 1 -> "EPERM";
            case 9 -> "EBADF";
            case 11 -> "EAGAIN";
            case 24 -> "EMFILE (too many open files)";
            case 32 -> "EPIPE (the peer closed)";
            case 104 -> "ECONNRESET";
            case 105 -> "ENOBUFS";
            case 107 -> "ENOTCONN";
            case 22 -> "EINVAL";
            case 109 -> "ETOOMANYREFS";
            default -> "";
        };
        return "errno " + errno + (name.isEmpty() ? "" : " " + name);
    }

    /** getsockopt said ENOTSOCK. */
    static final class NotASocket extends IOException {
        private static final long serialVersionUID = 1L;

        NotASocket(int fd) {
            super("fd " + fd + " is not a socket");
        }
    }
}
