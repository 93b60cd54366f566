package dev.governor.examples;

import dev.governor.Governor;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import java.time.Duration;

/** README.md, the opening example. */
final class ReadmeMain {
    public static void main(String[] args) {
        Governor gov = Governor.create();
        gov.restart(Duration.ofSeconds(1)); // default policy for every service
        gov.add("http", new HttpFrontend(8080));
        gov.add("indexer", ctx -> {
                    while (!ctx.sleep(Duration.ofMinutes(1))) index();
                })
                .restartPolicy(RestartPolicy.onFailure(Duration.ofMillis(100))
                        .withBackoff(Duration.ofSeconds(30), 2.0, 0.1)
                        .withLimit(5, Duration.ofSeconds(30)));
        System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
    }

    // stand-ins for what the snippet leaves to the reader
    static void index() {}

    record HttpFrontend(int port) implements Service {
        @Override
        public void run(ServiceCtx ctx) throws InterruptedException {
            ctx.awaitStop();
        }
    }
}
