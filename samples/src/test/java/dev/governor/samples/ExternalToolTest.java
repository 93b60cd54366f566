package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** A missing tool skips a test on a developer's machine, and fails it under CI=true. */
class ExternalToolTest {

    @Test
    void aMissingToolShouldSkipOutsideCiAndFailUnderCi() {
        boolean ci = "true".equals(System.getenv("CI"));
        assertThatThrownBy(() -> ExternalTool.require("no-such-tool-governor", "no-such-package"))
                .isInstanceOf(ci ? AssertionFailedError.class : TestAbortedException.class)
                .hasMessageContaining("no-such-tool-governor is not on the PATH")
                .hasMessageContaining("install the Debian package no-such-package");
    }

    @Test
    void aPresentToolShouldBeFoundOnThePath() {
        ExternalTool sh = ExternalTool.require("sh", "dash");
        assertThat(sh.path()).isExecutable();
    }
}
