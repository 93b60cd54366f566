#!/usr/bin/env bash
# Builds the file system of the sample image's base layer from the local JDK 25, for jib's
# <extraDirectories> on top of `scratch`: no registry is reachable from the build machine, so the
# base is not pulled but made here, like a distroless Java image:
#   /opt/java   a jlink'ed runtime with the modules jdeps finds in the sample's class path
#   /lib*, /usr/lib*   the shared libraries that runtime links against (libc included: the FFM calls), from this host
#   /etc/passwd, /etc/group   root and the unprivileged user the container runs as (65532, "governor")
#   /tmp        writable: the JVM's java.io.tmpdir
# usage: build-root.sh JDK_HOME|"" SAMPLES_TARGET_DIR OUTPUT_ROOT   ("": find a JDK 25)
set -euo pipefail
jdk=$1 target=$(cd "$2" && pwd) root=$3
if [ -z "$jdk" ]; then   # as the launchers do: $JAVA_HOME if it is a JDK 25+, else /usr/lib/jvm/*25*
  for candidate in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*25*; do
    if [ -x "$candidate/bin/jlink" ] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then jdk=$candidate; break; fi
  done
  [ -n "$jdk" ] || { echo "build-root: needs a JDK 25 with jlink: set JAVA_HOME to one" >&2; exit 2; }
fi

rm -rf "$root"
mkdir -p "$root/etc" "$root/tmp" "$root/opt"
root=$(cd "$root" && pwd)
jar=$(ls "$target"/samples-*.jar | grep -v -e '-sources.jar$' -e '-javadoc.jar$' | head -n 1)
# --module-path as well: governor-api and governor-runtime are modular jars whose module-info requires
# micrometer's automatic modules, which jdeps resolves only from a module path
modules=$("$jdk/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
            --module-path "$target/lib" --class-path "$target/lib/*" "$jar" "$target"/lib/*.jar 2>/dev/null | tail -n 1)
echo "build-root: jlink $modules"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
    --compress=zip-6 --output "$root/opt/java"

# Governor's native calls go through the JDK's FFM API into libc: the runtime's own libraries say what is needed
objects=("$root/opt/java/bin/java" "$root"/opt/java/lib/*.so "$root"/opt/java/lib/server/libjvm.so)
# ldd: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and the loader "/lib64/ld-linux-x86-64.so.2 (0x...)"
for lib in $(ldd "${objects[@]}" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u); do
  case "$lib" in "$root"/*) continue ;; esac   # the runtime's own libraries, found through $ORIGIN
  [ -e "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"      # real files at the paths ldd names: no symbolic links in the layer
done

printf 'root:x:0:0:root:/root:/sbin/nologin\ngovernor:x:65532:65532:governor:/tmp:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\ngovernor:x:65532:\n' > "$root/etc/group"
echo "build-root: $(du -sh "$root" | cut -f1) in $root"
