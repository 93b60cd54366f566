package dev.governor.examples;

import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.time.Duration;

/** README.md, "Supervision trees". */
final class ReadmeTree {
    static void build(Governor gov) {
        Supervisor db = Supervisor.create(Strategy.REST_FOR_ONE).intensity(3, Duration.ofSeconds(10));
        db.add("conn", new ConnectionManager());
        db.add("cache", new Cache()).dependsOn("conn"); // starts once conn is ready, stops before it
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        for (int i = 0; i < 64; i++) pool.add("worker-" + i, new Worker());
        db.add("pool", pool);
        gov.add("db", db).restart(Duration.ofSeconds(1)); // the subtree's own policy in its parent
    }

    // stand-ins for what the snippet leaves to the reader
    static final class ConnectionManager implements Service {
        @Override
        public void run(ServiceCtx ctx) throws InterruptedException {
            ctx.awaitStop();
        }
    }

    static final class Cache implements Service {
        @Override
        public void run(ServiceCtx ctx) throws InterruptedException {
            ctx.awaitStop();
        }
    }

    static final class Worker implements Service {
        @Override
        public void run(ServiceCtx ctx) throws InterruptedException {
            ctx.awaitStop();
        }
    }
}
