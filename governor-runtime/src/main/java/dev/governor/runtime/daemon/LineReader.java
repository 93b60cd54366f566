package dev.governor.runtime.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** Lines of at most {@code max} bytes; a longer line is consumed up to its end and reported as overlong. */
final class LineReader {
    /** When a connection last sent something, and whether a command of it is being answered. */
    static final class Activity {
        volatile long lastNanos = System.nanoTime();
        volatile boolean busy;
    }

    record Line(String text, boolean overlong, long bytes) {}

    private final SocketChannel ch;
    private final int max;
    private final ByteBuffer buf = ByteBuffer.allocate(8192);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Activity activity;

    LineReader(SocketChannel ch, int max) {
        this(ch, max, null);
    }

    LineReader(SocketChannel ch, int max, Activity activity) {
        this.ch = ch;
        this.max = max;
        this.activity = activity;
        buf.flip();
    }

    /** The next line, or null at the end of the stream (a last unterminated line is dropped). */
    Line next() throws IOException {
        line.reset();
        long bytes = 0;
        while (true) {
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b == '\n') {
                    if (bytes > max) {
                        return new Line("", true, bytes);
                    }
                    byte[] raw = line.toByteArray();
                    int len = raw.length > 0 && raw[raw.length - 1] == '\r' ? raw.length - 1 : raw.length;
                    return new Line(new String(raw, 0, len, StandardCharsets.UTF_8), false, bytes);
                }
                bytes++;
                if (bytes <= max) {
                    line.write(b);
                }
            }
            buf.clear();
            int n = ch.read(buf);
            buf.flip();
            if (n > 0 && activity != null) {
                activity.lastNanos = System.nanoTime();
            }
            if (n < 0) {
                return null;
            }
        }
    }
}
