package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Service;
import dev.governor.Strategy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A supervisor's children by name (NameIndex, keyed by Child's label, which is the name or the
 * path that ends with it) and in order (ChildList, whose views never change once made), checked
 * against a HashMap and an ArrayList doing the same operations.
 */
class NameIndexTest {
    private static final Service IDLE = ctx -> {};

    private final SupervisorImpl parent = new SupervisorImpl(Strategy.ONE_FOR_ONE, null);

    private Child child(String name) {
        return new Child(parent, name, IDLE);
    }

    @Test
    void shouldFindWhatAHashMapFindsThroughAddsRemovesAndRenames() {
        checkAgainstAHashMap(new NameIndex());
    }

    @Test
    void shouldFindWhatAHashMapFindsWhenLabelsMayBePaths() {
        NameIndex index = new NameIndex();
        index.labelsMayBePaths();
        checkAgainstAHashMap(index);
    }

    @Test
    void shouldFindWhatAHashMapFindsAfterTheHashesWereDroppedHalfway() {
        NameIndex index = new NameIndex();
        Map<String, Child> model = new HashMap<>();
        for (int i = 0; i < 3_000; i++) { // filled with the table of hashes, grown eight times
            Child c = child("w" + i);
            assertThat(index.putIfAbsent(c)).isNull();
            model.put(c.name(), c);
        }
        for (int i = 0; i < 3_000; i += 5) { // removes shift entries, and their hashes with them
            assertThat(index.remove(model.remove("w" + i))).isTrue();
        }
        index.dropHashes(); // the supervisor starts: from now on every probe reads the child
        for (int i = 0; i < 3_000; i++) {
            assertThat(index.get("w" + i)).isSameAs(model.get("w" + i));
        }
        checkAgainstAHashMap(index, model, new ArrayList<>(model.values()));
    }

    @Test
    void shouldFindChildrenWhoseLabelsBecamePathsAfterTheSupervisorWasAttached() {
        NameIndex index = new NameIndex();
        List<Child> all = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            Child c = child("w" + i);
            all.add(c);
            index.putIfAbsent(c);
        }
        index.labelsMayBePaths();
        for (Child c : all) {
            c.rename("pool/" + c.name()); // what path() keeps as the label once the pool is in a tree
        }
        for (int i = 0; i < 2_000; i++) {
            assertThat(index.get("w" + i)).isSameAs(all.get(i));
        }
        assertThat(index.putIfAbsent(child("w7"))).isSameAs(all.get(7));
        for (int i = 0; i < 2_000; i += 2) {
            assertThat(index.remove(all.get(i))).isTrue();
        }
        for (int i = 0; i < 2_000; i++) {
            assertThat(index.get("w" + i)).isSameAs(i % 2 == 0 ? null : all.get(i));
        }
    }

    private void checkAgainstAHashMap(NameIndex index) {
        checkAgainstAHashMap(index, new HashMap<>(), new ArrayList<>());
    }

    private void checkAgainstAHashMap(NameIndex index, Map<String, Child> model, List<Child> present) {
        Random random = new Random(13);
        for (int step = 0; step < 20_000; step++) {
            int op = random.nextInt(10);
            String name = "w" + random.nextInt(2_000);
            if (op < 5) {
                Child c = child(name);
                Child held = index.putIfAbsent(c);
                assertThat(held).isSameAs(model.get(name));
                if (held == null) {
                    model.put(name, c);
                    present.add(c);
                }
            } else if (op < 8 && !present.isEmpty()) {
                Child c = present.remove(random.nextInt(present.size()));
                assertThat(index.remove(c)).isTrue();
                assertThat(index.remove(c)).isFalse();
                model.remove(c.name());
            } else if (!present.isEmpty() && !model.containsKey(name)) {
                Child c = present.get(random.nextInt(present.size()));
                assertThat(index.remove(c)).isTrue();
                model.remove(c.name());
                c.rename(name);
                assertThat(index.putIfAbsent(c)).isNull();
                model.put(name, c);
            }
            assertThat(index.get(name)).isSameAs(model.get(name));
            assertThat(index.size()).isEqualTo(model.size());
        }
        for (int i = 0; i < 2_000; i++) {
            assertThat(index.get("w" + i)).isSameAs(model.get("w" + i));
        }
    }

    @Test
    void shouldEmptyCompletelyAndFillAgain() {
        NameIndex index = new NameIndex();
        List<Child> all = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            Child c = child("s" + i);
            all.add(c);
            assertThat(index.putIfAbsent(c)).isNull();
        }
        for (Child c : all) {
            assertThat(index.remove(c)).isTrue();
        }
        assertThat(index.size()).isZero();
        for (Child c : all) {
            assertThat(index.get(c.name())).isNull();
            assertThat(index.putIfAbsent(c)).isNull();
        }
        for (Child c : all) {
            assertThat(index.get(c.name())).isSameAs(c);
        }
    }

    @Test
    void shouldHashAndMatchTheNameWhetherTheLabelIsTheNameOrAPath() {
        Child c = child("db");
        assertThat(NameIndex.nameHash(c.label())).isEqualTo("db".hashCode());
        assertThat(c.hasName("db")).isTrue();
        c.rename("app/db"); // what path() stores once the child is in a tree: the path, ending with the name
        assertThat(c.name()).isEqualTo("db");
        assertThat(NameIndex.nameHash(c.label())).isEqualTo("db".hashCode());
        assertThat(c.hasName("db")).isTrue();
        assertThat(c.hasName("b")).isFalse();
        assertThat(c.hasName("pdb")).isFalse();
        assertThat(c.hasName("app/db")).isFalse();
    }

    @Test
    void shouldRefuseADuplicateNameNamingItAndKeepTheFirstChild() {
        SupervisorImpl sup = new SupervisorImpl(Strategy.ONE_FOR_ONE, null);
        sup.add("a", IDLE);
        sup.add("b", IDLE);
        Child first = sup.child("a");
        assertThatThrownBy(() -> sup.add("a", IDLE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate name \"a\"")
                .hasMessageContaining("names must be unique among siblings");
        assertThat(sup.child("a")).isSameAs(first);
        assertThat(sup.childrenView()).extracting(Child::name).containsExactly("a", "b");
    }

    @Test
    void shouldFindChildrenByNameAfterOthersWereUnlinked() {
        SupervisorImpl sup = new SupervisorImpl(Strategy.ONE_FOR_ONE, null);
        for (int i = 0; i < 1_000; i++) {
            sup.add("w" + i, IDLE);
        }
        for (int i = 0; i < 1_000; i += 3) {
            sup.unlink(sup.child("w" + i));
        }
        for (int i = 0; i < 1_000; i++) {
            Child c = sup.child("w" + i);
            if (i % 3 == 0) {
                assertThat(c).isNull();
            } else {
                assertThat(c).isNotNull();
                assertThat(c.name()).isEqualTo("w" + i);
            }
        }
        assertThat(sup.childrenView()).hasSize(666);
        sup.add("w0", IDLE); // a removed name is free again, and the new child goes last
        assertThat(sup.childrenView().getLast().name()).isEqualTo("w0");
    }

    @Test
    void shouldRenameKeepingTheIndexAndRefusingATakenName() {
        SupervisorImpl sup = new SupervisorImpl(Strategy.ONE_FOR_ONE, null);
        sup.add("api", IDLE);
        sup.add("db", IDLE);
        Child api = sup.child("api");
        sup.rename(api, "api~1");
        assertThat(sup.child("api")).isNull();
        assertThat(sup.child("api~1")).isSameAs(api);
        assertThatThrownBy(() -> sup.rename(api, "db"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the name is taken");
        assertThat(sup.child("api~1")).isSameAs(api);
        sup.rename(api, "api");
        assertThat(sup.child("api")).isSameAs(api);
        assertThat(sup.child("api~1")).isNull();
    }

    @Test
    void shouldLeaveEveryViewAsItWasMade() {
        ChildList list = new ChildList();
        List<Child> model = new ArrayList<>();
        List<List<Child>> views = new ArrayList<>();
        List<List<Child>> expected = new ArrayList<>();
        Random random = new Random(7);
        for (int step = 0; step < 3_000; step++) {
            int op = random.nextInt(10);
            if (op < 6 || model.isEmpty()) {
                Child c = child("c" + step);
                list.add(c);
                model.add(c);
            } else if (op < 8) {
                Child beside = model.get(random.nextInt(model.size()));
                Child c = child("c" + step);
                list.addAfter(beside, c);
                model.add(model.indexOf(beside) + 1, c);
            } else {
                Child c = model.remove(random.nextInt(model.size()));
                list.remove(c);
            }
            if (list.view() == null) {
                assertThat(list.makeView()).containsExactlyElementsOf(model);
            }
            views.add(list.view());
            expected.add(List.copyOf(model));
        }
        for (int i = 0; i < views.size(); i++) {
            assertThat(views.get(i)).containsExactlyElementsOf(expected.get(i));
        }
        List<Child> reversed = new ArrayList<>(model.reversed());
        list.replaceAll(reversed);
        assertThat(list.makeView()).containsExactlyElementsOf(reversed);
        assertThat(views.getLast()).containsExactlyElementsOf(model);
    }
}
