package dev.governor.runtime.internal;

import dev.governor.Governor;
import dev.governor.runtime.GovernorExtension;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.LifecycleListener;
import dev.governor.runtime.ReloadableStatus;
import java.util.List;
import java.util.ServiceLoader;

/** The runtime's view of one governor, for extensions and the runtime's public packages (metrics, probes, systemd). */
final class HooksImpl implements GovernorHooks {
    private final GovernorImpl governor;
    private final Tree tree;
    private final SupervisorImpl root;
    private final Reloads reloads;

    HooksImpl(GovernorImpl governor, Tree tree, SupervisorImpl root, Reloads reloads) {
        this.governor = governor;
        this.tree = tree;
        this.root = root;
        this.reloads = reloads;
    }

    @Override
    public Governor governor() {
        return governor;
    }

    @Override
    public void addLifecycleListener(LifecycleListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("lifecycle listener must not be null");
        }
        tree.bus.addLifecycle(listener);
    }

    @Override
    public boolean healthy() {
        return tree.healthy();
    }

    @Override
    public String statusLine() {
        return tree.statusLine();
    }

    @Override
    public List<ReloadableStatus> reloadables() {
        return reloads.status();
    }

    @Override
    public String lastReloadError() {
        return reloads.lastError();
    }

    @Override
    public List<String> liveThreads() {
        return tree.liveThreads(root);
    }

    @Override
    public String toString() {
        return "GovernorHooks[" + governor + "]";
    }

    /** Installs every GovernorExtension found by the ServiceLoader; one that fails is logged and left out. */
    void installExtensions() {
        for (ServiceLoader.Provider<GovernorExtension> p :
                ServiceLoader.load(GovernorExtension.class, GovernorImpl.class.getClassLoader()).stream()
                        .toList()) {
            try {
                p.get().install(this);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                Tree.LOG.error(
                        "extension {} failed to install; the governor runs without it",
                        p.type().getName(),
                        Untrusted.loggable(e));
            }
        }
    }
}
