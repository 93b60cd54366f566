package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

class LoggingCheckTest {

    @Test
    void shouldWarnWhenNoProviderIsBound() {
        assertThat(LoggingCheck.warning(new NOPLoggerFactory()))
                .contains("no SLF4J provider is bound")
                .contains("org.slf4j:slf4j-simple");
    }

    @Test
    void shouldStayQuietWithARealProvider() {
        // slf4j-simple is on this module's test class path
        assertThat(LoggerFactory.getILoggerFactory()).isNotInstanceOf(NOPLoggerFactory.class);
        assertThat(LoggingCheck.warning(LoggerFactory.getILoggerFactory())).isNull();
    }
}
