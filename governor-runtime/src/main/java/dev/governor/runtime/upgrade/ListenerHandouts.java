package dev.governor.runtime.upgrade;

import dev.governor.runtime.handover.Entry;
import dev.governor.runtime.handover.HandoverReceiver;
import dev.governor.runtime.handover.HandoverSender;
import dev.governor.runtime.listen.GovernorListeners;
import dev.governor.runtime.listen.ListenerInfo;
import dev.governor.runtime.systemd.FdChannels;
import java.io.IOException;
import java.nio.channels.NetworkChannel;
import java.util.ArrayList;
import java.util.List;

/** Every listener of a governor as a handout (a dup of its socket, closed once sent), and the runtime's {@link OwnSockets}. */
public final class ListenerHandouts implements Upgrader.Sockets {
    private final dev.governor.Governor gov;
    private final GovernorListeners listeners;

    public ListenerHandouts(dev.governor.Governor gov, GovernorListeners listeners) {
        this.gov = gov;
        this.listeners = listeners;
    }

    @Override
    public List<Upgrader.Handout> open() throws IOException {
        List<Upgrader.Handout> out = new ArrayList<>();
        try {
            for (ListenerInfo info : listeners.info()) {
                NetworkChannel dup = listeners.duplicate(info.name());
                if (dup == null) {
                    continue; // closed meanwhile
                }
                Entry entry = new Entry(
                        info.name(), HandoverReceiver.kindOf(dup), Entry.address(dup.getLocalAddress()), info.source());
                out.add(new Upgrader.Handout(new HandoverSender.Outgoing(entry, FdChannels.fd(dup)), dup::close));
            }
            for (var own : OwnSockets.of(gov).entrySet()) {
                NetworkChannel ch = own.getValue();
                if (ch.isOpen()) {
                    Entry entry = new Entry(
                            own.getKey(), HandoverReceiver.kindOf(ch), Entry.address(ch.getLocalAddress()), "runtime");
                    out.add(new Upgrader.Handout(new HandoverSender.Outgoing(entry, FdChannels.fd(ch)), () -> {}));
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            for (Upgrader.Handout h : out) {
                try {
                    h.release().close();
                } catch (Exception ignored) {
                    // closing a dup
                }
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "ListenerHandouts[" + listeners + "]";
    }
}
