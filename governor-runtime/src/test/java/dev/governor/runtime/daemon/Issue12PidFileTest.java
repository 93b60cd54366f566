package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.runtime.internal.os.ProcessCalls;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression test of issue 12, item 9: a read lock on a stale pid file kept the daemon from starting. */
class Issue12PidFileTest {
    @TempDir
    Path dir;

    /**
     * Issue 12.9: the exclusive lock of acquire() and the shared-lock liveness check of runningPid()
     * disagreed, so any uid that could read the stale pid file could hold a read lock on it and keep
     * the daemon from starting ("already running as pid ...").
     */
    @Test
    void readLockOnAStalePidFileKeptTheDaemonFromStarting() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path pidFile = dir.resolve("app.pid");
        Files.writeString(pidFile, "999999\n"); // stale: its process died without cleaning up
        Files.setPosixFilePermissions(pidFile, PosixFilePermissions.fromString("rw-r--r--"));
        Path source = dir.resolve("ReadLocker.java");
        try (InputStream in = getClass().getResourceAsStream("/issue12/ReadLocker.java")) {
            Files.write(source, in.readAllBytes());
        }
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> cmd = new ArrayList<>();
        boolean root = ProcessCalls.geteuid() == 0;
        if (root) { // the attack as issued: another uid, one that may only read the file
            cmd.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        cmd.addAll(
                List.of(ProcessHandle.current().info().command().orElseThrow(), source.toString(), pidFile.toString()));
        Process locker = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(locker.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("the locker holds its read lock").startsWith("locked by uid " + (root ? "65534" : ""));
            assertThat(PidFile.runningPid(pidFile))
                    .as("a read lock does not make the file live")
                    .isEmpty();
            try (PidFile mine = PidFile.acquire(pidFile)) {
                assertThat(mine.held()).isTrue();
                assertThat(Files.readString(pidFile).strip())
                        .isEqualTo(Long.toString(ProcessHandle.current().pid()));
                assertThat(PidFile.runningPid(pidFile))
                        .hasValue(ProcessHandle.current().pid());
                assertThat(Files.getPosixFilePermissions(pidFile))
                        .isSubsetOf(PosixFilePermissions.fromString("rw-r--r--"));
            }
        } finally {
            locker.getOutputStream().close();
            if (!locker.waitFor(30, TimeUnit.SECONDS)) {
                locker.destroyForcibly();
            }
        }
    }
}
