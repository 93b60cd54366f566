package dev.governor.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.runtime.GovernorRuntime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StatusPageTest {

    @Test
    void shouldListAtMostMaxNodesAndCountTheRest() {
        List<ServiceInfo> tree = new ArrayList<>();
        for (int i = 0; i < StatusPage.MAX_NODES + 1000; i++) {
            tree.add(new ServiceInfo(
                    "s" + i, ServiceState.RUNNING, true, 0, Optional.empty(), Optional.of(Instant.EPOCH), false));
        }
        try (Governor gov = Governor.create()) {
            String json = StatusPage.json(
                    gov, GovernorRuntime.hooks(gov), TreeSnapshot.of(tree, Set.of(), Instant.EPOCH.plusSeconds(90)));

            assertThat(json.split("\"name\":", -1)).hasSize(StatusPage.MAX_NODES + 1);
            assertThat(json)
                    .endsWith("\"truncated\":1000}")
                    .contains("\"total\":" + (StatusPage.MAX_NODES + 1000))
                    .contains(
                            "{\"name\":\"s0\",\"depth\":0,\"state\":\"RUNNING\",\"ready\":true,\"restarts\":0,\"supervisor\":false,\"uptimeSeconds\":90,");
        }
    }

    @Test
    void shouldEscapeFailureMessagesSoThatTheyCannotBreakOutOfJsonOrInjectMarkup() {
        ServiceInfo bad = new ServiceInfo(
                "x",
                ServiceState.FAILED,
                false,
                2,
                Optional.of(new IllegalStateException("quote \" backslash \\ <script>alert(1)</script>\nline")),
                Optional.empty(),
                false);
        try (Governor gov = Governor.create()) {
            String json = StatusPage.json(
                    gov, GovernorRuntime.hooks(gov), TreeSnapshot.of(List.of(bad), Set.of(), Instant.EPOCH));

            assertThat(json)
                    .contains("\"lastFailure\":\"java.lang.IllegalStateException: quote \\\" backslash \\\\ "
                            + "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\nline\"");
        }
    }
}
