package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.test.ChildJvm;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Regression test of issue 12, item 10, with real signals to a child JVM. */
class Issue12SignalsTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    /**
     * Issue 12.10: coreutils timeout(1) signals the pid and then its process group, so two SIGTERMs
     * arrive about 1 ms apart; the second was taken for an impatient operator and the JVM halted
     * with 143, with no ordered shutdown.
     */
    @Test
    void twoSigtermsOneMillisecondApartHaltedWith143() throws Exception {
        try (ChildJvm child = ChildJvm.builder(StubbornDaemon.class).start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            Process kill = new ProcessBuilder("bash", "-c", "kill -TERM " + child.pid() + "; kill -TERM " + child.pid())
                    .redirectErrorStream(true)
                    .start();
            assertThat(kill.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(child.awaitExit(BOUND)).as(child.output()).isZero();
            assertThat(child.output())
                    .contains("stopped stubborn")
                    .contains("stopped polite")
                    .contains("exit code 0")
                    .doesNotContain("exiting now with 143");
        }
    }
}
