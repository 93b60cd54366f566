package dev.governor.runtime.daemon;

import dev.governor.Governor;
import dev.governor.UpgradeOptions;
import dev.governor.UpgradeResult;
import dev.governor.runtime.internal.Json;
import dev.governor.runtime.upgrade.Upgrader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control socket's {@code upgrade [TIMEOUT]}: answers once the new process is ready (or has
 * failed and been killed), and only then lets this process begin its shutdown, so the answer
 * reaches the client before the control socket stops.
 */
final class UpgradeCommand {
    private UpgradeCommand() {}

    static ControlCommands.Answer answer(Governor gov, String arg) {
        UpgradeOptions options = UpgradeOptions.defaults();
        if (!arg.isEmpty()) {
            Duration timeout = ControlCommands.parseDuration(arg);
            if (timeout == null || timeout.isZero()) {
                return new ControlCommands.Answer(ControlCommands.error("ready timeout " + ControlCommands.quote(arg)
                        + " is not a positive duration; use e.g. 30s, 500ms, 2m or PT1M"));
            }
            try {
                options = options.withReadyTimeout(timeout);
            } catch (IllegalArgumentException e) {
                return new ControlCommands.Answer(ControlCommands.error(e.getMessage()));
            }
        }
        List<Runnable> shutdown = new ArrayList<>();
        UpgradeOptions chosen = options;
        UpgradeResult result = Upgrader.deferringShutdown(shutdown, () -> gov.upgrade(chosen));
        if (!result.succeeded()) {
            return new ControlCommands.Answer(ControlCommands.error("upgrade failed: " + result.reason()));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("command", "upgrade");
        out.put("pid", result.newPid());
        out.put("oldPid", ProcessHandle.current().pid());
        out.put("reason", result.reason());
        return new ControlCommands.Answer(Json.write(out), () -> shutdown.forEach(Runnable::run));
    }
}
