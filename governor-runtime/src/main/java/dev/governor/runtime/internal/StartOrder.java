package dev.governor.runtime.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The start order of siblings: add order, each child moved after its dependencies (a stable topological sort). */
final class StartOrder {
    private StartOrder() {}

    /**
     * Orders {@code children} of the supervisor named {@code supervisor}.
     *
     * @throws IllegalArgumentException naming an unknown dependency, or the whole cycle
     */
    static List<Child> of(String supervisor, List<Child> children) {
        if (children.stream().allMatch(c -> c.dependencies().isEmpty())) {
            return children; // the common case, and the only one for large pools: add order
        }
        Map<String, Child> names = new HashMap<>();
        for (Child c : children) {
            names.put(c.name(), c);
        }
        for (Child c : children) {
            for (String d : c.dependencies()) {
                if (!names.containsKey(d)) {
                    throw new IllegalArgumentException(
                            "\"" + c.path() + "\" depends on unknown sibling \"" + d + "\"; siblings: "
                                    + names.keySet().stream().sorted().toList());
                }
            }
        }
        List<Child> out = new ArrayList<>(children.size());
        Map<Child, Boolean> done = new HashMap<>(); // false while visiting, true when placed
        for (Child c : children) {
            visit(supervisor, c, names, done, out, new ArrayList<>());
        }
        return out;
    }

    private static void visit(
            String supervisor,
            Child c,
            Map<String, Child> names,
            Map<Child, Boolean> done,
            List<Child> out,
            List<String> path) {
        Boolean state = done.get(c);
        if (Boolean.TRUE.equals(state)) {
            return;
        }
        if (state != null) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(c.name()), path.size()));
            cycle.add(c.name());
            throw new IllegalArgumentException(
                    "dependency cycle in supervisor \"" + supervisor + "\": " + String.join(" -> ", cycle));
        }
        done.put(c, false);
        path.add(c.name());
        for (String d : c.dependencies()) {
            visit(supervisor, names.get(d), names, done, out, path);
        }
        path.removeLast();
        done.put(c, true);
        out.add(c);
    }
}
