package dev.governor;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link Governor#upgrade(UpgradeOptions)} starts the new process. Immutable; every
 * {@code with…} returns a new value.
 *
 * @param command      the new process's command line; empty: this process's own (java, JVM flags,
 *                     class path, main class and arguments, as the daemonizer re-reads them)
 * @param readyTimeout how long the new process may take to fetch the listeners and become ready
 *                     before it is killed; 60 s by default
 * @param environment  variables added to (or replacing in) this process's environment for the new one
 */
public record UpgradeOptions(List<String> command, Duration readyTimeout, Map<String, String> environment) {
    public UpgradeOptions {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(readyTimeout, "readyTimeout");
        Objects.requireNonNull(environment, "environment");
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        if (readyTimeout.isNegative() || readyTimeout.isZero()) {
            throw new IllegalArgumentException("readyTimeout must be positive, was " + readyTimeout);
        }
        if (readyTimeout.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("readyTimeout must be at most 1 day, was " + readyTimeout);
        }
        if (!command.isEmpty() && command.get(0).isBlank()) {
            throw new IllegalArgumentException("command must begin with a program, was " + command);
        }
        for (String name : environment.keySet()) {
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(
                        "environment variable name \"" + name + "\" must be non-empty, without '=' or NUL");
            }
        }
    }

    /** This process's command line, a 60 s ready timeout, no added environment. */
    public static UpgradeOptions defaults() {
        return new UpgradeOptions(List.of(), Duration.ofSeconds(60), Map.of());
    }

    public UpgradeOptions withCommand(List<String> newCommand) {
        return new UpgradeOptions(newCommand, readyTimeout, environment);
    }

    public UpgradeOptions withReadyTimeout(Duration timeout) {
        return new UpgradeOptions(command, timeout, environment);
    }

    public UpgradeOptions withEnvironment(Map<String, String> env) {
        return new UpgradeOptions(command, readyTimeout, env);
    }
}
