/**
 * The test kit of Governor: {@link dev.governor.test.VirtualClock}, {@link dev.governor.test.GovernorTest},
 * {@link dev.governor.test.EventRecorder}, {@link dev.governor.test.Faults} and {@link dev.governor.test.ChildJvm}.
 */
module dev.governor.test {
    requires transitive dev.governor;
    // GovernorTestExtension makes its governors through GovernorRuntime (hooks for the virtual clock)
    requires dev.governor.runtime;
    // @GovernorTest is a JUnit 5 extension: a user of this module writes JUnit 5 tests
    requires transitive org.junit.jupiter.api;

    exports dev.governor.test;
}
