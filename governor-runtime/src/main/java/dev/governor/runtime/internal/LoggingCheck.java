package dev.governor.runtime.internal;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * Without an SLF4J provider every log line of the governor, failures and their stack traces
 * included, goes nowhere. The first governor to start says so on standard error, once per JVM.
 */
final class LoggingCheck {
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** slf4j-nop's provider: bound, the log is discarded because the application asked for it. */
    static final String SLF4J_NOP_PROVIDER = "org/slf4j/nop/NOPServiceProvider.class";

    private LoggingCheck() {}

    static void warnOnceIfNoProvider(PrintStream err) {
        String warning = warning(LoggerFactory.getILoggerFactory(), LoggerFactory.class.getClassLoader());
        if (warning != null && WARNED.compareAndSet(false, true)) {
            err.println(warning);
        }
    }

    /**
     * The warning for {@code factory}, or null when it is a real provider's, or slf4j-nop's: that
     * provider, found by slf4j's {@code loader}, discards the log on purpose (it makes the same
     * factory as slf4j's fallback when there is none).
     */
    static String warning(ILoggerFactory factory, ClassLoader loader) {
        if (!(factory instanceof NOPLoggerFactory)) {
            return null;
        }
        if (loader != null && loader.getResource(SLF4J_NOP_PROVIDER) != null) {
            return null;
        }
        return "governor: WARNING: no SLF4J provider is bound, so the governor's log (service failures and their"
                + " stack traces included) is discarded; add one to the class path, e.g. org.slf4j:slf4j-simple"
                + " or ch.qos.logback:logback-classic";
    }
}
