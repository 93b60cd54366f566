package dev.governor.runtime.internal.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Ending a child process the runtime started (the daemon launcher's and the upgrader's): TERM, then
 * KILL once the grace period has passed, by the {@link Process}'s pid, waiting for the end; and
 * removing the private directory the child was handed its sockets in. Internal: not part of the API.
 */
public final class ChildProcess {

    /**
     * Sends TERM to {@code child} and waits up to {@code grace}; if it is still alive, calls
     * {@code beforeKill} (to say so), sends KILL and waits up to {@code grace} again. An interrupt
     * sends KILL at once and keeps the interrupt status. Does nothing if the child has already ended.
     */
    public static void terminate(Process child, Duration grace, Runnable beforeKill) {
        if (!child.isAlive()) {
            return;
        }
        child.destroy();
        try {
            if (!child.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                beforeKill.run();
                child.destroyForcibly();
                child.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            child.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Deletes {@code dir} (a private directory in the temp directory holding the sockets of a
     * hand-over to a child) with everything in it; null, or what cannot be deleted, is left alone.
     */
    public static void deletePrivateDir(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover private directory in the temp directory
        }
    }

    private ChildProcess() {}
}
