/**
 * The public types of Governor: what services, libraries and applications compile against.
 *
 * <p>The implementation is found at run time through {@link java.util.ServiceLoader}: on the module
 * path, the module {@code dev.governor.runtime} provides {@link dev.governor.spi.GovernorProvider}.
 */
module dev.governor {
    // ServiceCtx.log() returns an org.slf4j.Logger: a user of this module reads SLF4J too
    requires transitive org.slf4j;

    exports dev.governor;
    exports dev.governor.spi;

    uses dev.governor.spi.GovernorProvider;
}
