package dev.governor.ctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client without a daemon: parsing, the table, usage and the "no daemon" exit code. A live daemon is in samples. */
class GovernorCtlTest {
    @TempDir
    Path dir;

    @Test
    void shouldParseTheDaemonsJson() {
        Object v = Json.parse(
                "{\"ok\":true,\"n\":-12,\"x\":1.5e3,\"s\":\"a\\\"b\\n\\u00e9\",\"l\":[null,false,{}],\"e\":[]}");
        assertThat(v)
                .isEqualTo(Map.of(
                        "ok",
                        true,
                        "n",
                        -12L,
                        "x",
                        1500.0,
                        "s",
                        "a\"b\né",
                        "l",
                        java.util.Arrays.asList(null, false, Map.of()),
                        "e",
                        List.of()));
        assertThatThrownBy(() -> Json.parse("{\"ok\":tru}")).hasMessageContaining("true expected");
        assertThatThrownBy(() -> Json.parse("{} x")).hasMessageContaining("trailing characters");
    }

    @Test
    void shouldRenderTheTreeAsAnAlignedTable() {
        Map<String, Object> answer = Map.of(
                "ok",
                true,
                "pid",
                42L,
                "ready",
                false,
                "healthy",
                true,
                "summary",
                "2 running, 1 failed",
                "services",
                List.of(
                        Map.of(
                                "name",
                                "db",
                                "state",
                                "RUNNING",
                                "ready",
                                true,
                                "restarts",
                                0L,
                                "supervisor",
                                true,
                                "uptimeSeconds",
                                3600L),
                        Map.of(
                                "name",
                                "db/pool",
                                "state",
                                "RUNNING",
                                "ready",
                                true,
                                "restarts",
                                12L,
                                "supervisor",
                                false,
                                "uptimeSeconds",
                                65L),
                        Map.of(
                                "name",
                                "worker",
                                "state",
                                "FAILED",
                                "ready",
                                false,
                                "restarts",
                                5L,
                                "supervisor",
                                false,
                                "lastFailure",
                                "java.io.IOException: disk full")));
        assertThat(GovernorCtl.StatusTable.render(answer, false)).isEqualTo("""
                pid 42  NOT ready  healthy  (2 running, 1 failed)
                NAME     STATE    READY  RESTARTS  UPTIME  LAST FAILURE
                db/      RUNNING  yes           0  1h00m
                db/pool  RUNNING  yes          12  1m05s
                worker   FAILED   no            5  -       java.io.IOException: disk full
                """);
        assertThat(GovernorCtl.StatusTable.render(answer, true)).contains("\u001b[31mFAILED ", "\u001b[32mRUNNING");
    }

    @Test
    void shouldExitThreeWhenNoDaemonListens() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path none = dir.resolve("none.sock");
        int code = GovernorCtl.run(
                new PrintWriter(out, true), new PrintWriter(err, true), "--socket", none.toString(), "status");
        assertThat(code).isEqualTo(3);
        assertThat(err.toString()).startsWith("governorctl: cannot reach the daemon at " + none + ": ");
    }

    @Test
    void shouldExplainBadUsage() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(GovernorCtl.run(
                        new PrintWriter(out, true),
                        new PrintWriter(err, true),
                        "--socket",
                        "/x",
                        "status",
                        "--timeout=soon"))
                .isEqualTo(2);
        assertThat(err.toString())
                .isEqualTo("governorctl: --timeout soon is not a duration; use e.g. 500ms, 30s, 2m\n");
        assertThat(GovernorCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), "restart"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameter: 'NAME'");
        assertThat(GovernorCtl.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void shouldListItsCommandsOnHelpAndWithNoArgument() {
        List<String> commands = List.of("status", "restart", "stop", "start", "reload", "shutdown", "commands", "help");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(GovernorCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), "help"))
                .isZero();
        assertThat(err.toString()).isEmpty();
        String help = out.toString();
        assertThat(help).contains("Commands:");
        for (String c : commands) {
            assertThat(help).containsPattern("(?m)^  " + c + "\\b");
        }

        StringWriter noArgs = new StringWriter();
        assertThat(GovernorCtl.run(new PrintWriter(noArgs, true), new PrintWriter(err, true)))
                .isEqualTo(2);
        assertThat(noArgs.toString()).isEqualTo(help);

        StringWriter one = new StringWriter();
        assertThat(GovernorCtl.run(new PrintWriter(one, true), new PrintWriter(err, true), "help", "restart"))
                .isZero();
        assertThat(one.toString()).startsWith("Usage: governorctl restart").contains("NAME");
    }
}
