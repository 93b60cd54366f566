package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.StopService;
import java.io.Serial;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StopServiceFinderTest {

    @Test
    void aStopServiceIsFoundUpToFifteenCausesDeepAndNotBelow() {
        StopService stop = new StopService("wrapped");
        assertThat(StopServiceFinder.find(stop)).isEqualTo(new StopServiceFinder.Found("wrapped"));
        assertThat(StopServiceFinder.find(new CompletionException(new IllegalStateException(stop))))
                .isEqualTo(new StopServiceFinder.Found("wrapped"));
        assertThat(StopServiceFinder.find(wrap(stop, 15))).isEqualTo(new StopServiceFinder.Found("wrapped"));
        assertThat(StopServiceFinder.find(wrap(stop, 16))).isNull();
        assertThat(StopServiceFinder.find(new IllegalStateException("plain", new RuntimeException())))
                .isNull();
        assertThat(StopServiceFinder.find(null)).isNull();
    }

    @Test
    void aCauseChainThatThrowsIsNoStopAndACycleEnds() {
        HostileCause hostile = new HostileCause();
        assertThat(StopServiceFinder.find(hostile)).isNull();
        assertThat(hostile.calls).hasValue(1);

        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(StopServiceFinder.find(a)).isNull();
    }

    private static Throwable wrap(Throwable t, int times) {
        for (int i = 0; i < times; i++) {
            t = new RuntimeException("level " + (times - i), t);
        }
        return t;
    }

    /** A failure whose {@code getCause()} throws, counting its calls. */
    private static final class HostileCause extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        final AtomicInteger calls = new AtomicInteger();

        @Override
        public synchronized Throwable getCause() {
            calls.incrementAndGet();
            throw new IllegalStateException("getCause() is hostile");
        }
    }
}
