package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.ctl.GovernorCtl;
import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.test.ChildJvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zero-downtime upgrades of a real process ({@link UpgradeDemo}, in a child JVM) under real load:
 * the new process takes over the listening socket and the control socket, the old one drains and
 * exits 0; failures leave the old one serving, reported with the new process's own words.
 */
class UpgradeProcessTest {
    static final Duration EXIT = Duration.ofSeconds(60);
    private static final Pattern LISTENING = Pattern.compile("hello: http://[^/:]+:(\\d+)/hello");

    @TempDir
    Path dir;

    private Path socket;
    private Path modeFile;
    private Path config;
    private Path log;
    private Process first;
    private final List<Long> pids = new ArrayList<>();

    @BeforeEach
    void paths() throws IOException {
        socket = dir.resolve("ctl.sock");
        config = dir.resolve("hello.conf");
        Files.writeString(config, "greeting=upgraded without a gap\n");
        modeFile = dir.resolve("mode");
        log = dir.resolve("demo.log");
    }

    @AfterEach
    void killByPid() {
        DaemonizeProcessTest.killByPid(pids);
    }

    /**
     * Starts the demo in the foreground, its output appended to a file (every generation writes
     * there: each takes over its predecessor's stdout); returns its HTTP address.
     */
    private InetSocketAddress startForeground(String... extra) throws Exception {
        List<String> command = ChildJvm.builder(UpgradeDemo.class)
                .arg("--port=0", "--config=" + config, "--control-socket=" + socket, "--mode-file=" + modeFile)
                .arg(extra)
                .command();
        first = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        pids.add(first.pid());
        String line = awaitLog(l -> LISTENING.matcher(l).find());
        Matcher m = LISTENING.matcher(line);
        assertThat(m.find()).isTrue();
        awaitLog(l -> l.equals("upgrade demo: pid " + first.pid() + " ready"));
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(m.group(1)));
    }

    /** The first line of the log that matches, waiting for it. */
    String awaitLog(java.util.function.Predicate<String> match) {
        return await().atMost(EXIT)
                .until(() -> Files.readAllLines(log).stream().filter(match).findFirst(), java.util.Optional::isPresent)
                .orElseThrow();
    }

    private record Ctl(int code, String out, String err) {}

    private Ctl governorctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--socket", socket.toString()));
        all.addAll(List.of(args));
        int code = GovernorCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Ctl(code, out.toString(), err.toString());
    }

    private static final Pattern UPGRADED =
            Pattern.compile("upgraded: pid (\\d+) serves now; pid (\\d+) drains and exits");

    /** Runs governorctl upgrade, checks it succeeded, returns the new pid. */
    private long upgrade() {
        Ctl ctl = governorctl("upgrade");
        assertThat(ctl.code()).as(ctl.err()).isZero();
        Matcher m = UPGRADED.matcher(ctl.out());
        assertThat(m.find()).as(ctl.out()).isTrue();
        long pid = Long.parseLong(m.group(1));
        pids.add(pid);
        return pid;
    }

    /** The answer of the hello service in process {@code pid}. */
    static String served(long pid) {
        return "hello from generation 1: upgraded without a gap (pid " + pid + ")";
    }

    static String get(InetSocketAddress http) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> r = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getPort() + "/hello"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            return r.body().strip();
        }
    }

    /** The fd count of {@code pid} once it reads the same twice in a row (a connection just ended closes on its side first). */
    static long settledFds(long pid) {
        long[] last = {-1};
        return await().pollInterval(Duration.ofMillis(300))
                .atMost(EXIT)
                .until(
                        () -> {
                            long n = openFds(pid);
                            boolean same = n == last[0];
                            last[0] = n;
                            return same ? n : -1;
                        },
                        n -> n >= 0);
    }

    static long openFds(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        }
    }

    @Test
    void shouldUpgradeTenTimesUnderKeepAliveLoadWithoutAFailedRequest() throws Exception {
        InetSocketAddress http = startForeground();
        long pid = first.pid();
        List<Long> fdCounts = new ArrayList<>();
        HttpLoad load = new HttpLoad(http, "/hello", 64);
        HttpLoad.Result result;
        try {
            await().atMost(EXIT).until(() -> load.requests() > 1000);
            for (int i = 1; i <= 10; i++) {
                long old = pid;
                pid = upgrade();
                assertThat(pid).isNotEqualTo(old);
                String next = served(pid);
                // the load sees the new pid answer, and the old one ends on its own, cleanly
                await().atMost(EXIT).until(() -> load.bodiesSoFar().getOrDefault(next, 0L) > 100);
                await().atMost(EXIT).until(() -> !DaemonCommands.running(old));
                fdCounts.add(openFds(pid));
            }
            String last = served(pid);
            await().atMost(EXIT).until(() -> load.bodiesSoFar().getOrDefault(last, 0L) > 1000);
        } finally {
            result = load.stop();
        }
        System.out.println("10 upgrades under 64-connection keep-alive load: " + result + ", by body " + result.bodies()
                + ", fds " + fdCounts);
        assertThat(result.errorSamples()).isEmpty();
        assertThat(result.connectionErrors()).isZero();
        assertThat(result.non200()).isZero();
        assertThat(result.bodies()).hasSize(11);
        for (long p : pids) {
            assertThat(result.bodies().getOrDefault(served(p), 0L))
                    .as("answers of pid %d", p)
                    .isGreaterThan(100);
        }
        // each generation exited 0: the drained process ends cleanly
        for (long p : pids.subList(0, 10)) {
            awaitLog(l -> l.equals("upgrade demo: pid " + p + " exits with 0"));
        }
        assertThat(first.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        // no descriptor leaks from one generation to the next: the eleventh holds what the second did
        assertThat(fdCounts.getLast())
                .as("fd counts of generations 2..11: %s", fdCounts)
                .isLessThanOrEqualTo(fdCounts.getFirst());
    }

    @Test
    void shouldKeepServingWhenTheNewProcessFailsAtStart() throws Exception {
        InetSocketAddress http = startForeground();
        Files.writeString(modeFile, "fail");
        assertThat(get(http)).isEqualTo(served(first.pid()));
        Ctl warmUp = governorctl("upgrade"); // what the JVM opens once for a first child process stays open
        assertThat(warmUp.code()).as(warmUp.out()).isEqualTo(1);
        long fdsBefore = settledFds(first.pid());

        Ctl ctl = governorctl("upgrade");
        assertThat(ctl.code()).as(ctl.err()).isEqualTo(1);
        assertThat(ctl.err())
                .containsPattern(
                        "governorctl: upgrade failed: the new process \\(pid \\d+\\) exited with code 3 before it was ready")
                .contains("its last output:")
                .contains("upgrade demo: configured to fail at start (" + modeFile + " says fail)");
        assertThat(get(http)).isEqualTo(served(first.pid()));
        // governorctl's connection closes on the daemon's side a moment after the answer: a leak never settles
        await().atMost(EXIT)
                .untilAsserted(() -> assertThat(openFds(first.pid())).isEqualTo(fdsBefore));
        awaitLog(l -> l.contains("upgrade failed, this process keeps serving: the new process"));
    }

    @Test
    void shouldKillANewProcessThatIsNotReadyInTime() throws Exception {
        InetSocketAddress http = startForeground();
        Files.writeString(modeFile, "hang");
        long fdsBefore = -1;
        for (int i = 0; i < 2; i++) { // the first failure warms up what the JVM opens once (the process launcher)
            Ctl ctl = governorctl("upgrade", "3s");
            assertThat(ctl.code()).as(ctl.err()).isEqualTo(1);
            Matcher m = Pattern.compile(
                            "upgrade failed: the new process \\(pid (\\d+)\\) was not ready within PT3S; killed it")
                    .matcher(ctl.err());
            assertThat(m.find()).as(ctl.err()).isTrue();
            long hung = Long.parseLong(m.group(1));
            pids.add(hung);
            assertThat(DaemonCommands.running(hung))
                    .as("the hung process was killed by pid")
                    .isFalse();
            assertThat(get(http)).isEqualTo(served(first.pid()));
            if (i == 0) {
                fdsBefore = settledFds(first.pid());
            }
        }
        long expected = fdsBefore;
        await().atMost(EXIT)
                .untilAsserted(() -> assertThat(openFds(first.pid())).isEqualTo(expected));
    }

    @Test
    void shouldRefuseASecondUpgradeWhileOneIsUnderWay() throws Exception {
        InetSocketAddress http = startForeground();
        Files.writeString(modeFile, "slow"); // ready only after 3 s
        CompletableFuture<Ctl> firstUpgrade = CompletableFuture.supplyAsync(() -> governorctl("upgrade"));
        awaitLog(l -> l.contains("upgrade: started pid"));
        Ctl second = governorctl("upgrade");
        assertThat(second.code()).isEqualTo(1);
        assertThat(second.err())
                .containsPattern(
                        "governorctl: upgrade failed: another upgrade \\(to pid \\d+\\) is under way: one at a time");
        Ctl done = firstUpgrade.get(90, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(done.code()).as(done.err()).isZero();
        Matcher m = UPGRADED.matcher(done.out());
        assertThat(m.find()).isTrue();
        long next = Long.parseLong(m.group(1));
        pids.add(next);
        await().atMost(EXIT).until(() -> get(http).equals(served(next)));
        // the process it took over from is still draining or gone; once gone, upgrades work again
        await().atMost(EXIT).until(() -> !DaemonCommands.running(first.pid()));
        Files.writeString(modeFile, "ok");
        long third = upgrade();
        await().atMost(EXIT).until(() -> get(http).equals(served(third)));
    }

    @Test
    void shouldUpgradeOnSigusr1() throws Exception {
        InetSocketAddress http = startForeground();
        new ProcessBuilder("kill", "-USR1", Long.toString(first.pid())).start().waitFor();
        String started = awaitLog(l -> l.contains("upgrade: started pid"));
        Matcher m = Pattern.compile("started pid (\\d+)").matcher(started);
        assertThat(m.find()).isTrue();
        long next = Long.parseLong(m.group(1));
        pids.add(next);
        await().atMost(EXIT).until(() -> get(http).equals(served(next)));
        assertThat(first.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        // the control socket moved with it
        Ctl status = governorctl("status");
        assertThat(status.code()).as(status.err()).isZero();
        assertThat(status.out()).contains("pid " + next);
    }
}
