package dev.governor.runtime.internal;

/**
 * A supervisor's children by name: an open-addressing table of the children themselves, keyed by
 * {@link Child#name()}. A {@code HashMap<String, Child>} costs a 32-byte node and a table slot per
 * child (40 bytes each in a pool of a million); this costs 4–8 bytes. Linear probing with
 * backward-shift deletion (no tombstones, so lookups after many removes stay short). Not
 * thread-safe: the owning supervisor guards it with its lock.
 */
final class NameIndex {
    private static final int MIN_CAPACITY = 8;

    private Child[] table = new Child[MIN_CAPACITY];
    private int size;

    int size() {
        return size;
    }

    /** The child named {@code name}, or null. */
    Child get(String name) {
        Child[] t = table;
        int mask = t.length - 1;
        for (int i = slot(name.hashCode(), mask); ; i = (i + 1) & mask) {
            Child c = t[i];
            if (c == null) {
                return null;
            }
            if (c.hasName(name)) {
                return c;
            }
        }
    }

    /** Adds {@code child} under its name; returns the child already holding that name (then nothing changes), or null. */
    Child putIfAbsent(Child child) {
        Child[] t = table;
        int mask = t.length - 1;
        int i = slot(child.nameHash(), mask);
        for (Child c; (c = t[i]) != null; i = (i + 1) & mask) {
            if (c.hasSameName(child)) {
                return c;
            }
        }
        t[i] = child;
        size++;
        if (size * 4L > t.length * 3L) { // at most three quarters full
            grow();
        }
        return null;
    }

    /** Removes {@code child} (this very child, under its current name); false when it is not in the index. */
    boolean remove(Child child) {
        Child[] t = table;
        int mask = t.length - 1;
        int i = slot(child.nameHash(), mask);
        for (Child c; (c = t[i]) != child; i = (i + 1) & mask) {
            if (c == null) {
                return false;
            }
        }
        // backward-shift deletion: move later entries of the probe run into the hole they may belong in
        int hole = i;
        for (int j = (hole + 1) & mask; t[j] != null; j = (j + 1) & mask) {
            int home = slot(t[j].nameHash(), mask);
            // t[j] may fill the hole when its home is not within (hole, j] (cyclically)
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                t[hole] = t[j];
                hole = j;
            }
        }
        t[hole] = null;
        size--;
        return true;
    }

    private void grow() {
        Child[] old = table;
        Child[] t = new Child[old.length * 2];
        int mask = t.length - 1;
        for (Child c : old) {
            if (c != null) {
                int i = slot(c.nameHash(), mask);
                while (t[i] != null) {
                    i = (i + 1) & mask;
                }
                t[i] = c;
            }
        }
        table = t;
    }

    /** Spreads String hashes (sequential names such as "w1", "w2" hash to neighbours) over the table. */
    private static int slot(int hash, int mask) {
        return (int) ((hash * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }
}
