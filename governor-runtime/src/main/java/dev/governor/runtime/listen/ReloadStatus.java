package dev.governor.runtime.listen;

import dev.governor.Governor;
import dev.governor.runtime.GovernorRuntime;
import dev.governor.runtime.ReloadableStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the status views ({@code /status.json}, the control socket's {@code status}) show of the
 * listeners a governor owns and of its reloadable nodes (generation, last reload, draining ones).
 */
public final class ReloadStatus {
    private ReloadStatus() {}

    /** Puts {@code "listeners"} and {@code "reloadables"} into the status document (see {@code internal.StatusJson}). */
    public static void put(Map<String, Object> out, Governor governor) {
        if (!(governor.listeners() instanceof GovernorListeners listeners)) {
            return;
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ListenerInfo info : listeners.info()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", info.name());
            row.put("kind", info.kind().label());
            row.put("address", info.address());
            row.put("source", info.source());
            rows.add(row);
        }
        out.put("listeners", rows);
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (ReloadableStatus r : reloadables(governor)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", r.name());
            row.put("generation", r.generation());
            row.put("lastReload", r.lastOutcome());
            row.put("lastReloadAt", r.lastAt().map(Object::toString).orElse(null));
            row.put("lastError", r.lastError().orElse(null));
            row.put("draining", r.draining());
            nodes.add(row);
        }
        out.put("reloadables", nodes);
    }

    private static List<ReloadableStatus> reloadables(Governor governor) {
        try {
            return GovernorRuntime.hooks(governor).reloadables();
        } catch (IllegalArgumentException notOurs) {
            return List.of();
        }
    }
}
