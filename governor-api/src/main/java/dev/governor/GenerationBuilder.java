package dev.governor;

/**
 * Builds one generation of a reloadable node ({@link Supervisor#addReloadable}): called once when
 * the node starts and again on every reload, each time with a fresh, empty supervisor.
 *
 * <pre>{@code
 * gov.addReloadable("app", (generation, number) -> {
 *     Config config = Config.read(path);          // throws on a broken file: the reload is refused
 *     generation.add("http", new HttpService(gov.listeners().tcp("http", config.address()), config, number));
 * });
 * }</pre>
 */
@FunctionalInterface
public interface GenerationBuilder {
    /**
     * Adds the children of generation {@code number} (1, 2, …) to {@code generation}, reading the
     * configuration now. Throwing refuses this generation; the current one keeps serving. Called on
     * the thread that asked for the reload; it should not block for long (the reload timeout does
     * not bound it).
     */
    void build(Supervisor generation, int number) throws Exception;
}
