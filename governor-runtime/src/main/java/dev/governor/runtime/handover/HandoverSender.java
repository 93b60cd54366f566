package dev.governor.runtime.handover;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The old process's side of one handover connection: sends every socket with its metadata, in
 * batches of at most 253 descriptors (the kernel's {@code SCM_MAX_FD}), then
 * waits for the new process to say it received them all and, later, that it is ready. Only then
 * does it answer {@code DRAIN}: from that moment the new process serves and the old one must
 * drain and exit. Anything else (an {@code ERROR} line, a closed connection, a wrong count, the
 * deadline) is a {@link HandoverException} whose message says what the new process reported; the
 * sockets stay the old process's, untouched.
 *
 * <p>The conversation, after the receiver's hello line {@code handover 1}:
 * <pre>
 *   old → new   frame {"protocol":"governor-handover","version":1,"pid":…,"batch":0,"batches":1,"total":2,
 *                      "sockets":[{"name":"http","kind":"tcp","address":"0.0.0.0:8080","source":"bound"}, …]}
 *               + SCM_RIGHTS [fd, fd]                      (one frame per batch)
 *   new → old   RECEIVED 2          or  ERROR reason
 *   new → old   READY 4711          or  ERROR reason        (once its governor is ready)
 *   old → new   DRAIN
 * </pre>
 */
public final class HandoverSender {
    /** A socket to send: what the receiver is told, and the descriptor (which stays the caller's). */
    public record Outgoing(Entry entry, int fd) {
        public Outgoing {
            Objects.requireNonNull(entry, "entry");
            if (fd < 0) {
                throw new IllegalArgumentException("fd must be >= 0, was " + fd + " for " + entry);
            }
        }
    }

    private HandoverSender() {}

    /**
     * Serves one receiver whose hello line was {@code hello}; returns the pid it announced as ready.
     *
     * @param receivedDeadline until when ({@link System#nanoTime()}) the sockets must be confirmed received
     * @param readyDeadline    until when the receiver must say it is ready
     */
    static long serve(Wire wire, String hello, List<Outgoing> sockets, long receivedDeadline, long readyDeadline)
            throws HandoverException {
        try {
            String version = hello.strip().startsWith(Handover.HELLO + " ")
                    ? hello.strip().substring(Handover.HELLO.length() + 1)
                    : "";
            if (!version.equals(Integer.toString(Handover.VERSION))) {
                String reason = "the receiver asked for handover protocol version \"" + shorten(version)
                        + "\"; this process speaks version " + Handover.VERSION;
                Map<String, Object> refusal = header();
                refusal.put("error", reason);
                wire.sendFrame(refusal, new int[0], receivedDeadline);
                throw new HandoverException(reason);
            }
            int batches = Math.max(1, (sockets.size() + Libc.SCM_MAX_FD - 1) / Libc.SCM_MAX_FD);
            for (int b = 0; b < batches; b++) {
                List<Outgoing> batch =
                        sockets.subList(b * Libc.SCM_MAX_FD, Math.min(sockets.size(), (b + 1) * Libc.SCM_MAX_FD));
                Map<String, Object> h = header();
                h.put("batch", b);
                h.put("batches", batches);
                h.put("total", sockets.size());
                List<Object> entries = new ArrayList<>(batch.size());
                int[] fds = new int[batch.size()];
                for (int i = 0; i < batch.size(); i++) {
                    entries.add(batch.get(i).entry().toJson());
                    fds[i] = batch.get(i).fd();
                }
                h.put("sockets", entries);
                wire.sendFrame(h, fds, receivedDeadline);
            }
            String received = answer(wire, receivedDeadline, "to confirm it received the sockets");
            if (!received.equals("RECEIVED " + sockets.size())) {
                throw new HandoverException(
                        "the receiver answered \"" + shorten(received) + "\", expected RECEIVED " + sockets.size());
            }
            String ready = answer(wire, readyDeadline, "to be ready");
            if (!ready.startsWith("READY ")) {
                throw new HandoverException(
                        "the receiver answered \"" + shorten(ready) + "\", expected READY and its pid");
            }
            long pid;
            try {
                pid = Long.parseLong(ready.substring(6).strip());
            } catch (NumberFormatException e) {
                throw new HandoverException("the receiver said \"" + shorten(ready) + "\": not a pid");
            }
            wire.sendLine("DRAIN", readyDeadline);
            try {
                // the receiver closes once it writes where we write: wait for that (briefly), so its output is in order
                wire.readLine(Math.min(readyDeadline, System.nanoTime() + 2_000_000_000L));
            } catch (IOException endOfConversation) {
                // closed, as expected
            }
            return pid;
        } catch (HandoverException e) {
            throw e;
        } catch (IOException e) {
            throw new HandoverException("handover failed: " + e.getMessage(), e);
        }
    }

    /** The receiver's next line; its ERROR becomes the exception's message. */
    private static String answer(Wire wire, long deadline, String what) throws IOException {
        String line;
        try {
            line = wire.readLine(deadline);
        } catch (java.net.SocketTimeoutException e) {
            throw new HandoverException("the receiver did not answer in time " + what);
        } catch (java.io.EOFException e) {
            throw new HandoverException("the receiver closed the connection before it was ready");
        }
        if (line.startsWith("ERROR ")) {
            throw new HandoverException("the receiver refused the handover: " + line.substring(6));
        }
        return line;
    }

    static Map<String, Object> header() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("protocol", Handover.PROTOCOL);
        h.put("version", Handover.VERSION);
        h.put("pid", ProcessHandle.current().pid());
        return h;
    }

    static String shorten(String text) {
        String cut = text.length() > 200 ? text.substring(0, 200) + "…" : text;
        StringBuilder sb = new StringBuilder(cut.length());
        cut.codePoints().forEach(c -> sb.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return sb.toString();
    }
}
