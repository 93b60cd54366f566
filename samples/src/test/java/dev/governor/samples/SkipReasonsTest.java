package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** A skipped test's reason reaches the console line by line, with the tool and its Debian package. */
class SkipReasonsTest {

    @Test
    void shouldPrintTheReasonOfEverySkippedTest() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SkipReasons listener = new SkipReasons(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        LauncherFactory.create(LauncherConfig.builder()
                        .enableTestExecutionListenerAutoRegistration(false)
                        .build())
                .execute(
                        LauncherDiscoveryRequestBuilder.request()
                                .selectors(selectClass(Skipping.class))
                                .build(),
                        listener);
        String console = bytes.toString(StandardCharsets.UTF_8);
        if ("true".equals(System.getenv("CI"))) {
            assertThat(console).as("under CI=true a missing tool fails instead").doesNotContain("needsAMissingTool");
        } else {
            assertThat(console)
                    .contains("[SKIPPED] SkipReasonsTest$Skipping.needsAMissingTool: ")
                    .contains("no-such-tool-governor is not on the PATH")
                    .contains("install the Debian package no-such-package");
        }
        assertThat(console).contains("[SKIPPED] SkipReasonsTest$Skipping.disabled: not today");
        assertThat(console).doesNotContain("runs");
    }

    /** Run only by the test above (the "inner" tag is excluded from the build's own run). */
    @Tag("inner")
    static class Skipping {
        @Test
        void needsAMissingTool() {
            ExternalTool.require("no-such-tool-governor", "no-such-package");
        }

        @Test
        @Disabled("not today")
        void disabled() {}

        @Test
        void runs() {}
    }
}
