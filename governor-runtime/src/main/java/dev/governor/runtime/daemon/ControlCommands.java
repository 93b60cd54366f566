package dev.governor.runtime.daemon;

import dev.governor.Governor;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.GovernorRuntime;
import dev.governor.runtime.internal.Json;
import dev.governor.runtime.internal.StatusJson;
import dev.governor.runtime.internal.Untrusted;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The commands of the control socket: one line in, one JSON object out, never an exception.
 * Every answer has {@code "ok"}; a failed one has {@code "error"}, a sentence naming the value and
 * the rule.
 */
final class ControlCommands {
    static final List<String> HELP = List.of(
            "status                 the tree: every service with its state, readiness and restarts",
            "restart NAME           stop then start one service (NAME is its path, e.g. db/pool)",
            "stop NAME              stop one service for good (no restart)",
            "start NAME             start a service that was stopped",
            "reload                 run the reload handler, then start a new generation of every reloadable node",
            "shutdown [TIMEOUT]     begin an ordered shutdown, bounded by TIMEOUT (30s, 500ms, PT1M)",
            "upgrade [TIMEOUT]      start a new process that takes over the sockets, then drain and exit (ready within TIMEOUT, default 60s)",
            "help                   this list");
    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");
    private static final int QUOTE_MAX = 64;

    private final Governor gov;
    private final String self; // the control socket's own path in the tree

    ControlCommands(Governor gov, String self) {
        this.gov = gov;
        this.self = self;
    }

    /** An answer, and what to do once it has been sent (the shutdown, which closes the connection). */
    record Answer(String json, Runnable afterSent) {
        Answer(String json) {
            this(json, () -> {});
        }
    }

    /** The answer to one line; the shutdown it asks for begins only once the answer has been sent. */
    Answer answer(String line) {
        String trimmed = line.strip();
        int space = indexOfWhitespace(trimmed);
        String verb = (space < 0 ? trimmed : trimmed.substring(0, space)).toLowerCase(Locale.ROOT);
        String arg = space < 0 ? "" : trimmed.substring(space + 1).strip();
        if (verb.equals("shutdown")) {
            return shutdown(arg);
        }
        if (verb.equals("upgrade")) {
            return UpgradeCommand.answer(gov, arg);
        }
        try {
            return new Answer(
                    switch (verb) {
                        case "status" -> noArgument(verb, arg).orElseGet(this::status);
                        case "help" -> noArgument(verb, arg).orElseGet(() -> ok(Map.of("ok", true, "commands", HELP)));
                        case "reload" -> noArgument(verb, arg).orElseGet(this::reload);
                        case "restart", "stop", "start" -> onService(verb, arg);
                        case "" -> error("empty command; try help");
                        default -> error("unknown command " + quote(verb) + "; try help");
                    });
        } catch (RuntimeException e) {
            return new Answer(error(verb + " failed: " + e.getMessage()));
        }
    }

    private Optional<String> noArgument(String verb, String arg) {
        return arg.isEmpty() ? Optional.empty() : Optional.of(error(verb + " takes no argument, got " + quote(arg)));
    }

    private String status() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        List<ServiceInfo> services = gov.services();
        out.putAll(StatusJson.document(
                gov,
                hooks().orElse(null),
                services,
                Map.of(),
                gov.options().clock().instant(),
                services.size(),
                Integer.MAX_VALUE));
        return Json.write(out);
    }

    private String reload() {
        boolean ok = gov.reload(); // IllegalStateException (nothing to reload) becomes an error answer
        if (ok) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("ok", true);
            out.put("command", "reload");
            hooks().ifPresent(h -> h.reloadables().forEach(r -> out.put("generation:" + r.name(), r.generation())));
            return Json.write(out);
        }
        String why = hooks().map(GovernorHooks::lastReloadError).orElse(null);
        return error((why == null ? "reload failed" : why) + "; the running services are kept (see the daemon's log)");
    }

    private String onService(String verb, String name) {
        if (name.isEmpty()) {
            return error(verb + " needs a service NAME, e.g. " + verb + " db/pool");
        }
        Optional<ServiceInfo> info = gov.service(name);
        if (info.isEmpty()) {
            return error("no service named " + quote(name) + "; status lists the names");
        }
        if (!verb.equals("start") && (name.equals(self) || self.startsWith(name + "/"))) {
            return error(verb + " " + quote(name)
                    + " would stop this control socket while it answers; use shutdown, or another way in");
        }
        String parent = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
        switch (verb) {
            case "stop" -> gov.stopChild(name);
            case "restart" -> gov.restartChild(name);
            default -> {
                ServiceState state = info.get().state();
                if (state != ServiceState.STOPPED && state != ServiceState.FAILED) {
                    return error("service " + quote(name) + " is " + state
                            + "; start applies to a STOPPED or FAILED service");
                }
                gov.restartChild(name);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("command", verb);
        out.put("service", name);
        out.put("state", gov.service(name).map(i -> i.state().name()).orElse(null));
        if (!parent.isEmpty()) {
            out.put("parent", parent);
        }
        return Json.write(out);
    }

    private Answer shutdown(String arg) {
        Duration timeout = null;
        if (!arg.isEmpty()) {
            timeout = parseDuration(arg);
            if (timeout == null) {
                return new Answer(
                        error("timeout " + quote(arg) + " is not a duration; use e.g. 30s, 500ms, 2m or PT1M"));
            }
        }
        if (timeout != null && timeout.isZero()) {
            return new Answer(
                    error("timeout " + quote(arg) + " must be positive: a shutdown needs time to stop the services"));
        }
        if (gov.stopping()) {
            return new Answer(error("shutdown has already begun"));
        }
        if (timeout != null) {
            try {
                gov.shutdownTimeout(timeout); // checked and applied before the answer, never after an ok
            } catch (RuntimeException e) {
                return new Answer(error("timeout " + quote(arg) + " refused: " + e.getMessage()));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("command", "shutdown");
        out.put("timeout", timeout == null ? null : timeout.toString());
        Duration bound = timeout;
        return new Answer(
                Json.write(out),
                () -> gov.requestShutdown("control socket: shutdown" + (bound == null ? "" : " " + bound)));
    }

    /** {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h}, a bare number of seconds, or ISO-8601 ({@code PT1M}). */
    static Duration parseDuration(String text) {
        Matcher m = SIMPLE_DURATION.matcher(text);
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
            Duration d = Duration.parse(text);
            return d.isNegative() ? null : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private Optional<GovernorHooks> hooks() {
        try {
            return Optional.of(GovernorRuntime.hooks(gov));
        } catch (IllegalArgumentException notOurs) {
            return Optional.empty();
        }
    }

    private static String describe(Throwable t) {
        return Untrusted.describe(t);
    }

    static String error(String message) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", false);
        out.put("error", message);
        return Json.write(out);
    }

    private static String ok(Map<String, Object> fields) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", fields.get("ok"));
        fields.forEach((k, v) -> {
            if (!k.equals("ok")) {
                out.put(k, v);
            }
        });
        return Json.write(out);
    }

    /** {@code "text"}, cut at 64 characters, control characters shown as {@code ?}. */
    static String quote(String text) {
        String cut = text.length() > QUOTE_MAX ? text.substring(0, QUOTE_MAX) + "…" : text;
        StringBuilder sb = new StringBuilder(cut.length() + 2).append('"');
        cut.codePoints().forEach(c -> sb.appendCodePoint(Character.isISOControl(c) || c == 0xfffd ? '?' : c));
        return sb.append('"').toString();
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "ControlCommands[self=" + self + ", governor=" + gov + "]";
    }
}
