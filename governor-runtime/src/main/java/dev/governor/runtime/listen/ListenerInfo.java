package dev.governor.runtime.listen;

/**
 * One socket a governor owns, as {@code /status.json}, the control socket's {@code status} and
 * {@code governor_listener_info} show it.
 *
 * @param name    the listener's name
 * @param kind    tcp, unix or udp
 * @param address where it actually listens ({@code 127.0.0.1:41873}, a unix path)
 * @param source  where it came from: {@code handed-over}, {@code systemd} or {@code bound}
 */
public record ListenerInfo(String name, ListenerKind kind, String address, String source) {}
