package dev.governor;

/**
 * Called on SIGHUP (with {@link Governor#catchSignals()}) or a control-socket {@code reload}. It
 * runs on its own thread while the tree keeps running; it may add, remove and restart children.
 * If it throws, the failure is logged and the running services are left as they were.
 */
@FunctionalInterface
public interface ReloadHandler {
    void reload(Governor governor) throws Exception;
}
