package dev.governor.runtime.upgrade;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** The last lines of a file (at most its last 64 KiB), for a failure report. */
final class OutputTail {
    private static final int MAX_BYTES = 65536;

    private OutputTail() {}

    static String lastLines(Path file, int lines) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long size = f.length();
            int n = (int) Math.min(size, MAX_BYTES);
            byte[] buf = new byte[n];
            f.seek(size - n);
            f.readFully(buf);
            List<String> all = new String(buf, StandardCharsets.UTF_8)
                    .lines()
                    .filter(l -> !l.isBlank())
                    .toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "";
        }
    }
}
