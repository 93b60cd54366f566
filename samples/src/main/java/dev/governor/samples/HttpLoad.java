package dev.governor.samples;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A strict HTTP/1.1 load generator: {@code connections} keep-alive connections, each a thread that
 * sends {@code GET path} and reads the whole answer before the next one. A connection is opened
 * again only when the server said {@code Connection: close}; anything else that ends a connection
 * (a reset, an EOF before or inside an answer, a refused connect) counts as a connection error.
 * Latencies are kept per request with the second they ended in, for percentiles around moments.
 */
public final class HttpLoad implements AutoCloseable {
    private final InetSocketAddress target;
    private final byte[] request;
    private final List<Worker> workers = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private final LongAdder requests = new LongAdder();
    private final LongAdder connectionErrors = new LongAdder();
    private final LongAdder non200 = new LongAdder();
    private final LongAdder reconnects = new LongAdder();
    private final Map<String, LongAdder> bodies = new ConcurrentHashMap<>();
    private final List<String> errorSamples = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile boolean stopping;

    /** Starts {@code connections} connections to {@code target}, each sending {@code GET path} in a loop. */
    public HttpLoad(InetSocketAddress target, String path, int connections) {
        this.target = target;
        this.request = ("GET " + path + " HTTP/1.1\r\nHost: " + target.getHostString() + ":" + target.getPort()
                        + "\r\nUser-Agent: governor-httpload\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < connections; i++) {
            Worker w = new Worker();
            workers.add(w);
            w.thread = Thread.ofPlatform().daemon().name("httpload-" + i).start(w);
        }
    }

    /** Nanoseconds since this load began (the time base of {@link Result#latenciesBySecond()}). */
    public long elapsedNanos() {
        return System.nanoTime() - startNanos;
    }

    public long requests() {
        return requests.sum();
    }

    /** The 200 answers so far by body: which process or generation is answering (a live view, for waiting on it). */
    public Map<String, Long> bodiesSoFar() {
        Map<String, Long> seen = new TreeMap<>();
        bodies.forEach((k, v) -> seen.put(k, v.sum()));
        return seen;
    }

    /** Stops every connection and returns what was measured. */
    public Result stop() throws InterruptedException {
        stopping = true;
        for (Worker w : workers) {
            w.thread.join(30_000);
        }
        TreeMap<Long, long[]> bySecond = new TreeMap<>();
        Map<Long, List<long[]>> parts = new TreeMap<>();
        for (Worker w : workers) {
            for (int i = 0; i < w.count; i++) {
                parts.computeIfAbsent(w.endedAtMillis[i] / 1000, k -> new ArrayList<>())
                        .add(new long[] {w.latencyMicros[i]});
            }
        }
        parts.forEach((second, list) ->
                bySecond.put(second, list.stream().mapToLong(a -> a[0]).sorted().toArray()));
        Map<String, Long> seen = new TreeMap<>();
        bodies.forEach((k, v) -> seen.put(k, v.sum()));
        return new Result(
                requests.sum(),
                connectionErrors.sum(),
                non200.sum(),
                reconnects.sum(),
                seen,
                List.copyOf(errorSamples),
                bySecond,
                elapsedNanos());
    }

    /** Stops the connections if {@link #stop()} was not called; an interrupt is kept for the caller. */
    @Override
    public void close() {
        if (!stopping) {
            try {
                stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * What a run measured.
     *
     * @param latenciesBySecond per second since the start, the latencies (µs) of the requests that
     *                          ended in it, sorted
     */
    public record Result(
            long requests,
            long connectionErrors,
            long non200,
            long reconnects,
            Map<String, Long> bodies,
            List<String> errorSamples,
            TreeMap<Long, long[]> latenciesBySecond,
            long durationNanos) {

        public double requestsPerSecond() {
            return requests / (durationNanos / 1e9);
        }

        /** The {@code q} quantile (0..1) in ms of the requests that ended in the given seconds. */
        public double percentileMillis(double q, java.util.function.LongPredicate seconds) {
            long[] all = latenciesBySecond.entrySet().stream()
                    .filter(e -> seconds.test(e.getKey()))
                    .flatMapToLong(e -> Arrays.stream(e.getValue()))
                    .sorted()
                    .toArray();
            if (all.length == 0) {
                return Double.NaN;
            }
            int at = (int) Math.min(all.length - 1, Math.ceil(q * all.length) - 1);
            return all[Math.max(0, at)] / 1000.0;
        }

        public long requestsIn(java.util.function.LongPredicate seconds) {
            return latenciesBySecond.entrySet().stream()
                    .filter(e -> seconds.test(e.getKey()))
                    .mapToLong(e -> e.getValue().length)
                    .sum();
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "%d requests (%.0f/s), %d connection errors, %d non-200, %d reconnects on"
                            + " Connection: close, p99 %.2f ms",
                    requests,
                    requestsPerSecond(),
                    connectionErrors,
                    non200,
                    reconnects,
                    percentileMillis(0.99, s -> true));
        }
    }

    private final class Worker implements Runnable {
        Thread thread;
        long[] endedAtMillis = new long[1 << 14];
        long[] latencyMicros = new long[1 << 14];
        int count;

        @Override
        public void run() {
            Socket socket = null;
            while (!stopping) {
                try {
                    if (socket == null) {
                        socket = new Socket();
                        socket.setTcpNoDelay(true);
                        socket.connect(target, 10_000);
                        socket.setSoTimeout(30_000);
                    }
                    if (!exchange(socket)) {
                        socket.close();
                        socket = null;
                        reconnects.increment();
                    }
                } catch (IOException | RuntimeException e) {
                    if (!stopping) {
                        connectionErrors.increment();
                        if (errorSamples.size() < 20) {
                            errorSamples.add(e.toString());
                        }
                    }
                    closeQuietly(socket);
                    socket = null;
                }
            }
            closeQuietly(socket);
        }

        /** One request and its answer; false if the server asked to close the connection. */
        private boolean exchange(Socket socket) throws IOException {
            long began = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = input(socket);
            String status = line(in);
            if (status == null) {
                throw new IOException("connection closed before an answer (no Connection: close was announced)");
            }
            int contentLength = -1;
            boolean close = false;
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                if (colon > 0) {
                    String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = h.substring(colon + 1).trim();
                    if (name.equals("content-length")) {
                        contentLength = Integer.parseInt(value);
                    } else if (name.equals("connection") && value.equalsIgnoreCase("close")) {
                        close = true;
                    }
                }
            }
            if (contentLength < 0) {
                throw new IOException("answer without Content-Length: " + status);
            }
            byte[] body = in.readNBytes(contentLength);
            if (body.length < contentLength) {
                throw new IOException("connection closed inside an answer");
            }
            long ended = System.nanoTime();
            requests.increment();
            if (!status.startsWith("HTTP/1.1 200 ")) {
                non200.increment();
                if (errorSamples.size() < 20) {
                    errorSamples.add("non-200: " + status);
                }
            } else {
                bodies.computeIfAbsent(new String(body, StandardCharsets.UTF_8).strip(), k -> new LongAdder())
                        .increment();
            }
            record(ended, ended - began);
            return !close;
        }

        private final Map<Socket, InputStream> inputs = new java.util.IdentityHashMap<>();

        private InputStream input(Socket socket) throws IOException {
            InputStream in = inputs.get(socket);
            if (in == null) {
                inputs.clear();
                in = new BufferedInputStream(socket.getInputStream(), 8192);
                inputs.put(socket, in);
            }
            return in;
        }

        private void record(long endedNanos, long tookNanos) {
            if (count == endedAtMillis.length) {
                endedAtMillis = Arrays.copyOf(endedAtMillis, count * 2);
                latencyMicros = Arrays.copyOf(latencyMicros, count * 2);
            }
            endedAtMillis[count] = (endedNanos - startNanos) / 1_000_000;
            latencyMicros[count] = tookNanos / 1_000;
            count++;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) c);
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing after an error
            }
        }
    }
}
