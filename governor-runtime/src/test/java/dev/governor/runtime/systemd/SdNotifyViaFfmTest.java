package dev.governor.runtime.systemd;

/** Every case of {@link SdNotifyTest}, sent through the FFM binding (the fallback of the JNI library). */
class SdNotifyViaFfmTest extends SdNotifyTest {
    @Override
    SdNotify notifier(String address) {
        return SdNotify.toViaFfm(address);
    }
}
