package dev.governor.ctl;

/**
 * Text from the daemon (service names, failure messages, errors) made safe for a terminal: every
 * control character, and the invisible ones that reorder text (bidi overrides), is shown escaped
 * ({@code \e}, {@code \n}, {@code \x07}, {@code \u202e}) instead of being sent to the terminal,
 * where it could move the cursor, retitle the window or hide what follows.
 */
final class Printable {
    private Printable() {}

    static String of(Object value) {
        String s = String.valueOf(value);
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String esc = escape(c);
            if (esc != null && sb == null) {
                sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (sb != null) {
                if (esc != null) {
                    sb.append(esc);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    private static String escape(char c) {
        return switch (c) {
            case '\u001b' -> "\\e";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case '\\' -> null;
            default -> {
                if (c < 0x20 || c == 0x7f) {
                    yield String.format("\\x%02x", (int) c);
                }
                if ((c >= 0x80 && c <= 0x9f)
                        || (c >= 0x202a && c <= 0x202e)
                        || (c >= 0x2066 && c <= 0x2069)
                        || c == 0x200e
                        || c == 0x200f
                        || c == 0x061c
                        || c == 0x2028
                        || c == 0x2029) {
                    yield String.format("\\u%04x", (int) c);
                }
                yield null;
            }
        };
    }
}
