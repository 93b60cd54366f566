package dev.governor.runtime.internal;

import dev.governor.Governor;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.listen.ReloadStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The status document: the one description of a governor's tree that both the control socket's
 * {@code status} answer and the endpoint's {@code /status.json} send (the control socket puts
 * {@code "ok":true} in front, as in all its answers). The fields are documented in
 * docs/observability.md, "The status document".
 */
public final class StatusJson {
    private StatusJson() {}

    /**
     * The document, as maps and lists for {@link Json#write}.
     *
     * @param hooks    the runtime's hooks, or null for a governor of another runtime (no health, no summary)
     * @param services the nodes to list, in tree order; the members of a pool are left out (counted in {@code pools})
     * @param pools    per pool supervisor path, the count of its descendants per {@link ServiceState#ordinal()}
     * @param at       when the tree was read, on the governor's clock (uptimes are measured to it)
     * @param total    every node of the tree, pool members included
     * @param limit    at most this many nodes are listed; {@code truncated} counts the rest
     */
    public static Map<String, Object> document(
            Governor governor,
            GovernorHooks hooks,
            Collection<ServiceInfo> services,
            Map<String, long[]> pools,
            Instant at,
            long total,
            int limit) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pid", ProcessHandle.current().pid());
        out.put("ready", governor.isReady() && !governor.stopping());
        out.put("stopping", governor.stopping());
        if (hooks != null) {
            out.put("healthy", hooks.healthy());
            out.put("summary", hooks.statusLine());
        }
        out.put("at", at.toString());
        out.put("total", total);
        ReloadStatus.put(out, governor);
        List<Map<String, Object>> listed = new ArrayList<>(Math.min(services.size(), limit));
        for (ServiceInfo info : services) {
            if (listed.size() == limit) {
                break;
            }
            listed.add(node(info, pools.get(info.name()), at));
        }
        out.put("services", listed);
        out.put("truncated", services.size() - listed.size());
        return out;
    }

    private static Map<String, Object> node(ServiceInfo info, long[] pool, Instant at) {
        String name = info.name();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", name);
        s.put("depth", name.chars().filter(c -> c == '/').count());
        s.put("state", info.state().name());
        s.put("ready", info.ready());
        s.put("restarts", info.restarts());
        s.put("supervisor", info.supervisor());
        s.put("uptimeSeconds", uptime(info, at).toSeconds());
        s.put("startedAt", info.startedAt().map(Instant::toString).orElse(null));
        s.put("lastFailure", info.lastFailure().map(Untrusted::describe).orElse(null));
        if (pool != null) {
            Map<String, Object> counts = new LinkedHashMap<>();
            for (ServiceState state : ServiceState.values()) {
                if (pool[state.ordinal()] > 0) {
                    counts.put(state.name(), pool[state.ordinal()]);
                }
            }
            s.put("pool", counts);
        }
        return s;
    }

    /**
     * How long the current run of a node has lasted at {@code at}: zero unless it is RUNNING or
     * STOPPING (then from {@link ServiceInfo#startedAt()}, never negative). The one definition of
     * uptime, for the status document and the {@code governor.service.uptime} meter.
     */
    public static Duration uptime(ServiceInfo info, Instant at) {
        if (info.state() != ServiceState.RUNNING && info.state() != ServiceState.STOPPING) {
            return Duration.ZERO;
        }
        return info.startedAt()
                .map(t -> Duration.between(t, at))
                .filter(d -> !d.isNegative())
                .orElse(Duration.ZERO);
    }
}
