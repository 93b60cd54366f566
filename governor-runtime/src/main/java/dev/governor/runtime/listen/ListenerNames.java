package dev.governor.runtime.listen;

/** The rule for a listener's name: it travels as systemd's {@code FDNAME} and in {@code LISTEN_FDNAMES}. */
final class ListenerNames {
    private ListenerNames() {}

    static void check(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("listener name must not be null or empty");
        }
        if (name.length() > 255) {
            throw new IllegalArgumentException("listener name \"" + name.substring(0, 32) + "…\" is " + name.length()
                    + " characters: at most 255 (systemd's FDNAME)");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 127 || c == ':') {
                throw new IllegalArgumentException("listener name \"" + name + "\" has '" + c + "' at " + i
                        + ": printable ASCII without spaces or ':' only (systemd's FDNAME)");
            }
        }
    }
}
