package dev.governor.runtime.internal.os;

import org.junit.jupiter.api.extension.ExtendWith;

/** Every case of {@link LibcTest} with the JNI library bypassed: each call through the FFM binding, its fallback. */
@ExtendWith(JniBypass.class)
class LibcViaFfmTest extends LibcTest {}
