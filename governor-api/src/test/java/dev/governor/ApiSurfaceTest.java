package dev.governor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What the public surface of the API shows, and what it must not (regression tests of issue 15's leaks). */
class ApiSurfaceTest {

    /** Issue 15: Scheduler.SystemScheduler was a public nested class, visible and nameable by every user. */
    @Test
    void shouldShowOnlyCancellableInsideScheduler() {
        assertThat(Scheduler.class.getDeclaredClasses()).containsExactly(Scheduler.Cancellable.class);
        Class<?> system = Scheduler.system().getClass();
        assertThat(Modifier.isPublic(system.getModifiers()))
                .as(system + " is public")
                .isFalse();
        assertThat(Scheduler.system()).isSameAs(Scheduler.system());
    }

    /**
     * Issue 15: Governor did not override intensity/parallelStop/autoShutdown, so
     * {@code Governor.create().intensity(3, d).onEvent(...)} did not compile. Every configuring
     * method of Supervisor that returns the supervisor returns the Governor on a Governor.
     */
    @Test
    void shouldReturnTheGovernorFromEveryFluentMethodOfSupervisor() throws NoSuchMethodException {
        for (Method m : Supervisor.class.getMethods()) {
            if (m.getReturnType() == Supervisor.class && !m.isDefault() && !Modifier.isStatic(m.getModifiers())) {
                Method onGovernor = Governor.class.getMethod(m.getName(), m.getParameterTypes());
                assertThat(onGovernor.getReturnType())
                        .as("Governor.%s%s", m.getName(), Arrays.toString(m.getParameterTypes()))
                        .isEqualTo(Governor.class);
            }
        }
        assertThat(Governor.class
                        .getMethod("intensity", int.class, Duration.class)
                        .getReturnType())
                .isEqualTo(Governor.class);
        assertThat(Governor.class.getMethod("parallelStop").getReturnType()).isEqualTo(Governor.class);
    }

    /** Issue 15: the escalation a user sees (ShutdownReport.fatalCause, Failed.cause) is a public type of dev.governor. */
    @Test
    void shouldExposeEscalationExceptionAsAPublicApiType() {
        assertThat(EscalationException.class.getPackageName()).isEqualTo("dev.governor");
        assertThat(Modifier.isPublic(EscalationException.class.getModifiers())).isTrue();
    }
}
