package dev.governor.samples;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop HTTP/1.1 keep-alive load: {@code connections} platform threads, each sending
 * {@code GET /} on its own connection as fast as answers come, reconnecting when the server says
 * {@code Connection: close}. Counts answers by the pid that served them ({@code served by pid N}),
 * errors (a refused or reset connection, an answer cut short) and non-200 answers, and keeps every
 * latency with its time for percentiles around an event.
 */
public final class KeepAliveLoad implements AutoCloseable {
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: load\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** What the load saw so far. */
    public record Stats(long ok, long errors, long non200, Map<Long, Long> byPid, List<String> errorSamples) {
        public long requests() {
            return ok + errors + non200;
        }
    }

    private final InetSocketAddress target;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Recorder> recorders = new CopyOnWriteArrayList<>();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong non200 = new AtomicLong();
    private final Map<Long, AtomicLong> byPid = new ConcurrentHashMap<>();
    private final List<String> errorSamples = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;
    private volatile long lastPid = -1;

    private KeepAliveLoad(InetSocketAddress target) {
        this.target = target;
    }

    /** Starts {@code connections} connections to {@code target}. */
    public static KeepAliveLoad start(InetSocketAddress target, int connections) {
        KeepAliveLoad load = new KeepAliveLoad(target);
        for (int i = 0; i < connections; i++) {
            Recorder r = new Recorder();
            load.recorders.add(r);
            load.threads.add(Thread.ofPlatform().daemon().name("load-" + i).start(() -> load.loop(r)));
        }
        return load;
    }

    public Stats stats() {
        Map<Long, Long> pids = new TreeMap<>();
        byPid.forEach((pid, n) -> pids.put(pid, n.get()));
        return new Stats(ok.get(), errors.get(), non200.get(), pids, List.copyOf(errorSamples));
    }

    /** The pid of the latest answer. */
    public long lastPid() {
        return lastPid;
    }

    /** Latencies (nanoseconds) of requests that ended within {@code [fromNanos, toNanos)} of {@link System#nanoTime()}. */
    public long[] latencies(long fromNanos, long toNanos) {
        List<long[]> parts = new ArrayList<>();
        for (Recorder r : recorders) {
            parts.add(r.between(fromNanos, toNanos));
        }
        return parts.stream().flatMapToLong(Arrays::stream).toArray();
    }

    private void loop(Recorder recorder) {
        Socket socket = null;
        InputStream in = null;
        OutputStream out = null;
        byte[] buf = new byte[4096];
        while (running) {
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.setTcpNoDelay(true);
                    socket.setSoTimeout(30_000);
                    socket.connect(target, 10_000);
                    in = new BufferedInputStream(socket.getInputStream(), 8192);
                    out = socket.getOutputStream();
                }
                long start = System.nanoTime();
                out.write(REQUEST);
                out.flush();
                String head = readHead(in);
                int status = Integer.parseInt(head.substring(9, 12));
                String lower = head.toLowerCase(java.util.Locale.ROOT);
                int cl = lower.indexOf("content-length:");
                int length = cl < 0 ? 0 : Integer.parseInt(lower.substring(cl + 15, lower.indexOf('\r', cl)).strip());
                if (length > buf.length) {
                    buf = new byte[length];
                }
                int got = in.readNBytes(buf, 0, length);
                if (got < length) {
                    throw new EOFException("answer cut short after " + got + " of " + length + " body bytes");
                }
                long end = System.nanoTime();
                recorder.add(end, end - start);
                if (status == 200) {
                    ok.incrementAndGet();
                    String text = new String(buf, 0, length, StandardCharsets.US_ASCII);
                    int at = text.indexOf("pid ");
                    if (at >= 0) {
                        long pid = Long.parseLong(text.substring(at + 4).strip());
                        lastPid = pid;
                        byPid.computeIfAbsent(pid, p -> new AtomicLong()).incrementAndGet();
                    }
                } else {
                    non200.incrementAndGet();
                    sample("status " + status);
                }
                if (lower.contains("\nconnection: close")) {
                    socket.close();
                    socket = null;
                }
            } catch (IOException | RuntimeException e) {
                if (running) {
                    errors.incrementAndGet();
                    sample(e.toString());
                }
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // reconnect
                    }
                }
                socket = null;
            }
        }
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // done
            }
        }
    }

    private void sample(String what) {
        if (errorSamples.size() < 20) {
            errorSamples.add(what);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(128);
        int state = 0;
        for (int c; (c = in.read()) >= 0; ) {
            sb.append((char) c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                return sb.toString();
            }
        }
        throw new EOFException("connection closed " + (sb.isEmpty() ? "before an answer" : "inside an answer"));
    }

    /** Stops every connection and waits for the threads. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(35_000);
        }
    }

    /** Per-thread (end time, latency) pairs, unsynchronized appends read after or during the run. */
    private static final class Recorder {
        private long[] ends = new long[1 << 14];
        private long[] lat = new long[1 << 14];
        private volatile int size;

        void add(long end, long latency) {
            int n = size;
            if (n == ends.length) {
                ends = Arrays.copyOf(ends, n * 2);
                lat = Arrays.copyOf(lat, n * 2);
            }
            ends[n] = end;
            lat[n] = latency;
            size = n + 1;
        }

        synchronized long[] between(long from, long to) {
            int n = size;
            long[] e = ends;
            long[] l = lat;
            return java.util.stream.IntStream.range(0, Math.min(n, Math.min(e.length, l.length)))
                    .filter(i -> e[i] >= from && e[i] < to).mapToLong(i -> l[i]).toArray();
        }
    }

    @Override
    public String toString() {
        return "KeepAliveLoad[" + target + ", " + threads.size() + " connections, " + stats() + "]";
    }
}
