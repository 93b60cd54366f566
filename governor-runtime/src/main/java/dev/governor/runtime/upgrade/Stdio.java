package dev.governor.runtime.upgrade;

import dev.governor.runtime.handover.Entry;
import dev.governor.runtime.handover.HandoverSender;
import dev.governor.runtime.handover.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * This process's stdout and stderr as handover entries ({@code stdio:out}, {@code stdio:err}; a
 * listener name cannot hold ':'), so the new process writes where this one did once it serves: the
 * log file of a daemon (in append mode, shared), the journal's stream under systemd, the terminal.
 */
final class Stdio {
    static final String OUT = "stdio:out";
    static final String ERR = "stdio:err";

    private Stdio() {}

    static List<Upgrader.Handout> handouts() throws IOException {
        return List.of(handout(OUT, 1), handout(ERR, 2));
    }

    private static Upgrader.Handout handout(String name, int fd) throws IOException {
        String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        return new Upgrader.Handout(
                new HandoverSender.Outgoing(new Entry(name, Kind.FILE, link, "stdio"), fd), () -> {});
    }
}
