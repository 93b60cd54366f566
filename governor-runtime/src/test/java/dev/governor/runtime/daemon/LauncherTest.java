package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How the launcher rebuilds this JVM's command line for the daemon, which starts in another directory. */
class LauncherTest {
    private static final Path CWD = Path.of("/home/u/app");

    @Test
    void shouldKeepJavaFlagsAndMakeTheClassPathAbsolute() {
        List<String> cmd = Launcher.command(
                java("/jdk/bin/java"),
                args(
                        "--enable-native-access=ALL-UNNAMED",
                        "-Xmx64m",
                        "-cp",
                        "target/classes:/abs/lib.jar:lib/*",
                        "dev.app.Main",
                        "--port=0",
                        "-cp",
                        "rel"),
                CWD);
        assertThat(cmd)
                .containsExactly(
                        "/jdk/bin/java",
                        "--enable-native-access=ALL-UNNAMED",
                        "-Xmx64m",
                        "-cp",
                        "/home/u/app/target/classes:/abs/lib.jar:/home/u/app/lib/*",
                        "dev.app.Main",
                        "--port=0",
                        "-cp",
                        "rel");
    }

    @Test
    void shouldMakeTheJarAgentsAndArgumentFilesAbsoluteButNotTheApplicationArguments() {
        List<String> cmd = Launcher.command(
                java("/jdk/bin/java"),
                args(
                        "@jvm.args",
                        "-javaagent:agent.jar=opt=1",
                        "--module-path=mods",
                        "-jar",
                        "app.jar",
                        "@not-an-argfile",
                        "x.java"),
                CWD);
        assertThat(cmd)
                .containsExactly(
                        "/jdk/bin/java",
                        "@/home/u/app/jvm.args",
                        "-javaagent:/home/u/app/agent.jar=opt=1",
                        "--module-path=/home/u/app/mods",
                        "-jar",
                        "/home/u/app/app.jar",
                        "@not-an-argfile",
                        "x.java");
    }

    @Test
    void shouldNotMistakeTheValueOfAnOptionForTheMainClass() {
        List<String> cmd = Launcher.command(
                java("/jdk/bin/java"),
                args("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--class-path", "a.jar", "Main.java", "arg"),
                CWD);
        assertThat(cmd)
                .containsExactly(
                        "/jdk/bin/java",
                        "--add-opens",
                        "java.base/java.lang=ALL-UNNAMED",
                        "--class-path",
                        "/home/u/app/a.jar",
                        "/home/u/app/Main.java",
                        "arg");
    }

    @Test
    void shouldSayWhenTheCommandLineCannotBeRead() {
        assertThatThrownBy(() -> Launcher.command(Optional.of("/jdk/bin/java"), Optional.empty(), CWD))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot read this JVM's arguments");
    }

    @Test
    void shouldReadThisJvmsWholeCommandLine() throws Exception {
        // the whole of /proc/self/cmdline; DaemonizeProcessTest covers a command line longer than a page
        String[] args = Launcher.currentArguments().orElseThrow();
        String cmdline = java.nio.file.Files.readString(Path.of("/proc/self/cmdline"));
        assertThat(String.join("\0", args))
                .isEqualTo(cmdline.substring(cmdline.indexOf('\0') + 1, cmdline.length() - 1));
        assertThat(args).contains(System.getProperty("governor.jvmArgs").split(" ")[0]);
        List<String> cmd = Launcher.command(
                ProcessHandle.current().info().command(),
                Optional.of(args),
                Path.of("").toAbsolutePath());
        assertThat(cmd.getFirst())
                .isEqualTo(ProcessHandle.current().info().command().orElseThrow());
        assertThat(cmd).hasSize(args.length + 1);
    }

    private static Optional<String> java(String command) {
        return Optional.of(command);
    }

    private static Optional<String[]> args(String... args) {
        return Optional.of(args);
    }
}
