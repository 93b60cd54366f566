package dev.governor.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a JUnit 5 test class with {@link GovernorTestExtension}: test methods may declare
 * parameters of type {@link dev.governor.Governor}, {@link VirtualClock} and {@link EventRecorder}
 * (one set per test, the governor on the virtual clock, the recorder registered). After each test
 * the governor is shut down and the test fails if a service was left unstopped or a governor
 * thread is still alive.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(GovernorTestExtension.class)
public @interface GovernorTest {
    /** Set true in a test class that leaves unstopped services on purpose (and releases them itself). */
    boolean allowUnstopped() default false;
}
