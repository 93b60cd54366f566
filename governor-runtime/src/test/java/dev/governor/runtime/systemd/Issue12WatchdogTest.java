package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Regression tests of issue 12, item 2: WATCHDOG_USEC at the edges of its range. */
class Issue12WatchdogTest {
    private final long pid = ProcessHandle.current().pid();

    /** Issue 12.2: WATCHDOG_USEC=9223372036854776 overflowed (micros * 1000) into a negative interval. */
    @Test
    void hugeWatchdogUsecOverflowed() {
        Duration every = SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "9223372036854776"), pid)
                .orElseThrow();
        assertThat(every)
                .isPositive()
                .isEqualTo(Duration.of(9223372036854776L, java.time.temporal.ChronoUnit.MICROS)
                        .dividedBy(2));
        Duration max = SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", Long.toString(Long.MAX_VALUE)), pid)
                .orElseThrow();
        assertThat(max).isPositive().isGreaterThan(every);
    }

    /** Issue 12.2: WATCHDOG_USEC=1 made the governor send about 10,000 datagrams a second. */
    @Test
    void tinyWatchdogUsecFloodedSystemd() {
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "1"), pid))
                .contains(SystemdExtension.MIN_WATCHDOG_PING);
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "99999"), pid))
                .contains(SystemdExtension.MIN_WATCHDOG_PING);
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "200000"), pid))
                .contains(Duration.ofMillis(100));
    }
}
