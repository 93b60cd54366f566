package dev.governor.test;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/** The extension fails a test that leaves a service unstopped, and passes a clean one. */
class GovernorTestExtensionTest {

    @Test
    void shouldFailATestThatLeavesAServiceUnstopped() {
        EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(LeavesAServiceUnstopped.class))
                .configurationParameter("junit.jupiter.conditions.deactivate", "org.junit.*DisabledCondition")
                .execute()
                .testEvents()
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("leaves"),
                                finishedWithFailure(message(m -> m.contains("left services unstopped: [stubborn]")))));
    }

    @Test
    void shouldPassACleanTest() {
        EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(Clean.class))
                .execute()
                .testEvents()
                .assertStatistics(s -> s.succeeded(1).failed(0));
    }

    /** Run only through the test kit above. */
    @GovernorTest
    @Tag("inner")
    static class LeavesAServiceUnstopped {
        static final Faults.IgnoresCancellation STUBBORN = Faults.ignoresCancellation();

        @Test
        void leaves(Governor gov, EventRecorder rec) throws Exception {
            gov.add(
                    "releaser",
                    ctx -> { // stops after stubborn (reverse order): releases it once it timed out
                        ctx.awaitStop();
                        STUBBORN.release(); // the thread ends, so only the report's unstopped list complains
                    });
            gov.add("stubborn", STUBBORN).shutdownTimeout(Duration.ofSeconds(1));
            gov.start();
            STUBBORN.awaitEntered(Duration.ofSeconds(30));
        }
    }

    /** Run only through the test kit above. */
    @GovernorTest
    @Tag("inner")
    static class Clean {
        @Test
        void clean(Governor gov, EventRecorder rec) {
            gov.add("a", Faults.runsUntilStopped());
            gov.start();
            rec.awaitEvent(GovernorEvent.Ready.class, "");
        }
    }
}
