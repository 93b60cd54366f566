package dev.governor.samples;

import dev.governor.Governor;
import dev.governor.ShutdownReport;

/** A main that returns instead of calling System.exit: the JVM must then end by itself. */
public final class ReturnsFromMain {
    private ReturnsFromMain() {}

    public static void main(String[] args) {
        Governor gov = Governor.create();
        gov.add("worker", ctx -> ctx.awaitStop());
        ShutdownReport report = gov.catchSignals().start().waitForShutdown();
        System.err.println("main returns; exit code would be " + report.exitCode());
    }
}
