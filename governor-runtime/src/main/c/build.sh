#!/usr/bin/env bash
# Builds the runtime's JNI library (governor_jni.c: the libc calls on the way to READY=1) into the classes directory, for
# the platform of this build; Maven calls it at process-classes. Without a C compiler the runtime is
# built without it and sends sd_notify through FFM (about 85 ms slower to the first READY=1); on CI
# (CI=true) a missing compiler fails the build instead.
#   build.sh <classes dir> <os.arch> <a JDK home holding include/jni.h>
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)/governor_jni.c
classes=$1 arch=$2 jdk=$3
out=$classes/dev/governor/runtime/internal/os/native/linux-$arch
cc=${CC:-$(command -v cc || command -v gcc || echo cc)}

skip() {
  if [ "${CI:-}" = true ]; then echo "governor-runtime: $1 (CI=true: the JNI library is required)" >&2; exit 1; fi
  echo "[WARNING] governor-runtime: $1; sd_notify will go through FFM"
  exit 0
}
[ "$(uname -s)" = Linux ] || skip "not Linux, no JNI library"
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler ($cc)"
include=""
for home in "$jdk" "${JAVA_HOME:-}" /usr/lib/jvm/*; do
  if [ -n "$home" ] && [ -f "$home/include/jni.h" ] && [ -d "$home/include/linux" ]; then include=$home/include; break; fi
done
[ -n "$include" ] || skip "no jni.h in $jdk or any JDK under /usr/lib/jvm"
mkdir -p "$out"
"$cc" -std=c11 -D_GNU_SOURCE -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror \
  -I"$include" -I"$include/linux" -Wl,-z,noexecstack -Wl,-z,relro -Wl,-z,now -s \
  -o "$out/libgovernor_jni.so" "$src" || skip "the C compiler failed on $src"
