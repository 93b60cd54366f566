package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.test.ChildJvm;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Regression tests of issue 12, item 8: LISTEN_FDS claiming more than was passed, in real child JVMs. */
class Issue12ListenFdsTest {
    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final Pattern RESULT =
            Pattern.compile("metrics-port=(\\d+) echo-port=(\\d+) inherited=(\\d+) problems=(\\d+)");

    /** Runs the main with LISTEN_FDS set to {@code fds} and LISTEN_PID to the JVM's own pid (bash execs java). */
    private static Matcher run(String fds, String... prefix) throws Exception {
        String[] words = new String[prefix.length + 3];
        System.arraycopy(prefix, 0, words, 0, prefix.length);
        words[prefix.length] = "bash";
        words[prefix.length + 1] = "-c";
        words[prefix.length + 2] = "export LISTEN_FDS=" + fds + " LISTEN_PID=$$; exec \"$0\" \"$@\"";
        try (ChildJvm child = ChildJvm.builder(Issue12ListenFdsMain.class)
                .commandPrefix(words)
                .start()) {
            if (prefix.length > 0) { // systemd-socket-activate starts the program on the first connection
                int port = Integer.parseInt(
                        prefix[prefix.length - 1].substring(prefix[prefix.length - 1].lastIndexOf(':') + 1));
                // systemd-socket-activate may not listen yet when this runs (a loaded machine): retry a
                // refused connection until it is accepted, then hold it until the program exits
                Thread.ofVirtual()
                        .start(() -> org.awaitility.Awaitility.await()
                                .atMost(BOUND)
                                .pollInterval(java.time.Duration.ofMillis(50))
                                .until(() -> {
                                    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                                        s.getInputStream().read();
                                    } catch (java.net.ConnectException notListeningYet) {
                                        return false;
                                    } catch (java.io.IOException ignored) {
                                        // the program has exited
                                    }
                                    return true;
                                }));
            }
            assertThat(child.awaitExit(BOUND)).as(child.output()).isZero();
            Matcher m = RESULT.matcher(child.output());
            assertThat(m.find()).as(child.output()).isTrue();
            long warnings = child.lines().stream()
                    .filter(l -> l.contains("WARN") && l.contains("socket activation"))
                    .count();
            assertThat(warnings).as("one warning: " + child.output()).isLessThanOrEqualTo(1);
            return m;
        }
    }

    /** Issue 12.8: LISTEN_FDS larger than what was passed adopted the JVM's own sockets: echo took over the metrics port. */
    @Test
    void overstatedListenFdsAdoptedTheJvmsOwnSockets() throws Exception {
        Matcher m = run("2000");
        assertThat(m.group(2)).as("echo's port").isNotEqualTo(m.group(1));
        assertThat(m.group(3)).as("inherited").isEqualTo("0");
    }

    /** Issue 12.8: LISTEN_FDS=2000000000 threw OutOfMemoryError out of start(); LISTEN_FDS=1000000 wrote a million warnings. */
    @Test
    void hugeListenFdsThrewOutOfMemoryOrFloodedTheLog() throws Exception {
        for (String fds : new String[] {"2000000000", "1000000"}) {
            Matcher m = run(fds);
            assertThat(m.group(2)).as("echo's port with LISTEN_FDS=" + fds).isNotEqualTo(m.group(1));
            assertThat(m.group(3)).isEqualTo("0");
        }
    }

    /** The real thing still works beside an overstated count: the socket systemd-socket-activate passes (fd 3) is taken. */
    @Test
    void aReallyInheritedSocketIsStillTaken() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/systemd-socket-activate"))) {
            assertThat(System.getenv("CI"))
                    .as("systemd-socket-activate is installed in CI")
                    .isNull();
            return;
        }
        int port;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            port = probe.getLocalPort();
        }
        Matcher m = run("3", "systemd-socket-activate", "-l", "127.0.0.1:" + port);
        assertThat(m.group(2)).as("echo's port").isEqualTo(Integer.toString(port));
        assertThat(m.group(3)).isEqualTo("1");
    }
}
