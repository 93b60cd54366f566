package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

class LoggingCheckTest {

    /** A class loader that finds slf4j-nop's provider or not, and nothing else. */
    private static ClassLoader withNop(boolean nop) {
        return new ClassLoader(null) {
            @Override
            public URL getResource(String name) {
                if (nop && name.equals(LoggingCheck.SLF4J_NOP_PROVIDER)) {
                    return LoggingCheckTest.class.getResource("LoggingCheckTest.class"); // any URL
                }
                return null;
            }
        };
    }

    @Test
    void shouldWarnWhenNoProviderIsBound() {
        assertThat(LoggingCheck.warning(new NOPLoggerFactory(), withNop(false)))
                .contains("no SLF4J provider is bound")
                .contains("org.slf4j:slf4j-simple");
        assertThat(LoggingCheck.warning(new NOPLoggerFactory(), null)).contains("no SLF4J provider is bound");
    }

    @Test
    void shouldStayQuietWhenSlf4jNopIsBoundOnPurpose() {
        // slf4j-nop makes the same NOPLoggerFactory as slf4j's fallback: its provider on the class path tells them
        // apart
        assertThat(LoggingCheck.warning(new NOPLoggerFactory(), withNop(true))).isNull();
    }

    @Test
    void shouldStayQuietWithARealProvider() {
        // slf4j-simple is on this module's test class path
        assertThat(LoggerFactory.getILoggerFactory()).isNotInstanceOf(NOPLoggerFactory.class);
        assertThat(LoggingCheck.warning(LoggerFactory.getILoggerFactory(), LoggerFactory.class.getClassLoader()))
                .isNull();
    }
}
