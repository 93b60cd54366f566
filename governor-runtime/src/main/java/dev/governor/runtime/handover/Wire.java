package dev.governor.runtime.handover;

import dev.governor.runtime.internal.Json;
import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.Libc;
import dev.governor.runtime.systemd.FdChannels;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * One connection of the handover protocol, spoken on the raw descriptor of a JDK unix
 * {@link SocketChannel} (the JDK has no SCM_RIGHTS): lines of text one way, frames the other.
 * A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON, with its descriptors
 * (if any) attached as SCM_RIGHTS to its first byte, as the kernel keeps them. Every wait is
 * bounded by a deadline ({@link System#nanoTime()}) and polls in slices, so an interrupt is seen.
 * Blocks in native code: use it from a platform thread.
 */
final class Wire implements AutoCloseable {
    /** Largest frame accepted: far above 253 sockets' metadata, far below anything that hurts. */
    static final int MAX_FRAME = 1 << 20;
    /** Longest line accepted. */
    static final int MAX_LINE = 4096;

    private static final int SLICE_MILLIS = 100;

    /** Descriptors that came with the stream byte at {@code offset}. */
    private record Mark(long offset, List<Integer> fds) {}

    /** A frame read: its header and the descriptors attached to it (the caller owns them). */
    record Frame(Map<String, Object> header, List<Integer> fds) {}

    private final SocketChannel channel;
    private final int fd;
    private byte[] buf = new byte[8192];
    private int start;
    private int end;
    private long offset; // stream offset of buf[start]
    private final Deque<Mark> marks = new ArrayDeque<>();

    Wire(SocketChannel channel) {
        this.channel = channel;
        this.fd = FdChannels.fd(channel);
    }

    SocketChannel channel() {
        return channel;
    }

    int fd() {
        return fd;
    }

    void sendLine(String line, long deadline) throws IOException {
        send((line + "\n").getBytes(StandardCharsets.UTF_8), new int[0], deadline);
    }

    void sendFrame(Map<String, Object> header, int[] fds, long deadline) throws IOException {
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[4 + json.length];
        frame[0] = (byte) (json.length >>> 24);
        frame[1] = (byte) (json.length >>> 16);
        frame[2] = (byte) (json.length >>> 8);
        frame[3] = (byte) json.length;
        System.arraycopy(json, 0, frame, 4, json.length);
        send(frame, fds, deadline);
    }

    /** Sends raw bytes with {@code fds} on the first one: for frames, and for tests that forge them. */
    void send(byte[] bytes, int[] fds, long deadline) throws IOException {
        int sent = 0;
        int[] attach = fds;
        while (sent < bytes.length) {
            long n;
            try {
                n = Libc.sendmsg(fd, bytes, sent, bytes.length - sent, attach, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
            } catch (ErrnoException e) {
                if (e.errno() != Libc.EAGAIN && e.errno() != Libc.EINTR) {
                    throw e;
                }
                n = 0; // the socket's buffer is full: wait until it drains
            }
            if (n > 0) {
                sent += (int) n;
                attach = new int[0]; // the kernel took them with the first byte
            } else {
                await(Libc.POLLOUT, deadline, "sending");
            }
        }
    }

    /** The next line (without its newline); descriptors arriving with it are closed and refused. */
    String readLine(long deadline) throws IOException {
        while (true) {
            for (int i = start; i < end; i++) {
                if (buf[i] == '\n') {
                    int len = i - start;
                    refuseFdsBefore(offset + len + 1, "a line");
                    String line = new String(buf, start, len, StandardCharsets.UTF_8);
                    consume(len + 1);
                    return line;
                }
            }
            if (end - start > MAX_LINE) {
                throw new ProtocolException("a line longer than " + MAX_LINE + " bytes");
            }
            fill(deadline);
        }
    }

    /** The next frame with its descriptors; a malformed one is refused, its descriptors closed. */
    Frame readFrame(long deadline) throws IOException {
        ensure(4, deadline);
        int len = ((buf[start] & 0xff) << 24)
                | ((buf[start + 1] & 0xff) << 16)
                | ((buf[start + 2] & 0xff) << 8)
                | (buf[start + 3] & 0xff);
        if (len <= 0 || len > MAX_FRAME) {
            throw new ProtocolException("a frame of " + Integer.toUnsignedString(len) + " bytes (the limit is "
                    + MAX_FRAME + "): not a handover header");
        }
        ensure(4 + len, deadline);
        long frameStart = offset;
        long frameEnd = offset + 4 + len;
        List<Integer> fds = new ArrayList<>();
        while (!marks.isEmpty() && marks.peekFirst().offset() < frameEnd) {
            Mark m = marks.pollFirst();
            fds.addAll(m.fds());
            if (m.offset() != frameStart) {
                Libc.closeAll(fds);
                throw new ProtocolException(
                        "descriptors attached to byte " + (m.offset() - frameStart) + " of a frame, not its first");
            }
        }
        String text = new String(buf, start + 4, len, StandardCharsets.UTF_8);
        consume(4 + len);
        try {
            if (!(MiniJson.parse(text) instanceof Map<?, ?> header)) {
                throw new IllegalArgumentException("the header is not a JSON object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> typed = (Map<String, Object>) header;
            return new Frame(typed, fds);
        } catch (IllegalArgumentException e) {
            Libc.closeAll(fds);
            throw new ProtocolException("a header that is not JSON (" + e.getMessage() + ")");
        }
    }

    private void refuseFdsBefore(long limit, String what) throws ProtocolException {
        List<Integer> stray = new ArrayList<>();
        while (!marks.isEmpty() && marks.peekFirst().offset() < limit) {
            stray.addAll(marks.pollFirst().fds());
        }
        if (!stray.isEmpty()) {
            Libc.closeAll(stray);
            throw new ProtocolException(stray.size() + " descriptors attached to " + what + "; closed them");
        }
    }

    private void ensure(int bytes, long deadline) throws IOException {
        while (end - start < bytes) {
            fill(deadline);
        }
    }

    private void consume(int n) {
        start += n;
        offset += n;
        if (start == end) {
            start = 0;
            end = 0;
        }
    }

    private void fill(long deadline) throws IOException {
        while (true) {
            Libc.Received r;
            try {
                r = Libc.recvmsg(fd, 65536, Libc.SCM_MAX_FD, Libc.MSG_CMSG_CLOEXEC | Libc.MSG_DONTWAIT);
            } catch (ErrnoException e) {
                if (e.errno() != Libc.EAGAIN && e.errno() != Libc.EINTR) {
                    throw e;
                }
                r = null; // nothing yet
            }
            if (r == null) {
                await(Libc.POLLIN, deadline, "waiting for the peer");
                continue;
            }
            if (r.truncated()) {
                Libc.closeAll(r.fds());
                throw new ProtocolException("more descriptors in one message than the " + Libc.SCM_MAX_FD + " allowed");
            }
            if (r.data().length == 0) {
                Libc.closeAll(r.fds());
                throw new EOFException("the peer closed the handover connection");
            }
            if (!r.fds().isEmpty()) {
                marks.addLast(new Mark(offset + (end - start), r.fds()));
            }
            if (end + r.data().length > buf.length) {
                int live = end - start;
                byte[] bigger = live + r.data().length > buf.length
                        ? new byte[Math.max(buf.length * 2, live + r.data().length)]
                        : buf;
                System.arraycopy(buf, start, bigger, 0, live);
                buf = bigger;
                start = 0;
                end = live;
            }
            System.arraycopy(r.data(), 0, buf, end, r.data().length);
            end += r.data().length;
            return;
        }
    }

    private void await(int events, long deadline, String doing) throws IOException {
        while (true) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("interrupted while " + doing);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException("timed out " + doing);
            }
            if (Libc.poll(fd, events, (int) Math.min(SLICE_MILLIS, Math.max(1, left / 1_000_000)))) {
                return;
            }
        }
    }

    /** Closes the connection and any descriptor that arrived but was never read. */
    @Override
    public void close() {
        while (!marks.isEmpty()) {
            Libc.closeAll(marks.pollFirst().fds());
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public String toString() {
        return "Wire[fd=" + fd + ", buffered=" + (end - start) + ", pendingFds="
                + marks.stream().mapToInt(m -> m.fds().size()).sum() + "]";
    }

    /** The peer broke the protocol. */
    static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    static int[] ints(List<Integer> fds) {
        return fds.stream().mapToInt(Integer::intValue).toArray();
    }
}
