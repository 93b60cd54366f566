package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.ctl.GovernorCtl;
import dev.governor.test.ChildJvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample daemon's Jetty hello service in a child JVM, reloaded by real SIGHUPs while a client
 * holds 64 keep-alive connections: no connection error, no answer but 200, every good
 * configuration answered, every broken one refused while the old generation keeps answering.
 */
class ReloadUnderLoadTest {
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration STEP = Duration.ofSeconds(30);
    private static final Pattern HELLO = Pattern.compile("hello: http://127\\.0\\.0\\.1:(\\d+)/hello");

    @TempDir
    Path dir;

    private static final String BROKEN = "greeting\n";

    private ChildJvm start(Path config, String... more) throws Exception {
        ChildJvm.Builder b = ChildJvm.builder(SampleDaemon.class)
                .arg("--config=" + config, "--hello-port=0", "--port=0", "--tick=600000", "--flaky-fails=0");
        b.arg(more);
        ChildJvm child = b.start();
        child.awaitOutput(l -> l.contains("governor ready"), START);
        return child;
    }

    private static int port(ChildJvm child) throws InterruptedException {
        Matcher m = HELLO.matcher(child.awaitOutput(l -> HELLO.matcher(l).find(), START));
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static long count(ChildJvm child, String text) {
        return child.lines().stream().filter(l -> l.contains(text)).count();
    }

    @Test
    void twentyReloadsOneSecondApartUnder64KeepAliveConnectionsLoseNoRequest() throws Exception {
        Path config = dir.resolve("hello.conf");
        Files.writeString(config, "greeting=good-0\n");
        try (ChildJvm child = start(config)) {
            int port = port(child);
            HttpLoad load = new HttpLoad(new InetSocketAddress("127.0.0.1", port), "/hello", 64);
            HttpLoad.Result result;
            try {
                await().atMost(START).until(() -> load.requests() > 1000);
                long begin = System.nanoTime();
                for (int i = 1; i <= 20; i++) {
                    LockSupport.parkNanos(
                            begin + TimeUnit.SECONDS.toNanos(i) - System.nanoTime()); // one reload a second
                    boolean good = i % 2 == 1;
                    Files.writeString(config, good ? "greeting=good-" + i + "\n" : BROKEN);
                    long served = count(child, "is serving; stopping generation");
                    long refused = count(child, "reload of hello refused");
                    child.signal("HUP");
                    await().atMost(STEP)
                            .until(() -> count(child, "is serving; stopping generation")
                                            + count(child, "reload of hello refused")
                                    > served + refused);
                    assertThat(count(child, "reload of hello refused"))
                            .as("reload %d (%s)", i, good ? "good" : "broken")
                            .isEqualTo(refused + (good ? 0 : 1));
                }
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1)); // the last generation answers for a second more
            } finally {
                result = load.stop();
            }
            System.out.println("reload under load: " + result);
            assertThat(result.errorSamples()).isEmpty();
            assertThat(result.connectionErrors()).isZero();
            assertThat(result.non200()).isZero();
            assertThat(result.requests()).isGreaterThan(10_000);
            // generation g+1 came from the g-th good file: good-1 is generation 2, good-3 generation 3, ...
            assertThat(withoutPid(result.bodies())).contains("hello from generation 1: good-0");
            for (int i = 1, generation = 2; i <= 19; i += 2, generation++) {
                assertThat(withoutPid(result.bodies()))
                        .as("good reload %d answered", i)
                        .contains("hello from generation " + generation + ": good-" + i);
            }
            assertThat(withoutPid(result.bodies()))
                    .allMatch(b -> b.startsWith("hello from generation "))
                    .hasSize(11);
            assertThat(count(child, "reload of hello refused")).isEqualTo(10);
            assertThat(child.output()).contains("is not key=value");
            child.signal("TERM");
            assertThat(child.awaitExit(START)).isZero();
        }
    }

    @Test
    void governorctlReloadExitsOneAndNamesTheErrorWhenTheFileIsBroken() throws Exception {
        Path config = dir.resolve("hello.conf");
        Files.writeString(config, "greeting=first\n");
        Path socket = dir.resolve("ctl.sock");
        try (ChildJvm child = start(config, "--control-socket=" + socket)) {
            int port = port(child);
            assertThat(get(port)).isEqualTo("hello from generation 1: first");

            Files.writeString(config, "greeting=second\n");
            Ctl ok = governorctl(socket, "reload");
            assertThat(ok.code()).isZero();
            assertThat(ok.out()).isEqualTo("reloaded: hello generation 2\n");
            await().atMost(STEP).until(() -> get(port).equals("hello from generation 2: second"));

            Files.writeString(config, "greeting=third\nport: 80\n");
            Ctl refused = governorctl(socket, "reload");
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.err())
                    .isEqualTo(
                            "governorctl: generation 3 of \"hello\" refused: java.lang.IllegalArgumentException: "
                                    + config
                                    + " line 2: \"port: 80\" is not key=value; the running services are kept (see the daemon's log)\n");
            assertThat(get(port)).isEqualTo("hello from generation 2: second");
            assertThat(governorctl(socket, "status").out()).contains("hello/http");
            child.signal("TERM");
            assertThat(child.awaitExit(START)).isZero();
        }
    }

    @Test
    void underSocketActivationTheListenerIsSystemdsAndSystemdHearsOfEveryReload() throws Exception {
        ExternalTool activate = ExternalTool.require("systemd-socket-activate", "systemd");
        Path config = dir.resolve("hello.conf");
        Files.writeString(config, "greeting=activated\n");
        int port = ExternalTool.freePort();
        try (dev.governor.runtime.systemd.NotifyReceiver systemd = dev.governor.runtime.systemd.NotifyReceiver.bind(
                        "@governor-reload-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
                ChildJvm child = ChildJvm.builder(SampleDaemon.class)
                        .commandPrefix(
                                activate.path().toString(),
                                "-l",
                                "127.0.0.1:" + port,
                                "--fdname=hello",
                                "-E",
                                "NOTIFY_SOCKET=" + systemd.address())
                        .arg(
                                "--config=" + config,
                                "--hello-port=" + ExternalTool.freePort(),
                                "--port=0",
                                "--tick=600000",
                                "--flaky-fails=0")
                        .start()) {
            child.awaitOutput(l -> l.contains("Listening on 127.0.0.1:" + port), START);
            // the first connection starts the daemon, as a .socket unit would: it waits in the backlog meanwhile
            assertThat(get(port)).isEqualTo("hello from generation 1: activated");
            child.awaitOutput(l -> l.contains("listener \"hello\": tcp 127.0.0.1:" + port + " from systemd"), STEP);
            var ready = systemd.await(m -> m.has("READY", "1"), START);

            Files.writeString(config, "greeting=\n");
            child.signal("HUP");
            var reloading = systemd.awaitAfter(systemd.indexOf(ready), m -> m.has("RELOADING", "1"), STEP);
            var refused = systemd.awaitAfter(systemd.indexOf(reloading), m -> m.has("READY", "1"), STEP);
            assertThat(refused.get("STATUS").orElseThrow())
                    .startsWith("reload refused, previous generation kept: generation 2 of"
                            + " \"hello\" refused: java.lang.IllegalArgumentException: " + config
                            + " line 1: greeting must be 1 to 200 characters, was 0");
            assertThat(get(port)).isEqualTo("hello from generation 1: activated");

            Files.writeString(config, "greeting=again\n");
            child.signal("HUP");
            var again = systemd.awaitAfter(systemd.indexOf(refused), m -> m.has("RELOADING", "1"), STEP);
            var reloaded = systemd.awaitAfter(systemd.indexOf(again), m -> m.has("READY", "1"), STEP);
            assertThat(reloaded.get("STATUS").orElseThrow()).startsWith("reloaded: ");
            // the outgoing generation may still take a connection in the instant after the swap; it then drains it
            await().atMost(STEP).until(() -> get(port).equals("hello from generation 2: again"));
            child.signal("TERM");
            assertThat(child.awaitExit(START)).isZero();
        }
    }

    private record Ctl(int code, String out, String err) {}

    private static Ctl governorctl(Path socket, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int code = GovernorCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Ctl(code, out.toString(), err.toString());
    }

    private static String get(int port) throws IOException, InterruptedException {
        var client = java.net.http.HttpClient.newHttpClient();
        var response = client.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/hello"))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body().strip().replaceFirst(" \\(pid \\d+\\)$", "");
    }

    /** The answers by body without the serving pid they end with (one process serves every generation here). */
    private static java.util.Set<String> withoutPid(java.util.Map<String, Long> bodies) {
        return bodies.keySet().stream()
                .map(b -> b.replaceFirst(" \\(pid \\d+\\)$", ""))
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }
}
