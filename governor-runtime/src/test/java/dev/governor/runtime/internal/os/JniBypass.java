package dev.governor.runtime.internal.os;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code @ExtendWith(JniBypass.class)}: each test of the class runs with the runtime's JNI library
 * bypassed ({@link LibcJni#bypass}), every call through the FFM binding, its fallback.
 */
public final class JniBypass implements BeforeEachCallback, AfterEachCallback {
    @Override
    public void beforeEach(ExtensionContext context) {
        LibcJni.bypass(true);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        LibcJni.bypass(false);
    }
}
