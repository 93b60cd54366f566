package dev.governor.examples;

import dev.governor.runtime.systemd.NotifyReceiver;
import java.time.Duration;

/** docs/systemd.md, "Testing your daemon". */
final class SystemdReceiverTest {
    static void awaitReady() throws Exception {
        try (NotifyReceiver systemd =
                NotifyReceiver.bind("@my-test-" + ProcessHandle.current().pid())) {
            // start the daemon with NOTIFY_SOCKET=systemd.address(), e.g. with ChildJvm.builder(...).env(...)
            systemd.await(m -> m.has("READY", "1"), Duration.ofSeconds(60));
        }
    }
}
