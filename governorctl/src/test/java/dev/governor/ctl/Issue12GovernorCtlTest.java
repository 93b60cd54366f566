package dev.governor.ctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression test of issue 12, item 7: governorctl printed terminal escape sequences from the daemon as they were. */
class Issue12GovernorCtlTest {
    private static final String HOSTILE_NAME = "evil\\u001b]0;pwned\\u0007\\u001b[2J\\u202eeman";
    private static final String STATUS =
            "{\"ok\":true,\"pid\":42,\"ready\":true,\"stopping\":false,\"services\":[{\"name\":\"" + HOSTILE_NAME
                    + "\",\"state\":\"FAILED\",\"ready\":false,\"restarts\":3,\"supervisor\":false,\"startedAt\":null,"
                    + "\"lastFailure\":\"java.lang.RuntimeException: boom\\u001b[31m\\nsecond line\\r\"}]}";
    private static final String ERROR = "{\"ok\":false,\"error\":\"no service named \\\"\\u001b[2Jx\\\"\"}";

    @TempDir
    Path dir;

    /** Serves {@code answer} to one client of a real unix socket, as a daemon would. */
    private Path daemonAnswering(String answer) throws Exception {
        Path sock = dir.resolve("ctl.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        Thread.ofVirtual().start(() -> {
            try (server;
                    SocketChannel c = server.accept()) {
                ByteBuffer in = ByteBuffer.allocate(4096);
                while (c.read(in) > 0 && in.get(in.position() - 1) != '\n') {
                    // read the command line
                }
                c.write(ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8)));
            } catch (Exception e) {
                // the test fails on what the client printed
            }
        });
        return sock;
    }

    private static boolean hasControlCharacter(String s) {
        return s.chars().anyMatch(c -> (c < 0x20 && c != '\n') || c == 0x7f || c == 0x202e);
    }

    @Test
    void escapeSequencesInServiceNamesAndFailuresReachedTheTerminal() throws Exception {
        Path sock = daemonAnswering(STATUS);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = GovernorCtl.run(
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                "--socket",
                sock.toString(),
                "--color=never",
                "status");
        assertThat(code).as(err.toString()).isZero();
        String printed = out.toString();
        assertThat(hasControlCharacter(printed))
                .as("raw control characters in: " + printed)
                .isFalse();
        assertThat(printed).contains("evil\\e]0;pwned\\x07\\e[2J\\u202eeman").contains("boom\\e[31m\\nsecond line\\r");
        assertThat(printed.lines().count())
                .as("one line per service, after the header lines")
                .isEqualTo(3);
    }

    @Test
    void escapeSequencesInAnErrorAnswerReachedTheTerminal() throws Exception {
        Path sock = daemonAnswering(ERROR);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = GovernorCtl.run(
                new PrintWriter(out, true), new PrintWriter(err, true), "--socket", sock.toString(), "stop", "x");
        assertThat(code).isEqualTo(GovernorCtl.EXIT_ERROR_ANSWER);
        assertThat(hasControlCharacter(err.toString())).as(err.toString()).isFalse();
        assertThat(err.toString()).contains("\\e[2Jx");
    }
}
