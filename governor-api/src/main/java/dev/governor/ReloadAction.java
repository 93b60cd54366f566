package dev.governor;

/**
 * A reload that needs no arguments, for {@link Governor#onReload(ReloadAction)}: {@code
 * gov.onReload(() -> config.reread())}. Same rules as {@link ReloadHandler}: it runs on its own
 * thread while the tree keeps running, and a throw is logged and leaves the services as they were.
 */
@FunctionalInterface
public interface ReloadAction {
    /**
     * Performs the reload.
     *
     * @throws Exception a failed reload; logged, the running services are left as they were
     */
    void reload() throws Exception;
}
