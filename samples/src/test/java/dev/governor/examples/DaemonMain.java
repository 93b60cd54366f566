package dev.governor.examples;

import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.runtime.daemon.ControlSocket;
import dev.governor.runtime.daemon.Daemon;
import java.nio.file.Path;

/** docs/daemon.md, the opening example. */
final class DaemonMain {
    public static void main(String[] args) {
        // everything before daemonize() runs twice: in the launcher and in the daemon
        Daemon daemon = Daemon.builder()
                .pidFile(Path.of("/run/app/app.pid")) // relative paths resolve against the directory
                .logFile(Path.of("/var/log/app/app.log")) // the user typed the command in, in both processes
                .daemonize(); // the launcher exits inside this call
        Governor gov = Governor.create();
        gov.add("http", new HttpFrontend(8080)).readyOnStart(false); // markReady() once it listens
        ControlSocket.at(Path.of("/run/app/control.sock")).addTo(gov);
        daemon.readyWhen(gov); // the launcher exits 0 when the tree is ready
        System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
    }

    // a stand-in for what the snippet leaves to the reader
    record HttpFrontend(int port) implements Service {
        @Override
        public void run(ServiceCtx ctx) throws InterruptedException {
            ctx.markReady();
            ctx.awaitStop();
        }
    }
}
