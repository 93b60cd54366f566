package dev.governor.samples;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A program from a Debian package that a test drives (promtool, prometheus, chromium). Absent, the
 * test is skipped with a message naming the package, except under {@code CI=true}, where a missing
 * tool fails: CI must never go green by skipping.
 */
record ExternalTool(String command, Path path) {

    static ExternalTool require(String command, String debianPackage) {
        String pathEnv = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : pathEnv.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, command);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return new ExternalTool(command, candidate);
            }
        }
        String message = command + " is not on the PATH (" + pathEnv + "); install the Debian package " + debianPackage;
        if ("true".equals(System.getenv("CI"))) {
            fail(message + " — CI=true requires it");
        }
        assumeTrue(false, message + " — skipped because CI is not \"true\"");
        throw new AssertionError("unreachable");
    }

    /** A port free on loopback at the time of the call. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Kills {@code process} and every process it started, by pid, and waits for them. */
    static void kill(Process process) {
        if (process == null) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
