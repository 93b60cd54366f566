package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Without an SLF4J provider, every failure a governor logs would vanish: the first governor to
 * start says so on standard error, once per JVM. Run in a JVM whose class path is this test's
 * without slf4j-simple.
 */
class NoLoggingProviderTest {

    /** Starts and stops two governors. */
    public static final class TwoGovernors {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                Governor gov = Governor.create();
                gov.add("a", ctx -> ctx.awaitStop());
                gov.start();
                gov.shutdown();
            }
            System.out.println("done");
        }
    }

    private static String run(List<String> classPath) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(System.getProperty("governor.jvmArgs", "--enable-native-access=ALL-UNNAMED")
                .split("\\s+")));
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, classPath));
        cmd.add(TwoGovernors.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("done");
        return out;
    }

    @Test
    void shouldWarnOnceWhenNoProviderIsBoundAndStayQuietWithOne() throws Exception {
        List<String> full = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        assertThat(full).anyMatch(e -> e.contains("slf4j-simple"));
        List<String> bare =
                full.stream().filter(e -> !e.contains("slf4j-simple")).toList();

        String without = run(bare);
        assertThat(without.split("no SLF4J provider is bound", -1)).as(without).hasSize(2); // exactly once
        assertThat(without).contains("org.slf4j:slf4j-simple");

        String with = run(full);
        assertThat(with).doesNotContain("no SLF4J provider is bound").contains("governor starting 1 service(s)");
    }
}
