package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The loop's lock-free mailbox: many senders, one taker that parks; nothing lost, each sender's order kept. */
class MailboxTest {
    private static final int SENDERS = 4;
    private static final int PER_SENDER = 50_000;

    @Test
    void shouldDeliverEveryMessageOnceInEachSendersOrderToATakerThatParks() throws Exception {
        Mailbox box = new Mailbox();
        Msg[][] sent = new Msg[SENDERS][PER_SENDER];
        Map<Msg, int[]> origin = new IdentityHashMap<>();
        for (int s = 0; s < SENDERS; s++) {
            for (int i = 0; i < PER_SENDER; i++) {
                sent[s][i] = new Msg.Cancel();
                origin.put(sent[s][i], new int[] {s, i});
            }
        }
        int[] next = new int[SENDERS];
        Thread taker = Thread.ofVirtual().start(() -> {
            try {
                for (int n = 0; n < SENDERS * PER_SENDER; n++) {
                    int[] from = origin.get(box.take());
                    if (from == null || from[1] != next[from[0]]) {
                        return; // an unknown, repeated or out-of-order message: the counts below show it
                    }
                    next[from[0]]++;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<Thread> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            Msg[] mine = sent[s];
            senders.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < mine.length; i++) {
                    box.add(mine[i]);
                    if (i % 1_000 == 0) {
                        Thread.yield(); // let the taker run dry and park now and then
                    }
                }
            }));
        }
        for (Thread t : senders) {
            assertThat(t.join(java.time.Duration.ofSeconds(60))).isTrue();
        }
        assertThat(taker.join(java.time.Duration.ofSeconds(60)))
                .as("the taker received everything")
                .isTrue();
        for (int s = 0; s < SENDERS; s++) {
            assertThat(next[s]).as("messages of sender %d received in order", s).isEqualTo(PER_SENDER);
        }
        List<Msg> left = new ArrayList<>();
        box.drainTo(left);
        assertThat(left).isEmpty();
    }

    @Test
    void shouldWakeAParkedTakerAndThrowWhenItIsInterrupted() throws Exception {
        Mailbox box = new Mailbox();
        AtomicReference<Msg> got = new AtomicReference<>();
        AtomicReference<Throwable> ended = new AtomicReference<>();
        Thread taker = Thread.ofVirtual().start(() -> {
            try {
                got.set(box.take());
                box.take(); // parks until interrupted
            } catch (Throwable e) {
                ended.set(e);
            }
        });
        await(() -> taker.getState() == Thread.State.WAITING);
        Msg m = new Msg.Cancel();
        box.add(m);
        await(() -> got.get() != null);
        assertThat(got.get()).isSameAs(m);
        await(() -> taker.getState() == Thread.State.WAITING); // parked again on the empty box
        taker.interrupt();
        assertThat(taker.join(java.time.Duration.ofSeconds(30))).isTrue();
        assertThat(ended.get()).isInstanceOf(InterruptedException.class);
        assertThatThrownBy(() -> {
                    Thread.currentThread().interrupt();
                    box.take();
                })
                .isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted())
                .as("take() cleared the interrupt it reported")
                .isFalse();
    }

    private static void await(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .pollInterval(java.time.Duration.ofMillis(1))
                .until(condition::getAsBoolean);
    }
}
