package dev.governor.ctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code governorctl}: the command line of a Governor daemon's control socket.
 *
 * <pre>
 * governorctl --socket /run/app/control.sock status
 * governorctl --socket /run/app/control.sock restart db/pool
 * </pre>
 *
 * Exit codes: 0 done; 1 the daemon answered with an error; 2 bad usage; 3 no daemon at the socket.
 */
@Command(
        name = "governorctl",
        mixinStandardHelpOptions = true,
        version = "governorctl 0.1.0",
        description = "Talks to a running Governor daemon through its control socket.",
        subcommandsRepeatable = false,
        sortOptions = false,
        subcommands = CommandLine.HelpCommand.class,
        footer = {"", "Exit codes: 0 done, 1 the daemon answered with an error, 2 bad usage, 3 no daemon at the socket."
        })
public final class GovernorCtl implements Callable<Integer> {
    static final int EXIT_ERROR_ANSWER = 1;
    static final int EXIT_NO_DAEMON = 3;

    @Option(
            scope = CommandLine.ScopeType.INHERIT,
            names = {"-s", "--socket"},
            paramLabel = "PATH",
            defaultValue = "${env:GOVERNOR_SOCKET}",
            description = "The daemon's control socket (default: $GOVERNOR_SOCKET).")
    Path socket;

    @Option(
            scope = CommandLine.ScopeType.INHERIT,
            names = "--json",
            description = "Print the daemon's JSON answer as it came.")
    boolean json;

    @Option(
            scope = CommandLine.ScopeType.INHERIT,
            names = "--color",
            paramLabel = "WHEN",
            defaultValue = "auto",
            description = "Colour the status table: auto (on a terminal, unless NO_COLOR is set), always, never.")
    String color;

    @Option(
            scope = CommandLine.ScopeType.INHERIT,
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "60s",
            description =
                    "How long to wait for the answer (stop and restart wait for the service): 500ms, 30s, 2m (default 60s).")
    String timeout;

    private PrintWriter out;
    private PrintWriter err;

    /** Runs the CLI and exits with its code. */
    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the CLI with these streams; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        GovernorCtl ctl = new GovernorCtl();
        ctl.out = out;
        ctl.err = err;
        CommandLine cl = new CommandLine(ctl).setOut(out).setErr(err);
        return cl.execute(args);
    }

    /** No command: the usage, which lists the commands, on stdout; exit 2 as for any incomplete command line. */
    @Override
    public Integer call() {
        new CommandLine(this).usage(out);
        return 2;
    }

    @Command(
            name = "status",
            description = "Print the tree: every service with its state, readiness, restarts and uptime.")
    int status() {
        return send("status", answer -> out.print(StatusTable.render(answer, colour())));
    }

    @Command(name = "restart", description = "Stop then start one service (NAME is its path, e.g. db/pool).")
    int restart(@Parameters(paramLabel = "NAME") String name) {
        return send(
                "restart " + name, a -> out.println(Printable.of("restarted " + name + " (" + a.get("state") + ")")));
    }

    @Command(name = "stop", description = "Stop one service for good (no restart).")
    int stop(@Parameters(paramLabel = "NAME") String name) {
        return send("stop " + name, a -> out.println(Printable.of("stopped " + name + " (" + a.get("state") + ")")));
    }

    @Command(name = "start", description = "Start a service that was stopped.")
    int start(@Parameters(paramLabel = "NAME") String name) {
        return send("start " + name, a -> out.println(Printable.of("started " + name + " (" + a.get("state") + ")")));
    }

    @Command(
            name = "reload",
            description = "Reload the daemon: its reload handler, then a new generation of every reloadable"
                    + " node (exit 1 when refused: the old generation keeps serving).")
    int reload() {
        return send("reload", a -> {
            StringBuilder line = new StringBuilder("reloaded");
            a.forEach((k, v) -> {
                if (k.startsWith("generation:")) {
                    line.append(line.length() == 8 ? ": " : ", ")
                            .append(k.substring(11))
                            .append(" generation ")
                            .append(v);
                }
            });
            out.println(line);
        });
    }

    @Command(
            name = "shutdown",
            description = "Begin an ordered shutdown of the daemon, bounded by TIMEOUT if given (30s, 500ms, PT1M).")
    int shutdown(@Parameters(paramLabel = "TIMEOUT", arity = "0..1") String limit) {
        return send(
                limit == null ? "shutdown" : "shutdown " + limit,
                a -> out.println(Printable.of("shutdown requested"
                        + (a.get("timeout") == null ? "" : " (within " + a.get("timeout") + ")"))));
    }

    @Command(
            name = "upgrade",
            description = "Replace the daemon with a new process (same command line) that takes over its sockets;"
                    + " the old one drains and exits. READY_TIMEOUT bounds the new process's start (default 60s).")
    int upgrade(@Parameters(paramLabel = "READY_TIMEOUT", arity = "0..1") String readyTimeout) {
        Duration ready = readyTimeout == null ? Duration.ofSeconds(60) : parseDuration(readyTimeout);
        // the daemon answers once the new process is ready, or killed after the timeout: wait for that
        Duration wait = ready == null ? null : ready.plusSeconds(30);
        return send(
                readyTimeout == null ? "upgrade" : "upgrade " + readyTimeout,
                a -> out.println(
                        "upgraded: pid " + a.get("pid") + " serves now; pid " + a.get("oldPid") + " drains and exits"),
                wait);
    }

    @Command(name = "commands", description = "List the commands the daemon itself understands.")
    int commands() {
        return send("help", a -> ((List<?>) a.get("commands")).forEach(c -> out.println(Printable.of(c))));
    }

    private int send(String line, java.util.function.Consumer<Map<String, Object>> print) {
        return send(line, print, null);
    }

    private int send(String line, java.util.function.Consumer<Map<String, Object>> print, Duration atLeast) {
        if (socket == null) {
            err.println("governorctl: no control socket: give --socket PATH or set GOVERNOR_SOCKET");
            return 2;
        }
        Duration wait = parseDuration(timeout);
        if (wait != null && atLeast != null && atLeast.compareTo(wait) > 0) {
            wait = atLeast;
        }
        if (wait == null) {
            err.println("governorctl: --timeout " + timeout + " is not a duration; use e.g. 500ms, 30s, 2m");
            return 2;
        }
        String raw;
        try {
            raw = ControlClient.ask(socket, line, wait);
        } catch (IOException e) {
            err.println("governorctl: cannot reach the daemon at " + socket + ": " + e.getMessage()
                    + " (is it running with a control socket there, and may you open it?)");
            return EXIT_NO_DAEMON;
        }
        Map<String, Object> answer;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = (Map<String, Object>) Json.parse(raw);
            answer = parsed;
        } catch (RuntimeException e) {
            err.println(Printable.of(
                    "governorctl: the daemon's answer is not a JSON object (" + e.getMessage() + "): " + raw));
            return EXIT_ERROR_ANSWER;
        }
        if (json) {
            out.println(raw);
        }
        if (!Boolean.TRUE.equals(answer.get("ok"))) {
            err.println("governorctl: "
                    + Printable.of(answer.getOrDefault("error", "the daemon refused without a reason")));
            return EXIT_ERROR_ANSWER;
        }
        if (!json) {
            print.accept(answer);
        }
        out.flush();
        return 0;
    }

    private boolean colour() {
        return switch (color) {
            case "always" -> true;
            case "never" -> false;
            default ->
                System.getenv("NO_COLOR") == null
                        && System.console() != null
                        && System.console().isTerminal();
        };
    }

    static Duration parseDuration(String text) {
        var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "GovernorCtl[socket=" + socket + ", json=" + json + ", color=" + color + ", timeout=" + timeout + "]";
    }

    /** The status answer as a table. */
    static final class StatusTable {
        private static final String RESET = "\u001b[0m";

        private StatusTable() {}

        static String render(Map<String, Object> answer, boolean colour) {
            StringBuilder sb = new StringBuilder();
            sb.append("pid ")
                    .append(Printable.of(answer.get("pid")))
                    .append("  ")
                    .append(Boolean.TRUE.equals(answer.get("ready")) ? "ready" : "NOT ready");
            if (answer.containsKey("healthy")) {
                sb.append("  ").append(Boolean.TRUE.equals(answer.get("healthy")) ? "healthy" : "UNHEALTHY");
            }
            if (Boolean.TRUE.equals(answer.get("stopping"))) {
                sb.append("  stopping");
            }
            if (answer.get("summary") != null) {
                sb.append("  (").append(Printable.of(answer.get("summary"))).append(')');
            }
            sb.append('\n');
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "STATE", "READY", "RESTARTS", "UPTIME", "LAST FAILURE"});
            List<?> services = answer.get("services") instanceof List<?> l ? l : List.of();
            for (Object o : services) {
                Map<?, ?> s = (Map<?, ?>) o;
                String state = String.valueOf(s.get("state"));
                rows.add(new String[] {
                    Printable.of(s.get("name")) + (Boolean.TRUE.equals(s.get("supervisor")) ? "/" : ""),
                    Printable.of(state),
                    Boolean.TRUE.equals(s.get("ready")) ? "yes" : "no",
                    Printable.of(s.get("restarts")),
                    uptime(state, s.get("uptimeSeconds")),
                    s.get("lastFailure") == null ? "" : cut(String.valueOf(s.get("lastFailure")), 70)
                });
            }
            int[] width = new int[6];
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    width[i] = Math.max(width[i], r[i].length());
                }
            }
            for (int row = 0; row < rows.size(); row++) {
                String[] r = rows.get(row);
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < r.length; i++) {
                    String cell =
                            i == 3 ? pad(r[i], width[i], true) : i == r.length - 1 ? r[i] : pad(r[i], width[i], false);
                    if (colour && row == 0) {
                        cell = "\u001b[1m" + cell + RESET;
                    } else if (colour && i == 1) {
                        cell = stateColour(r[1]) + cell + RESET;
                    }
                    line.append(cell);
                    if (i < r.length - 1) {
                        line.append("  ");
                    }
                }
                sb.append(line.toString().stripTrailing()).append('\n');
            }
            return sb.toString();
        }

        private static String stateColour(String state) {
            return switch (state) {
                case "RUNNING" -> "\u001b[32m";
                case "STARTING", "RESTARTING", "STOPPING" -> "\u001b[33m";
                case "FAILED" -> "\u001b[31m";
                default -> "\u001b[2m";
            };
        }

        /** The daemon's {@code uptimeSeconds} (measured on the governor's clock), as {@code 59s}, {@code 1m05s}, {@code 2h03m}, {@code 3d04h}. */
        private static String uptime(String state, Object uptimeSeconds) {
            if (!(state.equals("RUNNING") || state.equals("STOPPING")) || !(uptimeSeconds instanceof Number n)) {
                return "-";
            }
            long sec = Math.max(0, n.longValue());
            return sec < 60
                    ? sec + "s"
                    : sec < 3600
                            ? sec / 60 + "m" + String.format("%02d", sec % 60) + "s"
                            : sec < 86400
                                    ? sec / 3600 + "h" + String.format("%02d", sec % 3600 / 60) + "m"
                                    : sec / 86400 + "d" + String.format("%02d", sec % 86400 / 3600) + "h";
        }

        private static String pad(String s, int width, boolean right) {
            String fill = " ".repeat(Math.max(0, width - s.length()));
            return right ? fill + s : s + fill;
        }

        private static String cut(String s, int max) {
            String one = Printable.of(s);
            return one.length() <= max ? one : one.substring(0, max - 1) + "…";
        }
    }
}
