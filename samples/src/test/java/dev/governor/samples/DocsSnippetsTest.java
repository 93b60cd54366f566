package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every Java block of README.md and docs/*.md is a compiled example: it follows a marker naming
 * its file ({@code <!-- example: samples/src/test/java/dev/governor/examples/X.java -->}), a test
 * source the build compiles (and runs, when it is a test), and every line of the block, imports
 * included, is in that file in the same order.
 */
class DocsSnippetsTest {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Pattern MARKER = Pattern.compile("^<!-- example: (\\S+) -->$");

    private static String normalize(String line) {
        return line.strip().replaceAll("\\s+", " ");
    }

    @Test
    void everyJavaBlockShouldBeACompiledExampleWithItsImports() throws IOException {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Path doc : DocsScriptsTest.docs()) {
            List<String> lines = Files.readAllLines(doc);
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).strip().equals("```java")) {
                    continue;
                }
                String where = ROOT.relativize(doc) + ":" + (i + 1);
                Matcher m = i > 0 ? MARKER.matcher(lines.get(i - 1).strip()) : null;
                List<String> body = new ArrayList<>();
                for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
                    if (!lines.get(i).isBlank()) {
                        body.add(normalize(lines.get(i)));
                    }
                }
                if (m == null || !m.matches()) {
                    problems.add(where
                            + ": a java block without <!-- example: samples/src/test/java/dev/governor/examples/NAME.java -->"
                            + " before it; put the snippet, with its imports, in that file");
                    continue;
                }
                Path file = ROOT.resolve(m.group(1));
                if (!Files.isRegularFile(file) || !m.group(1).startsWith("samples/src/test/java/")) {
                    problems.add(
                            where + ": " + m.group(1) + " is not a test source of samples (compiled by the build)");
                    continue;
                }
                List<String> source = Files.readAllLines(file).stream()
                        .map(DocsSnippetsTest::normalize)
                        .toList();
                if (body.stream().noneMatch(l -> l.startsWith("import "))) {
                    problems.add(where + ": the block shows no imports");
                }
                int at = 0;
                for (String l : body) {
                    int found = source.subList(at, source.size()).indexOf(l);
                    if (found < 0) {
                        problems.add(where + ": `" + l + "` is not in " + m.group(1) + " (after its line " + at + ")");
                        break;
                    }
                    at += found + 1;
                }
                checked++;
            }
        }
        assertThat(problems)
                .as("java blocks out of step with their compiled examples")
                .isEmpty();
        assertThat(checked).as("java blocks found").isGreaterThanOrEqualTo(10);
    }
}
