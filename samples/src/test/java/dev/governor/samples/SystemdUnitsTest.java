package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The sample's systemd units are what docs/systemd.md says, and systemd itself finds nothing wrong with them. */
class SystemdUnitsTest {
    private static final Path UNITS = Path.of("systemd");

    @Test
    void theServiceIsANotifyServiceWithAWatchdogAndAnFdStore() throws Exception {
        String service = Files.readString(UNITS.resolve("governor-sample.service"));
        assertThat(service.lines())
                .contains(
                        "Type=notify",
                        "NotifyAccess=main",
                        "WatchdogSec=10s",
                        "FileDescriptorStoreMax=8",
                        "Requires=governor-sample.socket");
        String socket = Files.readString(UNITS.resolve("governor-sample.socket"));
        assertThat(socket.lines()).contains("FileDescriptorName=echo", "Service=governor-sample.service");
    }

    @Test
    void systemdAnalyzeVerifiesBothUnitsWithoutAWord() throws Exception {
        Process p = new ProcessBuilder(
                        "systemd-analyze",
                        "verify",
                        "--man=no",
                        "./governor-sample.socket",
                        "./governor-sample.service")
                .directory(UNITS.toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(out).as("systemd-analyze verify output").isEmpty();
        assertThat(p.exitValue()).isZero();
    }
}
