package dev.governor.runtime.internal;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * A supervisor's children in start order, and the immutable views of them others iterate without
 * the lock. One array serves both: a view is a prefix of it, and appending (what a pool of a
 * million does) writes past every view made so far, so it copies nothing; every other change
 * (an insert, a remove, a new order) makes a new array, leaving the views of the old one as they
 * were. Guarded by the owning supervisor's lock, except {@link #view()}.
 */
final class ChildList {
    private Child[] items = new Child[8];
    private int size;
    private volatile View view = new View(items, 0); // null when stale

    /** The view of the children as they are now, or null when it must be made (under the lock). */
    List<Child> view() {
        return view;
    }

    /** Makes (or returns) the current view; the caller holds the lock. */
    List<Child> makeView() {
        View v = view;
        if (v == null) {
            v = new View(items, size);
            view = v;
        }
        return v;
    }

    int size() {
        return size;
    }

    void add(Child c) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2); // the views made so far keep the old array
        }
        items[size++] = c;
        view = null;
    }

    /** Inserts {@code c} right after {@code beside} (at the end when it is not here). */
    void addAfter(Child beside, Child c) {
        int at = indexOf(beside);
        if (at < 0 || at == size - 1) {
            add(c);
            return;
        }
        Child[] next = new Child[Math.max(items.length, size + 1)];
        System.arraycopy(items, 0, next, 0, at + 1);
        next[at + 1] = c;
        System.arraycopy(items, at + 1, next, at + 2, size - at - 1);
        items = next;
        size++;
        view = null;
    }

    void remove(Child c) {
        int at = indexOf(c);
        if (at < 0) {
            return;
        }
        Child[] next = new Child[items.length];
        System.arraycopy(items, 0, next, 0, at);
        System.arraycopy(items, at + 1, next, at, size - at - 1);
        items = next;
        size--;
        view = null;
    }

    /** Replaces the order with {@code order} (the same children, planned). */
    void replaceAll(List<Child> order) {
        if (order == view) {
            return; // the order they were added in (a pool): nothing to copy
        }
        Child[] next = order.toArray(new Child[Math.max(8, order.size())]);
        items = next;
        size = order.size();
        view = null;
    }

    private int indexOf(Child c) {
        for (int i = 0; i < size; i++) {
            if (items[i] == c) {
                return i;
            }
        }
        return -1;
    }

    /** The first {@code size} children of an array whose prefix never changes. */
    private static final class View extends AbstractList<Child> implements RandomAccess {
        private final Child[] items;
        private final int size;

        View(Child[] items, int size) {
            this.items = items;
            this.size = size;
        }

        @Override
        public Child get(int index) {
            if (index < 0 || index >= size) {
                throw new IndexOutOfBoundsException(index);
            }
            return items[index];
        }

        @Override
        public int size() {
            return size;
        }
    }
}
