package dev.governor;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;

/**
 * How a governor reads time and ends. Made with {@link #builder()}; {@link #defaults()} gives the
 * values listed on each builder method.
 *
 * @param clock                  source of every timestamp and duration the governor measures
 * @param scheduler              runs every delay, sleep and timeout
 * @param serviceShutdownTimeout default wait for one service's {@code run} to return once stopped
 * @param shutdownTimeout        bound on the whole ordered shutdown
 * @param drainDelay             wait between readiness dropping and the first service stopping
 * @param escalationExitCode     exit code after an escalation reached the root
 * @param fatalExitCode          exit code after a fatal {@link VirtualMachineError}
 * @param fatalErrorsShutDown    whether a fatal error in a service shuts the governor down
 * @param systemd                whether the runtime talks to systemd by itself when {@code NOTIFY_SOCKET} is set
 */
public record GovernorOptions(
        InstantSource clock,
        Scheduler scheduler,
        Duration serviceShutdownTimeout,
        Duration shutdownTimeout,
        Duration drainDelay,
        int escalationExitCode,
        int fatalExitCode,
        boolean fatalErrorsShutDown,
        boolean systemd) {

    public GovernorOptions {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(scheduler, "scheduler");
        Checks.positive(serviceShutdownTimeout, "serviceShutdownTimeout");
        Checks.positive(shutdownTimeout, "shutdownTimeout");
        Checks.notNegative(drainDelay, "drainDelay");
        checkExitCode(escalationExitCode, "escalationExitCode");
        checkExitCode(fatalExitCode, "fatalExitCode");
    }

    private static void checkExitCode(int code, String what) {
        if (code < 1 || code > 255) {
            throw new IllegalArgumentException(what + " must be within [1, 255], was " + code);
        }
    }

    /** The defaults: monotonic system clock, {@link Scheduler#system()}, 5 s, 30 s, no drain, 1, 70, true, true. */
    public static GovernorOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.clock = clock;
        b.scheduler = scheduler;
        b.serviceShutdownTimeout = serviceShutdownTimeout;
        b.shutdownTimeout = shutdownTimeout;
        b.drainDelay = drainDelay;
        b.escalationExitCode = escalationExitCode;
        b.fatalExitCode = fatalExitCode;
        b.fatalErrorsShutDown = fatalErrorsShutDown;
        b.systemd = systemd;
        return b;
    }

    /** Builds {@link GovernorOptions}; each setter checks its argument when {@link #build()} runs. */
    public static final class Builder {
        private InstantSource clock;
        private Scheduler scheduler = Scheduler.system();
        private Duration serviceShutdownTimeout = Duration.ofSeconds(5);
        private Duration shutdownTimeout = Duration.ofSeconds(30);
        private Duration drainDelay = Duration.ZERO;
        private int escalationExitCode = 1;
        private int fatalExitCode = 70;
        private boolean fatalErrorsShutDown = true;
        private boolean systemd = true;

        private Builder() {}

        /** Default: the system clock advanced by {@link System#nanoTime()}, so wall-clock jumps do not distort durations. */
        public Builder clock(InstantSource clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Default {@link Scheduler#system()}. */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** Default 5 s. */
        public Builder serviceShutdownTimeout(Duration timeout) {
            this.serviceShutdownTimeout = timeout;
            return this;
        }

        /** Default 30 s. */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = timeout;
            return this;
        }

        /** Default zero: how long readiness is withdrawn before the first service stops (load balancers drain). */
        public Builder drainDelay(Duration delay) {
            this.drainDelay = delay;
            return this;
        }

        /** Default 1. */
        public Builder escalationExitCode(int code) {
            this.escalationExitCode = code;
            return this;
        }

        /** Default 70 ({@code EX_SOFTWARE}). */
        public Builder fatalExitCode(int code) {
            this.fatalExitCode = code;
            return this;
        }

        /** Default true: a {@link VirtualMachineError} in a service begins an ordered shutdown. */
        public Builder fatalErrorsShutDown(boolean shutDown) {
            this.fatalErrorsShutDown = shutDown;
            return this;
        }

        /** Default true: notify systemd when {@code NOTIFY_SOCKET} is set. */
        public Builder systemd(boolean enabled) {
            this.systemd = enabled;
            return this;
        }

        public GovernorOptions build() {
            return new GovernorOptions(
                    clock == null ? monotonicClock() : clock,
                    scheduler,
                    serviceShutdownTimeout,
                    shutdownTimeout,
                    drainDelay,
                    escalationExitCode,
                    fatalExitCode,
                    fatalErrorsShutDown,
                    systemd);
        }
    }

    private static InstantSource monotonicClock() {
        Instant origin = Instant.now();
        long originNanos = System.nanoTime();
        return new InstantSource() {
            @Override
            public Instant instant() {
                return origin.plusNanos(System.nanoTime() - originNanos);
            }

            @Override
            public String toString() {
                return "monotonic system clock";
            }
        };
    }
}
