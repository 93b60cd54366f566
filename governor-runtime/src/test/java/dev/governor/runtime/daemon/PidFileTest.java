package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** In-process behaviour of {@link PidFile}; a second process on the same file is tested in samples. */
class PidFileTest {
    private static final long ME = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    @Test
    void shouldWriteThisPidWithOnlyTheOwnerAllowedToWrite() throws Exception {
        Path path = dir.resolve("app.pid");
        try (PidFile pf = PidFile.acquire(path)) {
            assertThat(Files.readString(path)).isEqualTo(ME + "\n");
            assertThat(Files.getPosixFilePermissions(path))
                    .contains(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)
                    .doesNotContain(
                            PosixFilePermission.GROUP_WRITE,
                            PosixFilePermission.OTHERS_WRITE,
                            PosixFilePermission.OWNER_EXECUTE,
                            PosixFilePermission.GROUP_EXECUTE,
                            PosixFilePermission.OTHERS_EXECUTE);
            assertThat(pf.held()).isTrue();
            assertThat(pf.pid()).isEqualTo(ME);
            assertThat(pf.toString()).contains(path.toString(), "pid=" + ME, "held");
            assertThat(PidFile.runningPid(path)).isEqualTo(OptionalLong.of(ME));
        }
        try (var listing = Files.list(dir)) {
            assertThat(listing).as("no temporary file left behind").isEmpty();
        }
    }

    @Test
    void shouldRefuseASecondHolderWithThePidAndPath() {
        Path path = dir.resolve("app.pid");
        try (PidFile first = PidFile.acquire(path)) {
            assertThatThrownBy(() -> PidFile.acquire(path))
                    .isInstanceOf(PidFile.AlreadyRunningException.class)
                    .hasMessage("already running as pid " + ME + " (" + path + ")");
            assertThat(first.held()).isTrue();
        }
    }

    @Test
    void shouldTakeOverAStaleFileThatNobodyHoldsLocked() throws Exception {
        Path path = dir.resolve("app.pid");
        Files.writeString(path, "999999999\n");
        assertThat(PidFile.runningPid(path)).as("unlocked file is stale").isEmpty();
        try (PidFile pf = PidFile.acquire(path)) {
            assertThat(Files.readString(path)).isEqualTo(ME + "\n");
            assertThat(pf.held()).isTrue();
        }
    }

    @Test
    void shouldTakeOverAStaleFileWithGarbageOrLongerContent() throws Exception {
        Path path = dir.resolve("app.pid");
        Files.writeString(path, "not a pid at all, and much longer than any pid\nsecond line\n");
        try (PidFile pf = PidFile.acquire(path)) {
            assertThat(Files.readString(path)).isEqualTo(ME + "\n");
            assertThat(pf.held()).isTrue();
        }
    }

    @Test
    void shouldRefuseASymbolicLinkAndLeaveItsTargetAlone() throws Exception {
        Path target = dir.resolve("precious.txt");
        Files.writeString(target, "keep me\n");
        Path link = Files.createSymbolicLink(dir.resolve("app.pid"), target);
        assertThatThrownBy(() -> PidFile.acquire(link))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(link.toString())
                .hasMessageContaining("symbolic link");
        assertThat(Files.readString(target)).isEqualTo("keep me\n");
        assertThat(Files.isSymbolicLink(link)).isTrue();
    }

    @Test
    void shouldRefuseADanglingSymbolicLink() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("app.pid"), dir.resolve("nowhere"));
        assertThatThrownBy(() -> PidFile.acquire(link)).hasMessageContaining("symbolic link");
        assertThat(Files.exists(dir.resolve("nowhere"))).isFalse();
    }

    @Test
    void shouldRemoveTheFileAndReleaseOnClose() {
        Path path = dir.resolve("app.pid");
        PidFile pf = PidFile.acquire(path);
        pf.close();
        pf.close(); // idempotent
        assertThat(Files.exists(path)).isFalse();
        assertThat(pf.held()).isFalse();
        assertThat(PidFile.runningPid(path)).isEmpty();
        try (PidFile again = PidFile.acquire(path)) {
            assertThat(again.held()).isTrue();
        }
    }

    @Test
    void shouldNotDeleteAFileThatIsNoLongerItsOwn() throws Exception {
        Path path = dir.resolve("app.pid");
        PidFile pf = PidFile.acquire(path);
        Files.delete(path);
        Files.writeString(path, "someone else's\n");
        pf.close();
        assertThat(Files.readString(path)).isEqualTo("someone else's\n");
    }

    @Test
    void shouldReportAMissingDirectoryWithThePath() {
        Path path = dir.resolve("no/such/dir/app.pid");
        assertThatThrownBy(() -> PidFile.acquire(path)).hasMessageContaining("cannot create pid file " + path);
    }

    @Test
    void shouldParseTheFirstLineOnly() {
        assertThat(PidFile.parsePid("42\n")).isEqualTo(42);
        assertThat(PidFile.parsePid(" 42 \nx")).isEqualTo(42);
        assertThat(PidFile.parsePid("")).isEqualTo(-1);
        assertThat(PidFile.parsePid("-5\n")).isEqualTo(-1);
        assertThat(PidFile.parsePid("abc")).isEqualTo(-1);
    }
}
