package dev.governor.benchmarks;

import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.samples.HttpLoad;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Upgrade under load: the upgrade demo (the sample's Jetty hello service on a governor-owned listener,
 * with a control socket) in its own JVM, {@code connections} keep-alive connections of
 * {@link HttpLoad}, and three phases: a floor without upgrades, {@code upgrades} upgrades back to back
 * (each the control socket's {@code upgrade}, as {@code governorctl upgrade} sends it), and a second
 * floor. Prints requests/s, connection errors, non-200 answers and p50/p99 of each phase, and per
 * upgrade the time from the command to the new process ready (the answer) and to the old process
 * gone, with the p99 of the seconds in between.
 *
 * <p>Arguments: {@code [upgrades, default 5] [connections, default 64] [floor seconds, default 10]}.
 * Every JVM runs with the peer harness's flags ({@code -Xms2g -Xmx8g}, default G1).
 */
public final class UpgradeUnderLoad {
    private static final Pattern HELLO = Pattern.compile("hello: http://[^/:]+:(\\d+)/hello");
    private static final Pattern NEW_PID = Pattern.compile("\"pid\":(\\d+)");

    private UpgradeUnderLoad() {}

    /** One upgrade: when it was asked (s into the phase), and how long until the new one was ready and the old one gone. */
    private record Timing(long second, long goneSecond, long oldPid, long newPid, double readyMs, double oldGoneMs) {}

    public static void main(String[] args) throws Exception {
        int upgrades = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int floorSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        Path dir = Files.createTempDirectory("governor-upgrade-bench");
        Path config = dir.resolve("hello.conf");
        Path control = dir.resolve("ctl.sock");
        Path log = dir.resolve("demo.log");
        Files.writeString(config, "greeting=bench\n");
        List<String> flags = new ArrayList<>(Jvms.NATIVE_FLAGS);
        flags.add("-Dorg.slf4j.simpleLogger.log.org.eclipse.jetty=warn");
        List<String> command = Jvms.command(
                "dev.governor.samples.UpgradeDemo",
                flags,
                "--config=" + config,
                "--port=0",
                "--control-socket=" + control);
        Process first = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long pid = first.pid();
        try {
            int port = Integer.parseInt(awaitLine(log, HELLO, 120).group(1));
            awaitLine(log, Pattern.compile("upgrade demo: pid " + pid + " ready"), 120);
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", port);
            System.out.printf(
                    Locale.ROOT,
                    "upgrade under load: %d upgrades, %d connections, floors of %d s, first pid %d%n",
                    upgrades,
                    connections,
                    floorSeconds,
                    pid);
            floor(target, connections, Math.max(5, floorSeconds / 2)); // warm-up, not reported
            HttpLoad.Result floor = floor(target, connections, floorSeconds);
            List<Timing> timings = new ArrayList<>();
            HttpLoad load = new HttpLoad(target, "/hello", connections);
            HttpLoad.Result upgrading;
            try {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
                for (int i = 0; i < upgrades; i++) {
                    long second = TimeUnit.NANOSECONDS.toSeconds(load.elapsedNanos());
                    long asked = System.nanoTime();
                    String answer = ask(control, "upgrade");
                    double readyMs = (System.nanoTime() - asked) / 1e6;
                    Matcher m = NEW_PID.matcher(answer);
                    if (!answer.startsWith("{\"ok\":true") || !m.find()) {
                        throw new IllegalStateException("upgrade " + (i + 1) + " failed: " + answer);
                    }
                    long next = Long.parseLong(m.group(1));
                    while (DaemonCommands.running(pid)) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                    }
                    double goneMs = (System.nanoTime() - asked) / 1e6;
                    timings.add(new Timing(
                            second, TimeUnit.NANOSECONDS.toSeconds(load.elapsedNanos()), pid, next, readyMs, goneMs));
                    pid = next;
                    LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2)); // the new one serves alone a moment
                }
            } finally {
                upgrading = load.stop();
            }
            HttpLoad.Result floor2 = floor(target, connections, floorSeconds);

            LoadTable.header();
            LoadTable.row("floor (no upgrade)", floor);
            LoadTable.row(upgrades + " upgrades", upgrading);
            LoadTable.row("floor again", floor2);
            System.out.println();
            System.out.printf(
                    Locale.ROOT,
                    "%-8s %-8s %-8s %14s %14s %18s%n",
                    "upgrade",
                    "old pid",
                    "new pid",
                    "ready ms",
                    "old gone ms",
                    "p99 ms, meanwhile");
            double worst = 0;
            for (int i = 0; i < timings.size(); i++) {
                Timing t = timings.get(i);
                double p99 = upgrading.percentileMillis(0.99, x -> x >= t.second() && x <= t.goneSecond());
                worst = Math.max(worst, p99);
                System.out.printf(
                        Locale.ROOT,
                        "%-8d %-8d %-8d %14.0f %14.0f %18.2f%n",
                        i + 1,
                        t.oldPid(),
                        t.newPid(),
                        t.readyMs(),
                        t.oldGoneMs(),
                        p99);
            }
            double floorP99 =
                    Math.min(floor.percentileMillis(0.99, x -> true), floor2.percentileMillis(0.99, x -> true));
            System.out.printf(
                    Locale.ROOT,
                    "%np99 ratio, upgrading / floor: %.2f (whole phase), %.2f (worst upgrade, command to old gone); req/s ratio %.2f%n",
                    upgrading.percentileMillis(0.99, x -> true) / floorP99,
                    worst / floorP99,
                    upgrading.requestsPerSecond() / Math.max(floor.requestsPerSecond(), floor2.requestsPerSecond()));
            LoadTable.errorSamples(List.of(floor, upgrading, floor2));
            System.out.println("command: mvn -B -q -Pupgrade package -DskipTests -pl benchmarks -am -Dupgrade.args=\""
                    + upgrades + " " + connections + " " + floorSeconds + "\"");
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            long last = pid;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (DaemonCommands.running(last) && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
            ProcessHandle.of(last).ifPresent(ProcessHandle::destroyForcibly);
            first.destroyForcibly();
            for (Path p : List.of(config, log, control, dir)) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static HttpLoad.Result floor(InetSocketAddress target, int connections, int seconds)
            throws InterruptedException {
        HttpLoad load = new HttpLoad(target, "/hello", connections);
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(seconds));
        return load.stop();
    }

    /** One command line to the control socket, its one-line answer. */
    private static String ask(Path control, String line) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(control))) {
            ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (ch.read(buf) >= 0) {
                for (int i = 0; i < buf.position(); i++) {
                    if (buf.get(i) == '\n') {
                        return new String(buf.array(), 0, i, StandardCharsets.UTF_8);
                    }
                }
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        }
    }

    private static Matcher awaitLine(Path log, Pattern pattern, int seconds) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                Matcher m = pattern.matcher(l);
                if (m.find()) {
                    return m;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the demo did not print " + pattern + " within " + seconds + " s:\n" + Files.readString(log));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }
}
