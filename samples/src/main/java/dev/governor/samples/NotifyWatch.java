package dev.governor.samples;

import dev.governor.runtime.systemd.NotifyReceiver;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;

/**
 * Prints what a daemon tells systemd: binds a notification socket (an {@code @abstract} name or a
 * path) and shows every message as it arrives, until Ctrl-C. Point the daemon's {@code NOTIFY_SOCKET}
 * at the same address.
 *
 * <pre>
 *   java -cp ... dev.governor.samples.NotifyWatch @governor-demo
 * </pre>
 */
public final class NotifyWatch {
    private NotifyWatch() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: NotifyWatch ADDRESS   (@abstract-name or /absolute/path)");
            System.exit(2);
        }
        NotifyReceiver receiver = NotifyReceiver.bind(args[0]);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            receiver.close();
            done.countDown();
        }));
        System.out.println("listening for sd_notify messages at NOTIFY_SOCKET=" + receiver.address());
        int seen = -1;
        while (done.getCount() > 0) {
            NotifyReceiver.Message m = receiver.awaitAfter(seen, x -> true, Duration.ofDays(365));
            seen = receiver.indexOf(m);
            System.out.println(LocalTime.now().truncatedTo(ChronoUnit.MILLIS) + "  " + m);
        }
    }
}
