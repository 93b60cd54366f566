package dev.governor.runtime.internal.os;

import static dev.governor.runtime.internal.os.Downcalls.align8;
import static dev.governor.runtime.internal.os.Downcalls.call;
import static dev.governor.runtime.internal.os.Downcalls.errno;
import static dev.governor.runtime.internal.os.Downcalls.state;
import static dev.governor.runtime.internal.os.Libc.MSG_CTRUNC;
import static dev.governor.runtime.internal.os.Libc.SCM_RIGHTS;
import static dev.governor.runtime.internal.os.Libc.SOL_SOCKET;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.governor.runtime.internal.os.Downcalls.Fn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code sendmsg} and {@code recvmsg} with descriptors as {@code SCM_RIGHTS}: the {@code struct
 * msghdr}, {@code struct iovec} and {@code struct cmsghdr} they take, laid out as on 64-bit Linux.
 */
final class Msghdr {
    private static final long MSG_SIZE = 56,
            MSG_IOV = 16,
            MSG_IOVLEN = 24,
            MSG_CONTROL = 32,
            MSG_CONTROLLEN = 40,
            MSG_FLAGS = 48;
    private static final long IOV_SIZE = 16;
    private static final long CMSG_HEADER = 16, CMSG_LEVEL = 8, CMSG_TYPE = 12;

    private Msghdr() {}

    /** See {@link Libc#sendmsg}. */
    static long send(int fd, byte[] data, int offset, int length, int[] fds, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment buf = arena.allocate(Math.max(1, length));
            MemorySegment.copy(data, offset, buf, JAVA_BYTE, 0, length);
            MemorySegment iov = arena.allocate(IOV_SIZE, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, length);
            MemorySegment msg = arena.allocate(MSG_SIZE, 8);
            msg.set(ADDRESS, MSG_IOV, iov);
            msg.set(JAVA_LONG, MSG_IOVLEN, 1);
            if (fds.length > 0) {
                long used = CMSG_HEADER + 4L * fds.length;
                MemorySegment control = arena.allocate(align8(used), 8);
                control.set(JAVA_LONG, 0, used);
                control.set(JAVA_INT, CMSG_LEVEL, SOL_SOCKET);
                control.set(JAVA_INT, CMSG_TYPE, SCM_RIGHTS);
                for (int k = 0; k < fds.length; k++) {
                    control.set(JAVA_INT, CMSG_HEADER + 4L * k, fds[k]);
                }
                msg.set(ADDRESS, MSG_CONTROL, control);
                msg.set(JAVA_LONG, MSG_CONTROLLEN, control.byteSize());
            }
            long sent = call(Fn.SENDMSG, state, fd, msg.address(), flags, 0, 0);
            if (sent < 0) {
                throw new ErrnoException(
                        "sendmsg(fd " + fd + ", " + length + " bytes, " + fds.length + " descriptors)", errno(state));
            }
            return sent;
        }
    }

    /** See {@link Libc#recvmsg}. */
    static Libc.Received receive(int fd, int maxBytes, int maxFds, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment buf = arena.allocate(Math.max(1, maxBytes));
            MemorySegment iov = arena.allocate(IOV_SIZE, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, maxBytes);
            long controlSpace = CMSG_HEADER + align8(4L * maxFds);
            MemorySegment control = arena.allocate(controlSpace, 8);
            MemorySegment msg = arena.allocate(MSG_SIZE, 8);
            msg.set(ADDRESS, MSG_IOV, iov);
            msg.set(JAVA_LONG, MSG_IOVLEN, 1);
            msg.set(ADDRESS, MSG_CONTROL, control);
            msg.set(JAVA_LONG, MSG_CONTROLLEN, controlSpace);
            long n = call(Fn.RECVMSG, state, fd, msg.address(), flags, 0, 0);
            if (n < 0) {
                throw new ErrnoException("recvmsg(fd " + fd + ")", errno(state));
            }
            List<Integer> fds = new ArrayList<>();
            long controlLength = msg.get(JAVA_LONG, MSG_CONTROLLEN);
            for (long at = 0; at + CMSG_HEADER <= controlLength; ) {
                long length = control.get(JAVA_LONG, at);
                if (length < CMSG_HEADER || at + length > controlLength) {
                    break;
                }
                if (control.get(JAVA_INT, at + CMSG_LEVEL) == SOL_SOCKET
                        && control.get(JAVA_INT, at + CMSG_TYPE) == SCM_RIGHTS) {
                    for (long p = at + CMSG_HEADER; p + 4 <= at + length; p += 4) {
                        fds.add(control.get(JAVA_INT, p));
                    }
                }
                at += align8(length);
            }
            boolean truncated = (msg.get(JAVA_INT, MSG_FLAGS) & MSG_CTRUNC) != 0;
            return new Libc.Received(buf.asSlice(0, n).toArray(JAVA_BYTE), List.copyOf(fds), truncated);
        }
    }
}
