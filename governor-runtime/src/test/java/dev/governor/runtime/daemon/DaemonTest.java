package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process side of {@link Daemon}; re-execution itself is tested with real processes in samples. */
class DaemonTest {
    @TempDir
    Path dir;

    @Test
    void shouldParseTheMarkerAndRejectGarbage() {
        assertThat(Daemon.Marker.parse("4711:/tmp/governor-daemon-1/ready.sock"))
                .contains(new Daemon.Marker(4711, Path.of("/tmp/governor-daemon-1/ready.sock")));
        assertThat(Daemon.Marker.parse(null)).isEmpty();
        assertThat(Daemon.Marker.parse("1")).isEmpty();
        assertThat(Daemon.Marker.parse(":/x")).isEmpty();
        assertThat(Daemon.Marker.parse("abc:/x")).isEmpty();
        assertThat(new Daemon.Marker(42, Path.of("/r.sock")).value()).isEqualTo("42:/r.sock");
    }

    @Test
    void shouldNotBeAChildWithoutTheMarkerAndResolveAgainstTheWorkingDirectory() {
        assertThat(System.getenv(Daemon.MARKER_ENV)).isNull();
        assertThat(Daemon.isChild()).isFalse();
        assertThat(Daemon.launchDirectory()).isEqualTo(Path.of("").toAbsolutePath());
        assertThat(Daemon.resolve(Path.of("run/../app.pid")))
                .isEqualTo(Path.of("").toAbsolutePath().resolve("app.pid"));
        assertThat(Daemon.resolve(Path.of("/abs/app.pid"))).isEqualTo(Path.of("/abs/app.pid"));
    }

    @Test
    void shouldTellARunningProcessFromAnEndedOne() throws Exception {
        assertThat(DaemonCommands.running(ProcessHandle.current().pid())).isTrue();
        Process ended = new ProcessBuilder("true").start();
        assertThat(ended.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(DaemonCommands.running(ended.pid())).isFalse();
    }

    @Test
    void shouldRejectBadOptionsNamingTheValue() {
        assertThatThrownBy(() -> Daemon.builder().umask(01000))
                .hasMessage("umask must be within 0 and 0777 (octal), was 01000");
        assertThatThrownBy(() -> Daemon.builder().umask(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Daemon.builder().startupTimeout(Duration.ZERO))
                .hasMessage("startupTimeout must be positive, was PT0S");
        assertThatThrownBy(() -> Daemon.builder().workingDirectory(null)).hasMessage("workingDirectory");
        assertThat(Daemon.builder().pidFile(Path.of("a.pid")).umask(022).toString())
                .contains(
                        "pidFile=" + Path.of("").toAbsolutePath().resolve("a.pid"), "umask=022", "workingDirectory=/");
    }

    @Test
    void shouldHoldThePidFileInTheForegroundAndReleaseItWhenTheGovernorStops() throws Exception {
        Path pidFile = dir.resolve("fg.pid");
        Daemon daemon = Daemon.builder().pidFile(pidFile).foreground();
        assertThat(daemon.daemonized()).isFalse();
        assertThat(daemon.pidFile().orElseThrow().held()).isTrue();
        assertThat(Files.readString(pidFile)).isEqualTo(ProcessHandle.current().pid() + "\n");
        assertThat(daemon.toString()).contains("foreground", "pidFile=" + pidFile);

        Governor gov = Governor.create();
        gov.add("a", ctx -> ctx.awaitStop());
        daemon.readyWhen(gov);
        gov.start();
        assertThat(gov.awaitReady(Duration.ofSeconds(30))).isTrue();
        daemon.notifyReady(); // nothing to tell in the foreground
        assertThat(pidFile).exists();
        gov.shutdown();
        assertThat(pidFile).as("released when the tree stopped").doesNotExist();
        assertThat(daemon.pidFile().orElseThrow().held()).isFalse();
    }
}
