package dev.governor.runtime.internal;

/**
 * A supervisor's children by name: an open-addressing table of the children themselves, keyed by
 * {@link Child#name()}. A {@code HashMap<String, Child>} costs a 32-byte node and a table slot per
 * child (40 bytes each in a pool of a million); this costs 8–16 bytes (8.4 at a million). Linear probing with
 * backward-shift deletion (no tombstones, so lookups after many removes stay short). Not
 * thread-safe: the owning supervisor guards it with its lock.
 *
 * <p>While the supervisor is being filled (until its first start, {@link #dropHashes}), a second
 * table holds each slot's name hash: a probe compares ints and reads a child only when the hashes
 * are equal, and a resize rehashes from that table. Adding a child otherwise read a random earlier
 * child and its label per occupied slot probed, and every one of them again at each resize: two
 * cache misses each, 60 % of the time a pool of 100,000 took to add (JFR). The table of hashes
 * is dropped when the supervisor starts, so a running pool keeps only the children's table.
 *
 * <p>Without it, every probe reads a child's label: while its supervisor was never attached to a
 * tree, every label is the name itself, whose String caches its hash, so a probe compares hashes
 * without reading the name's bytes.
 */
final class NameIndex {
    private static final int MIN_CAPACITY = 8;

    private Child[] table = new Child[MIN_CAPACITY];
    private int[] hashes = new int[MIN_CAPACITY]; // the name hash of table[i]; null once dropped
    private int size;
    private boolean plainLabels = true;

    /** Drops the table of hashes (the supervisor starts: adds are rare from now on, and it costs 4 bytes a slot). */
    void dropHashes() {
        hashes = null;
    }

    /** From now on a label may be a path (the supervisor was attached): compare names by their end. */
    void labelsMayBePaths() {
        plainLabels = false;
    }

    private boolean matches(Child c, String name, int hash) {
        String l = c.label();
        return plainLabels ? l.hashCode() == hash && l.equals(name) : hasName(l, name);
    }

    private int hashOf(Child c) {
        return plainLabels ? c.label().hashCode() : nameHash(c.label());
    }

    /** Whether {@code label} (a name, or a path ending with "/" and a name) is, or ends with, the name {@code n}. */
    static boolean hasName(String label, String n) {
        int from = label.length() - n.length();
        if (from == 0) {
            return label.equals(n) && n.indexOf('/') < 0; // a label as long as n is the name itself, never a path
        }
        return from > 0 && label.charAt(from - 1) == '/' && label.startsWith(n, from);
    }

    /** The String.hashCode() of the name {@code label} is or ends with, without making it (a name's is cached). */
    static int nameHash(String label) {
        int from = label.lastIndexOf('/') + 1;
        if (from == 0) {
            return label.hashCode();
        }
        int h = 0;
        for (int i = from; i < label.length(); i++) {
            h = 31 * h + label.charAt(i);
        }
        return h;
    }

    int size() {
        return size;
    }

    /** The child named {@code name}, or null. */
    Child get(String name) {
        Child[] t = table;
        int[] hs = hashes;
        int mask = t.length - 1;
        int h = name.hashCode();
        for (int i = slot(h, mask); ; i = (i + 1) & mask) {
            Child c = t[i];
            if (c == null) {
                return null;
            }
            if ((hs == null || hs[i] == h) && matches(c, name, h)) {
                return c;
            }
        }
    }

    /** Adds {@code child} under its name; returns the child already holding that name (then nothing changes), or null. */
    Child putIfAbsent(Child child) {
        String name = child.name();
        Child[] t = table;
        int[] hs = hashes;
        int mask = t.length - 1;
        int h = name.hashCode();
        int i = slot(h, mask);
        for (Child c; (c = t[i]) != null; i = (i + 1) & mask) {
            if ((hs == null || hs[i] == h) && matches(c, name, h)) {
                return c;
            }
        }
        t[i] = child;
        if (hs != null) {
            hs[i] = h;
        }
        size++;
        // at most half full: an add is a search that misses, 2.5 probes on average at half full (8.5 at three
        // quarters), each reading a child's label. At 100,000 and at a million both bounds give the same table
        if (size * 2 > t.length) {
            grow();
        }
        return null;
    }

    /** Removes {@code child} (this very child, under its current name); false when it is not in the index. */
    boolean remove(Child child) {
        Child[] t = table;
        int[] hs = hashes;
        int mask = t.length - 1;
        int i = slot(hashOf(child), mask);
        for (Child c; (c = t[i]) != child; i = (i + 1) & mask) {
            if (c == null) {
                return false;
            }
        }
        // backward-shift deletion: move later entries of the probe run into the hole they may belong in
        int hole = i;
        for (int j = (hole + 1) & mask; t[j] != null; j = (j + 1) & mask) {
            int home = slot(hs != null ? hs[j] : hashOf(t[j]), mask);
            // t[j] may fill the hole when its home is not within (hole, j] (cyclically)
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                t[hole] = t[j];
                if (hs != null) {
                    hs[hole] = hs[j];
                }
                hole = j;
            }
        }
        t[hole] = null;
        size--;
        return true;
    }

    private void grow() {
        Child[] old = table;
        int[] oldHashes = hashes;
        Child[] t = new Child[old.length * 2];
        int[] hs = oldHashes == null ? null : new int[t.length];
        int mask = t.length - 1;
        for (int k = 0; k < old.length; k++) {
            Child c = old[k];
            if (c != null) {
                int h = oldHashes != null ? oldHashes[k] : hashOf(c);
                int i = slot(h, mask);
                while (t[i] != null) {
                    i = (i + 1) & mask;
                }
                t[i] = c;
                if (hs != null) {
                    hs[i] = h;
                }
            }
        }
        table = t;
        hashes = hs;
    }

    /**
     * Spreads String hashes over the table (murmur3's finalizer): names such as "w1", "w2" hash to
     * near neighbours, and a weaker mix (a Fibonacci multiply) measured 12.9 extra probes per insert
     * for "w0".."w97999" at three quarters full, against 1.5 with this one.
     */
    private static int slot(int hash, int mask) {
        int h = hash;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h & mask;
    }
}
