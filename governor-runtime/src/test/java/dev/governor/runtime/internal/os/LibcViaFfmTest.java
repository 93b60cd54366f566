package dev.governor.runtime.internal.os;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Every case of {@link LibcTest} with the JNI library bypassed: each call through the FFM binding, its fallback. */
class LibcViaFfmTest extends LibcTest {
    @BeforeEach
    void bypassJni() {
        LibcJni.bypass(true);
    }

    @AfterEach
    void restoreJni() {
        LibcJni.bypass(false);
    }
}
