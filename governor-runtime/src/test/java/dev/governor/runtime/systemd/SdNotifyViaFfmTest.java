package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.JniBypass;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every case of {@link SdNotifyTest}, sent through the FFM binding (the fallback of the JNI library). */
@ExtendWith(JniBypass.class)
class SdNotifyViaFfmTest extends SdNotifyTest {}
