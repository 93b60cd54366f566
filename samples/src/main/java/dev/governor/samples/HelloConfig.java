package dev.governor.samples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The configuration of the hello service, one {@code key=value} a line ({@code #} starts a comment):
 * <pre>
 *   greeting=Hello, world     # what GET /hello answers (required, non-blank, at most 200 characters)
 * </pre>
 * Anything else is refused with the file, the line and the rule, so a reload with a broken file is
 * refused and the running generation keeps answering.
 *
 * @param greeting what {@code GET /hello} answers after the generation number
 */
record HelloConfig(String greeting) {

    static HelloConfig read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String greeting = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash < 0 ? line : line.substring(0, hash)).strip();
            if (content.isEmpty()) {
                continue;
            }
            int eq = content.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": \"" + line + "\" is not key=value");
            }
            String key = content.substring(0, eq).strip();
            String value = content.substring(eq + 1).strip();
            if (!key.equals("greeting")) {
                throw new IllegalArgumentException(
                        file + " line " + (i + 1) + ": unknown key \"" + key + "\" (known: greeting)");
            }
            if (value.isEmpty() || value.length() > 200) {
                throw new IllegalArgumentException(
                        file + " line " + (i + 1) + ": greeting must be 1 to 200 characters, was " + value.length());
            }
            greeting = value;
        }
        if (greeting == null) {
            throw new IllegalArgumentException(file + ": no greeting=... line");
        }
        return new HelloConfig(greeting);
    }
}
