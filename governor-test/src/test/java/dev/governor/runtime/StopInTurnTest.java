package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.StopTimedOut;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The stop paths made cheap for issue 13 (W1 stop, W3) keep their meaning: children in turn share
 * one timer yet each is bounded by its own timeout and the shutdown's; a pool's stop times are
 * recorded in bulk in stop order; the report lists what it listed.
 */
@GovernorTest(allowUnstopped = true)
class StopInTurnTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void shouldBoundEachChildInTurnByItsOwnTimeoutWhenItIsShorterThanTheOthersAndTheShutdowns(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation slow = Faults.ignoresCancellation(); // the default 5 s
        Faults.IgnoresCancellation quick = Faults.ignoresCancellation();
        gov.add("slow", slow);
        gov.add("polite1", Faults.runsUntilStopped());
        gov.add("quick", quick).shutdownTimeout(Duration.ofSeconds(2));
        gov.add("polite2", Faults.runsUntilStopped());
        gov.start();
        slow.awaitEntered(WAIT);
        quick.awaitEntered(WAIT);
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        try {
            AtomicReference<ShutdownReport> report = new AtomicReference<>();
            Thread waiter = Thread.ofVirtual().start(() -> report.set(gov.waitForShutdown()));
            gov.requestShutdown("test");
            rec.awaitEvent(Stopped.class, "polite2");
            awaitStopping(gov, "quick");
            clock.awaitPending(1, WAIT);
            assertThat(clock.pending())
                    .as("quick's own 2 s, not a timer left from polite2's 5 s")
                    .hasSize(1);
            clock.advance(Duration.ofMillis(1999));
            assertThat(rec.events(StopTimedOut.class))
                    .as("within quick's own timeout")
                    .isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "quick").timeout()).isEqualTo(Duration.ofSeconds(2));
            rec.awaitEvent(Stopped.class, "polite1");
            awaitStopping(gov, "slow");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofMillis(4999));
            assertThat(rec.events(StopTimedOut.class, "slow"))
                    .as("slow's 5 s run from its own request")
                    .isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "slow").timeout()).isEqualTo(Duration.ofSeconds(5));
            waiter.join(WAIT);
            assertThat(report.get()).isNotNull();
            assertThat(report.get().unstopped()).containsExactly("quick", "slow");
            assertThat(report.get().stopTimes()).containsOnlyKeys("polite2", "polite1");
            assertThat(report.get().stopTimes().keySet()).containsExactly("polite2", "polite1");
            assertThat(report.get().duration()).isEqualTo(Duration.ofSeconds(7));
        } finally {
            slow.release();
            quick.release();
        }
    }

    @Test
    void shouldBoundChildrenInTurnByTheShutdownsDeadlineWhenItComesFirst(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation a = Faults.ignoresCancellation();
        Faults.IgnoresCancellation b = Faults.ignoresCancellation();
        gov.shutdownTimeout(Duration.ofSeconds(4));
        gov.add("a", a); // 5 s of its own, but the shutdown has 4 s in all
        gov.add("polite", Faults.runsUntilStopped());
        gov.add("b", b).shutdownTimeout(Duration.ofSeconds(3));
        gov.start();
        a.awaitEntered(WAIT);
        b.awaitEntered(WAIT);
        try {
            gov.requestShutdown("test");
            awaitStopping(gov, "b");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofSeconds(3));
            rec.awaitEvent(StopTimedOut.class, "b");
            rec.awaitEvent(Stopped.class, "polite");
            awaitStopping(gov, "a");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofMillis(999));
            assertThat(rec.events(StopTimedOut.class, "a")).isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "a").timeout()).isEqualTo(Duration.ofSeconds(1));
            ShutdownReport report = gov.waitForShutdown();
            assertThat(report.unstopped()).containsExactly("b", "a");
            assertThat(report.duration()).isEqualTo(Duration.ofSeconds(4));
        } finally {
            a.release();
            b.release();
        }
    }

    @Test
    void shouldStopManyChildrenInTurnInReverseOrderAndReportEachInStopOrder(Governor gov, EventRecorder rec) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            names.add("s" + i);
            gov.add("s" + i, Faults.runsUntilStopped());
        }
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        List<String> reversed = new ArrayList<>(names.reversed());
        assertThat(rec.events(Stopped.class).stream().map(GovernorEvent::service))
                .containsExactlyElementsOf(reversed);
        assertThat(report.stopTimes().keySet()).containsExactlyElementsOf(reversed);
        assertThat(report.unstopped()).isEmpty();
        assertThat(report.clean()).isTrue();
    }

    @Test
    void shouldRecordAPoolsStopTimesInStopOrderAroundAnUnstoppedChild(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation stuck = Faults.ignoresCancellation();
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            if (i == 20) {
                pool.add("w20", stuck).shutdownTimeout(Duration.ofSeconds(1));
            } else {
                pool.add("w" + i, Faults.runsUntilStopped());
                expected.add("pool/w" + i);
            }
        }
        gov.add("pool", pool);
        gov.start();
        stuck.awaitEntered(WAIT);
        rec.awaitEvent(Started.class, "pool/w49");
        try {
            gov.requestShutdown("test");
            awaitStopping(gov, "pool/w20");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofMillis(4999)); // one wait for the whole pool: the longest timeout of its children
            assertThat(rec.events(StopTimedOut.class)).isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "pool/w20").timeout()).isEqualTo(Duration.ofSeconds(5));
            ShutdownReport report = gov.waitForShutdown();
            List<String> stopOrder = new ArrayList<>(expected.reversed());
            stopOrder.add("pool");
            assertThat(report.stopTimes().keySet()).containsExactlyElementsOf(stopOrder);
            assertThat(report.unstopped()).containsExactly("pool/w20");
            assertThat(rec.events(Stopped.class).stream().map(GovernorEvent::service))
                    .containsExactlyElementsOf(stopOrder);
            assertThat(expected)
                    .as("one end instant for the pool's wait, which lasted until w20's timeout")
                    .allSatisfy(p -> assertThat(report.stopTimes().get(p)).isEqualTo(Duration.ofSeconds(5)));
        } finally {
            stuck.release();
        }
    }

    /**
     * The ending run asks the next child itself (StopChain): still one at a time. Every child logs
     * when it sees its stop and, after a cleanup that yields its carrier a few times, when it ends;
     * a child asked before the previous one's run ended would log between those two lines. Three
     * kinds of wait, as a stop meets them: a ctx wait (the cancel), a sleep and a real socket read
     * (the interrupt, which closes the channel).
     */
    @Test
    void shouldAskEachChildInTurnOnlyOnceThePreviousRunHasEnded(Governor gov, EventRecorder rec) throws Exception {
        Queue<String> log = new ConcurrentLinkedQueue<>();
        List<String> expected = new ArrayList<>();
        Queue<SocketChannel> accepted = new ConcurrentLinkedQueue<>();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    accepted.add(server.accept());
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        });
        try (server) {
            SocketAddress at = server.getLocalAddress();
            int n = 150;
            for (int i = 0; i < n; i++) {
                String name = "s" + i;
                gov.add(
                        name,
                        switch (i % 3) {
                            case 0 ->
                                ctx -> {
                                    ctx.awaitStop();
                                    cleanUp(log, name);
                                };
                            case 1 ->
                                ctx -> {
                                    try {
                                        Thread.sleep(Long.MAX_VALUE);
                                    } catch (InterruptedException e) {
                                        cleanUp(log, name);
                                    }
                                };
                            default ->
                                ctx -> {
                                    try (SocketChannel c = SocketChannel.open(at)) {
                                        c.read(ByteBuffer.allocate(1)); // until the stop's interrupt closes it
                                    } catch (IOException e) {
                                        cleanUp(log, name);
                                    }
                                };
                        });
            }
            for (int i = n - 1; i >= 0; i--) {
                expected.add("asked s" + i);
                expected.add("ended s" + i);
            }
            gov.start();
            rec.awaitEvent(GovernorEvent.Ready.class, "");
            await().atMost(WAIT).until(() -> accepted.size() == n / 3);
            gov.shutdown();
            ShutdownReport report = gov.waitForShutdown();
            assertThat(List.copyOf(log)).containsExactlyElementsOf(expected);
            assertThat(report.unstopped()).isEmpty();
            assertThat(report.stopTimes().keySet())
                    .containsExactlyElementsOf(expected.stream()
                            .filter(l -> l.startsWith("ended "))
                            .map(l -> l.substring(6))
                            .toList());
            assertThat(rec.events(Stopped.class)).hasSize(n);
        } finally { // the server is closed: the acceptor ends
            acceptor.join(WAIT);
            for (SocketChannel c : accepted) {
                c.close();
            }
        }
    }

    private static void cleanUp(Queue<String> log, String name) {
        log.add("asked " + name);
        for (int i = 0; i < 20; i++) {
            Thread.yield();
        }
        log.add("ended " + name);
    }

    /**
     * A child whose run ends by itself while the stop in turn comes to it: the previous run's end
     * finds it ended and asks nothing; it is reported as ended before its stop, the stop goes on.
     */
    @Test
    void shouldReportAChildThatEndedByItselfJustBeforeItsTurnAndGoOn(Governor gov, EventRecorder rec) throws Exception {
        CountDownLatch finish = new CountDownLatch(1);
        AtomicReference<Thread> earlyThread = new AtomicReference<>();
        gov.add("first", Faults.runsUntilStopped());
        gov.add("early", ctx -> {
                    earlyThread.set(Thread.currentThread());
                    finish.await(); // returns by itself, not on the stop: it never waits on its ctx
                })
                .noRestart();
        gov.add("last", ctx -> {
            ctx.awaitStop();
            finish.countDown(); // as it stops, 'early' completes: wait until its run has ended
            earlyThread.get().join();
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        // ready on start: 'last' joins the thread early's body records, which it may not have yet
        await().atMost(WAIT).until(() -> earlyThread.get() != null);
        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(rec.awaitEvent(GovernorEvent.Completed.class, "early")).isNotNull();
        assertThat(report.stopTimes().keySet()).containsExactly("last", "early", "first");
        assertThat(report.stopTimes().get("early")).isEqualTo(Duration.ZERO);
        assertThat(rec.events(Stopped.class).stream().map(GovernorEvent::service))
                .containsExactly("last", "first");
        assertThat(report.unstopped()).isEmpty();
        assertThat(gov.service("early").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    private static void awaitStopping(Governor gov, String path) {
        await().atMost(WAIT).until(() -> gov.service(path).orElseThrow().state() == ServiceState.STOPPING);
    }
}
