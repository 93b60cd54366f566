package dev.governor.runtime.daemon;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * An AOT cache ({@code -XX:AOTCache=}) carried into a re-executed command line (daemonize, upgrade)
 * is kept only while it is newer than every jar that command runs. JDK 25 up to 25.0.3 does not
 * reject a cache when a jar on the class path changed after it was made (JDK-8377932): it runs the
 * classes the cache holds, so an upgrade that replaced the jar in place would start the old code.
 * A later JDK rejects such a cache itself, with a warning; dropping it here costs nothing more.
 */
final class AotCacheCheck {
    static final String FLAG = "-XX:AOTCache=";

    private AotCacheCheck() {}

    /**
     * {@code cmd} without its {@code -XX:AOTCache=} flag (at {@code flag}, its path absolute) when the
     * cache is older than a jar of {@code classPaths} (the values of the class and module path
     * options), of {@code jar} (of {@code -jar}, or null) or of that jar's manifest {@code Class-Path};
     * {@code warn} hears why. A cache that does not exist is left to the JVM (it warns and starts
     * without one).
     */
    static List<String> dropIfStale(
            List<String> cmd, int flag, List<String> classPaths, String jar, Consumer<String> warn) {
        Path cache = Path.of(cmd.get(flag).substring(FLAG.length()));
        FileTime made;
        try {
            made = Files.getLastModifiedTime(cache);
        } catch (IOException e) {
            return cmd;
        }
        List<Path> jars = new ArrayList<>();
        classPaths.forEach(list -> addEntries(list, jars));
        if (jar != null) {
            jars.add(Path.of(jar));
            jars.addAll(manifestClassPath(Path.of(jar)));
        }
        for (Path newer : jars) {
            try {
                if (Files.getLastModifiedTime(newer).compareTo(made) > 0) {
                    warn.accept("the AOT cache " + cache + " is older than " + newer
                            + ": the new process starts without it (JDK 25.0.3 and earlier would run the"
                            + " classes it holds, not the jar's: JDK-8377932); make it again for this jar");
                    List<String> without = new ArrayList<>(cmd);
                    without.remove(flag);
                    return without;
                }
            } catch (IOException e) {
                // a jar that is not there: the JVM says so
            }
        }
        return cmd;
    }

    /** The jars of a class path: its {@code .jar} entries, and the jars of a {@code dir/*} entry. */
    private static void addEntries(String list, List<Path> jars) {
        for (String entry : list.split(File.pathSeparator, -1)) {
            if (entry.endsWith(File.separator + "*") || entry.equals("*")) {
                Path dir = Path.of(entry.substring(0, entry.length() - 1));
                try (DirectoryStream<Path> in = Files.newDirectoryStream(dir, "*.{jar,JAR}")) {
                    in.forEach(jars::add);
                } catch (IOException | RuntimeException e) {
                    // no such directory
                }
            } else if (entry.endsWith(".jar") || entry.endsWith(".JAR")) {
                jars.add(Path.of(entry));
            }
        }
    }

    /** The jars named by the {@code Class-Path} of {@code jar}'s manifest, relative to its directory. */
    private static List<Path> manifestClassPath(Path jar) {
        List<Path> out = new ArrayList<>();
        try (JarFile j = new JarFile(jar.toFile())) {
            Manifest m = j.getManifest();
            String cp = m == null ? null : m.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (cp != null) {
                Path dir = jar.toAbsolutePath().getParent();
                for (String e : cp.trim().split("\\s+")) {
                    if (!e.isEmpty() && (e.endsWith(".jar") || e.endsWith(".JAR"))) {
                        out.add(dir.resolve(e));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not a readable jar: the JVM says so
        }
        return out;
    }
}
