package dev.governor.runtime.internal;

import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM-wide POSIX signal handlers, installed once, dispatching to every governor that called
 * {@code catchSignals()}. INT, TERM, HUP and USR1 (upgrade) are ours; QUIT (thread dump) and USR2 (HotSpot) stay
 * the JVM's. A Java TERM handler replaces the JVM's own, so when no governor is left a signal
 * ends the process with the conventional code, as the JVM would.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported) is the only way to catch these signals in Java.
 * It is reached through method handles, not named in the source: javac's warning on every use of
 * it ("internal proprietary API") is a mandatory one that no {@code @SuppressWarnings} and no
 * {@code -Xlint} option silences on JDK 25, and the build compiles with {@code -Werror}.
 */
final class Signals {
    private static final Logger LOG = LoggerFactory.getLogger("dev.governor");
    private static final List<GovernorImpl> GOVERNORS = new CopyOnWriteArrayList<>();
    private static final String[] HANDLED = {"INT", "TERM", "HUP", "USR1"};
    /** A repeat of the same signal within this window is the same request, not an escalation. */
    static final long SAME_REQUEST_NANOS = 500_000_000L;

    private static boolean installed;

    private static final Class<?> SIGNAL;
    private static final Class<?> HANDLER;
    private static final MethodHandle NEW_SIGNAL; // new Signal(String)
    private static final MethodHandle HANDLE; // static Signal.handle(Signal, SignalHandler)
    private static final MethodHandle GET_NAME; // signal.getName()
    private static final MethodHandle GET_NUMBER; // signal.getNumber()

    static {
        try {
            SIGNAL = Class.forName("sun.misc.Signal");
            HANDLER = Class.forName("sun.misc.SignalHandler");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            NEW_SIGNAL = lookup.findConstructor(SIGNAL, MethodType.methodType(void.class, String.class));
            HANDLE = lookup.findStatic(SIGNAL, "handle", MethodType.methodType(HANDLER, SIGNAL, HANDLER));
            GET_NAME = lookup.findVirtual(SIGNAL, "getName", MethodType.methodType(String.class));
            GET_NUMBER = lookup.findVirtual(SIGNAL, "getNumber", MethodType.methodType(int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Signals() {}

    /**
     * A {@code sun.misc.SignalHandler} that calls {@link #handle(Object)}, made the way javac makes a
     * lambda ({@link LambdaMetafactory}): a {@code java.lang.reflect.Proxy} would generate a proxy
     * class and its module on the way to {@code READY=1} (~150 JDK classes, tens of ms cold).
     */
    private static Object handler() throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle target =
                lookup.findStatic(Signals.class, "handle", MethodType.methodType(void.class, Object.class));
        MethodHandle factory = LambdaMetafactory.metafactory(
                        lookup,
                        "handle",
                        MethodType.methodType(HANDLER),
                        MethodType.methodType(void.class, SIGNAL),
                        target,
                        MethodType.methodType(void.class, SIGNAL))
                .getTarget();
        return factory.invoke();
    }

    static synchronized void register(GovernorImpl governor) {
        GOVERNORS.add(governor);
        if (installed) {
            return;
        }
        Object handler;
        try {
            handler = handler();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot make the signal handler", e);
        }
        for (String name : HANDLED) {
            try {
                HANDLE.invoke(NEW_SIGNAL.invoke(name), handler);
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{} in this JVM: {}", name, e.getMessage());
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException("cannot install the handler of SIG" + name, e);
            }
        }
        installed = true;
        LOG.debug("handling SIGINT, SIGTERM, SIGHUP, SIGUSR1; SIGQUIT and SIGUSR2 stay the JVM's");
    }

    static void unregister(GovernorImpl governor) {
        GOVERNORS.remove(governor);
    }

    private static void handle(Object signal) {
        String name;
        int number;
        try {
            name = (String) GET_NAME.invoke(signal);
            number = (int) GET_NUMBER.invoke(signal);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read " + signal, e);
        }
        handle(name, number);
    }

    private static void handle(String name, int number) {
        List<GovernorImpl> live =
                GOVERNORS.stream().filter(g -> !g.terminatedAlready()).toList();
        if (live.isEmpty()) {
            int code = 128 + number;
            LOG.info("SIG{} with no running governor: exiting with {}", name, code);
            System.exit(code);
            return;
        }
        LOG.info("received SIG{}", name);
        for (GovernorImpl g : live) {
            g.onSignal(name, number);
        }
    }
}
