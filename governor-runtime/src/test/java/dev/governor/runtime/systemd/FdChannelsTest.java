package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.runtime.TestJvms;
import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FdChannelsTest {

    @Test
    void withoutTheFlagWrappingFailsNamingItAndAFreshBindStillWorks() throws Exception {
        Process p = TestJvms.start(List.of("--enable-native-access=ALL-UNNAMED"), WithoutAddOpensMain.class);
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM ends").isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out)
                    .contains("ERROR: wrapping fd 0 in a ServerSocketChannel needs the JVM flag "
                            + "--add-opens java.base/sun.nio.ch=ALL-UNNAMED");
            assertThat(out).contains("BOUND: /127.0.0.1:");
            assertThat(out)
                    .contains("without the JVM flag --add-opens java.base/sun.nio.ch=ALL-UNNAMED it is neither kept");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aDescriptorThatIsNotAListeningSocketIsRefusedNamingWhatItIs() throws IOException {
        try (ServerSocketChannel unbound = ServerSocketChannel.open()) {
            int fd = Libc.dup(FdChannels.fd(unbound));
            try {
                assertThatThrownBy(() -> FdChannels.serverSocket(fd))
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining("is a tcp socket")
                        .hasMessageContaining("not listening");
                assertThatThrownBy(() -> FdChannels.datagram(fd))
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining("not a UDP socket");
            } finally {
                Libc.close(fd);
            }
        }
    }

    @Test
    void theDescriptorOfAChannelThatIsNotTheJdksIsRefused() {
        assertThatThrownBy(() -> FdChannels.fd(new java.nio.channels.Channel() {
                    public boolean isOpen() {
                        return true;
                    }

                    public void close() {}
                }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a JDK socket channel");
    }
}
