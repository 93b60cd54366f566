package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How the launcher rebuilds this JVM's command line for the daemon, which starts in another directory. */
class LauncherTest {
    private static final Path CWD = Path.of("/home/u/app");

    @Test
    void shouldKeepJavaFlagsAndMakeTheClassPathAbsolute() {
        List<String> cmd = Launcher.command(info("/jdk/bin/java", "--enable-native-access=ALL-UNNAMED", "-Xmx64m",
                "-cp", "target/classes:/abs/lib.jar:lib/*", "dev.app.Main", "--port=0", "-cp", "rel"), CWD);
        assertThat(cmd).containsExactly("/jdk/bin/java", "--enable-native-access=ALL-UNNAMED", "-Xmx64m",
                "-cp", "/home/u/app/target/classes:/abs/lib.jar:/home/u/app/lib/*", "dev.app.Main", "--port=0", "-cp", "rel");
    }

    @Test
    void shouldMakeTheJarAgentsAndArgumentFilesAbsoluteButNotTheApplicationArguments() {
        List<String> cmd = Launcher.command(info("/jdk/bin/java", "@jvm.args", "-javaagent:agent.jar=opt=1",
                "--module-path=mods", "-jar", "app.jar", "@not-an-argfile", "x.java"), CWD);
        assertThat(cmd).containsExactly("/jdk/bin/java", "@/home/u/app/jvm.args", "-javaagent:/home/u/app/agent.jar=opt=1",
                "--module-path=/home/u/app/mods", "-jar", "/home/u/app/app.jar", "@not-an-argfile", "x.java");
    }

    @Test
    void shouldNotMistakeTheValueOfAnOptionForTheMainClass() {
        List<String> cmd = Launcher.command(info("/jdk/bin/java", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--class-path", "a.jar", "Main.java", "arg"), CWD);
        assertThat(cmd).containsExactly("/jdk/bin/java", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--class-path", "/home/u/app/a.jar", "/home/u/app/Main.java", "arg");
    }

    @Test
    void shouldSayWhenTheCommandLineCannotBeRead() {
        ProcessHandle.Info blind = new FakeInfo(Optional.of("/jdk/bin/java"), Optional.empty());
        assertThatThrownBy(() -> Launcher.command(blind, CWD))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot read this JVM's arguments");
    }

    @Test
    void shouldRebuildThisVeryJvmsCommandLine() {
        List<String> cmd = Launcher.command(ProcessHandle.current().info(), Path.of("").toAbsolutePath());
        assertThat(cmd.getFirst()).isEqualTo(ProcessHandle.current().info().command().orElseThrow());
        assertThat(cmd).hasSize(ProcessHandle.current().info().arguments().orElseThrow().length + 1);
    }

    private static ProcessHandle.Info info(String command, String... args) {
        return new FakeInfo(Optional.of(command), Optional.of(args));
    }

    private record FakeInfo(Optional<String> command, Optional<String[]> arguments) implements ProcessHandle.Info {
        @Override
        public Optional<String> commandLine() {
            return Optional.empty();
        }

        @Override
        public Optional<Instant> startInstant() {
            return Optional.empty();
        }

        @Override
        public Optional<Duration> totalCpuDuration() {
            return Optional.empty();
        }

        @Override
        public Optional<String> user() {
            return Optional.empty();
        }
    }
}
