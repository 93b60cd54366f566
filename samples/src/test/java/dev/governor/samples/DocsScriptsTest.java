package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every shell block of README.md and docs/*.md is a tested artifact. A {@code console}, {@code bash},
 * {@code sh} or {@code shell} block must follow a marker line naming the script that holds its
 * commands ({@code <!-- script: docs/x.sh -->}) or saying what runs it in CI instead
 * ({@code <!-- ci: … -->}); the block's commands must appear in that script, in order. The scripts
 * then run here under {@code CI=true} on a fresh copy of the repository, as a newcomer would run them.
 */
class DocsScriptsTest {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Pattern FENCE = Pattern.compile("^```(\\w*)\\s*$");
    private static final Pattern MARKER = Pattern.compile("^<!-- (script|ci): (\\S+)?.*-->$");
    private static final Duration BOUND = Duration.ofMinutes(6);

    @TempDir
    static Path tmp;

    static Path copy;

    @BeforeAll
    static void freshCopy() throws Exception {
        copy = SampleLauncherTest.freshCopy(tmp.resolve("governor"));
    }

    record Block(Path doc, int line, String lang, String marker, String markerArg, List<String> body) {
        String where() {
            return ROOT.relativize(doc) + ":" + line;
        }
    }

    static List<Path> docs() throws IOException {
        List<Path> docs = new ArrayList<>();
        docs.add(ROOT.resolve("README.md"));
        try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    static List<Block> shellBlocks(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            int start = i;
            List<String> body = new ArrayList<>();
            for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
                body.add(lines.get(i));
            }
            String lang = open.group(1);
            if (!List.of("console", "bash", "sh", "shell").contains(lang)) {
                continue;
            }
            Matcher marker = start > 0 ? MARKER.matcher(lines.get(start - 1).trim()) : null;
            blocks.add(new Block(
                    doc,
                    start + 1,
                    lang,
                    marker != null && marker.matches() ? marker.group(1) : null,
                    marker != null && marker.matches() ? marker.group(2) : null,
                    body));
        }
        return blocks;
    }

    /** The commands of a block: {@code $ } lines of a console block (with their continuations), every line of a script block. */
    static List<String> commands(Block b) {
        List<String> out = new ArrayList<>();
        boolean console = b.lang().equals("console");
        boolean continuing = false;
        for (String l : b.body()) {
            if (console && !continuing && !l.startsWith("$ ")) {
                continue; // output
            }
            String cmd = console && !continuing ? l.substring(2) : l;
            if (continuing) {
                out.set(out.size() - 1, out.getLast() + " " + cmd.strip());
            } else if (!cmd.isBlank()) {
                out.add(cmd.strip());
            }
            continuing = cmd.endsWith("\\");
            if (continuing) {
                out.set(
                        out.size() - 1,
                        out.getLast().substring(0, out.getLast().length() - 1).strip());
            }
        }
        return out.stream().map(DocsScriptsTest::normalize).toList();
    }

    /** Whitespace collapsed, a trailing {@code # comment} dropped: docs may comment a command differently. */
    static String normalize(String command) {
        return command.replaceAll("\\s+#\\s.*$", "").strip().replaceAll("\\s+", " ");
    }

    /** A script's lines with continuations joined, whitespace normalized. */
    static List<String> scriptLines(Path script) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String l : Files.readAllLines(script)) {
            cur.append(' ').append(l.strip());
            if (l.endsWith("\\")) {
                cur.setLength(cur.length() - 1);
                continue;
            }
            String joined = normalize(cur.toString());
            if (!joined.isEmpty()) {
                out.add(joined);
            }
            cur.setLength(0);
        }
        return out;
    }

    @Test
    void everyShellBlockShouldNameTheScriptThatRunsItAndMatchIt() throws IOException {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Path doc : docs()) {
            for (Block b : shellBlocks(doc)) {
                if (b.marker() == null) {
                    problems.add(b.where() + ": a " + b.lang() + " block without a marker line before it: add"
                            + " <!-- script: docs/NAME.sh --> and put its commands in that script (run by DocsScriptsTest),"
                            + " or <!-- ci: what runs it in CI -->");
                    continue;
                }
                if (b.marker().equals("ci")) {
                    continue;
                }
                Path script = ROOT.resolve(b.markerArg());
                if (!Files.isRegularFile(script)) {
                    problems.add(b.where() + ": names " + b.markerArg() + ", which does not exist");
                    continue;
                }
                List<String> lines = scriptLines(script);
                int at = 0;
                for (String cmd : commands(b)) {
                    int found = lines.subList(at, lines.size()).indexOf(cmd);
                    if (found < 0) {
                        problems.add(b.where() + ": `" + cmd + "` is not in " + b.markerArg() + " (after line " + at
                                + " of its commands)");
                        break;
                    }
                    at += found + 1;
                }
                checked++;
            }
        }
        assertThat(problems).as("docs out of step with their scripts").isEmpty();
        assertThat(checked).as("script-backed blocks found").isGreaterThanOrEqualTo(5);
    }

    @Test
    void theDaemonWalkthroughShouldRunAsWritten(@TempDir Path demo) throws Exception {
        ExternalTool.require("ps", "procps");
        try (ScriptRun run = ScriptRun.start(
                copy,
                Map.of("CI", "true", "DEMO", demo.toString(), "PORT", Integer.toString(ExternalTool.freePort())),
                "bash",
                "docs/daemon-walkthrough.sh")) {
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
            String out = run.output();
            assertThat(out)
                    .containsPattern("daemon ready as pid \\d+, log " + Pattern.quote(demo + "/sample.log"))
                    .containsPattern("already running as pid \\d+")
                    .contains(
                            "restarted echo (RUNNING)",
                            "stopped ticker (STOPPED)",
                            "started ticker (RUNNING)",
                            "reloaded",
                            "governorctl: no service named \"nosuch\"; status lists the names",
                            "reloaded: generation 2")
                    .containsPattern("stopped pid \\d+")
                    .containsPattern("governor stopped in \\d+ ms, exit code 0");
            assertThat(demo).isDirectoryNotContaining("glob:**/sample.pid");
        }
    }

    @Test
    void theReloadWalkthroughShouldRunAsWritten(@TempDir Path demo) throws Exception {
        ExternalTool.require("curl", "curl");
        try (ScriptRun run = ScriptRun.start(
                copy,
                Map.of("CI", "true", "DEMO", demo.toString(), "PORT", Integer.toString(ExternalTool.freePort())),
                "bash",
                "docs/reload-walkthrough.sh")) {
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
            assertThat(run.output())
                    .contains(
                            "hello from generation 1: Hello",
                            "hello from generation 2: Bonjour",
                            "governorctl: generation 3 of \"hello\" refused: java.lang.IllegalArgumentException: "
                                    + demo + "/hello.conf line 1: \"greeting Hallo\" is not key=value",
                            "exit 1",
                            "reloaded: hello generation 3",
                            "hello from generation 3: Hallo",
                            "generation 2 drained in");
        }
    }

    @Test
    void theSocketActivationRunShouldWorkAsWritten() throws Exception {
        ExternalTool.require("systemd-socket-activate", "systemd");
        try (ScriptRun run = ScriptRun.start(
                copy,
                Map.of("CI", "true", "PORT", Integer.toString(ExternalTool.freePort())),
                "bash",
                "docs/socket-activation.sh")) {
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
            assertThat(run.output())
                    .contains(
                            "echo answered: hello systemd",
                            "listener \"echo\": inherited fd 3",
                            "exit code 0",
                            "READY=1",
                            "WATCHDOG=1",
                            "STOPPING=1",
                            "STATUS=stopped, exit code 0");
            SampleLauncherTest.assertOrderedShutdown(run.lines(), "SIGTERM");
        }
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            assertThat(all.filter(p -> p.info().commandLine().orElse("").contains(copy.toString()))
                            .toList())
                    .as("nothing the script started is left (NotifyWatch included)")
                    .isEmpty();
        }
    }
}
