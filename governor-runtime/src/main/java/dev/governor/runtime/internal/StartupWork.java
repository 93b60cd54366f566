package dev.governor.runtime.internal;

import dev.governor.runtime.GovernorExtension;
import java.lang.invoke.LambdaConversionException;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * What every JVM's first {@code start()} needs and nothing before it, begun on a background daemon
 * thread at its first {@code Governor.create()} (issue 13, W4): the lookup of the extensions on the
 * class path (a {@code ServiceLoader} scan that opens every jar: ~15–25 ms cold) and the signal
 * handler (a class spun by {@link LambdaMetafactory}: ~15 ms cold, also with an AOT cache), so that
 * {@code main} finds them made by the time it calls {@code catchSignals()} and {@code start()}, which
 * wait for the work if it is not done yet. Done once per JVM: the class path does not change, and
 * each start still makes its own extension instances.
 *
 * <p>Nothing here logs or initializes a class that does: the logging backend may be setting itself
 * up on {@code main} meanwhile, and a logger asked for on another thread then is a substitute that
 * replays its calls with a warning.
 */
final class StartupWork {
    private StartupWork() {}

    private static final FutureTask<List<ServiceLoader.Provider<GovernorExtension>>> EXTENSIONS =
            new FutureTask<>(StartupWork::findExtensions);
    private static final FutureTask<Object> SIGNAL_HANDLER = new FutureTask<>(StartupWork::makeSignalHandler);
    private static boolean begun; // guarded by StartupWork.class

    /** Begins the work on a background daemon thread, once per JVM; later calls do nothing. */
    static synchronized void begin() {
        if (begun) {
            return;
        }
        begun = true;
        Thread.ofPlatform().daemon().name("governor-startup").start(() -> {
            EXTENSIONS.run();
            SIGNAL_HANDLER.run();
        });
    }

    /** The extensions on the governor's class path, in the ServiceLoader's order; waits for the lookup. */
    static List<ServiceLoader.Provider<GovernorExtension>> extensions() {
        return await(EXTENSIONS);
    }

    /** A {@code sun.misc.SignalHandler} calling {@link Signals#handle(Object)}; waits for it to be made. */
    static Object signalHandler() {
        return await(SIGNAL_HANDLER);
    }

    /** The task's result, run here if the background thread has not begun it (a second runner waits for none). */
    private static <T> T await(FutureTask<T> task) {
        begin();
        task.run(); // does nothing once run or running elsewhere
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the work is short and not ours to abandon: keep the interrupt for later
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause.getMessage(), cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static List<ServiceLoader.Provider<GovernorExtension>> findExtensions() {
        return ServiceLoader.load(GovernorExtension.class, GovernorImpl.class.getClassLoader()).stream()
                .toList();
    }

    /**
     * Made the way javac makes a lambda: a {@code java.lang.reflect.Proxy} would generate a proxy class
     * and its module (~150 JDK classes, tens of ms cold). Names {@code sun.misc} by reflection only, as
     * {@link Signals} does.
     */
    private static Object makeSignalHandler() throws ReflectiveOperationException, LambdaConversionException {
        Class<?> signal = Class.forName("sun.misc.Signal");
        Class<?> handler = Class.forName("sun.misc.SignalHandler");
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle target =
                lookup.findStatic(Signals.class, "handle", MethodType.methodType(void.class, Object.class));
        MethodHandle factory = LambdaMetafactory.metafactory(
                        lookup,
                        "handle",
                        MethodType.methodType(handler),
                        MethodType.methodType(void.class, signal),
                        target,
                        MethodType.methodType(void.class, signal))
                .getTarget();
        try {
            return factory.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) { // a factory of no arguments throws nothing else
            throw new IllegalStateException(e);
        }
    }
}
