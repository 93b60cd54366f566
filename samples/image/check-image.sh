#!/usr/bin/env bash
# Runs the sample image built by `mvn -B -Pimage -pl samples -am package` without a container
# runtime: unpacks its layers in order into a root file system and starts its entrypoint and
# arguments there, with its environment, as its user (chroot --userspec), in fresh mount and pid
# namespaces with /proc mounted. Checks the image's metadata (non-root user, JVM flags, ports),
# that /readyz answers 200, and that SIGTERM gives the ordered shutdown and exit code 0.
# Needs root (chroot, mount) and python3. .ci/run runs it.
# usage: check-image.sh [IMAGE_TAR]   (default samples/target/governor-sample-image.tar)
set -euo pipefail
cd "$(dirname "$0")/../.."
tar=${1:-samples/target/governor-sample-image.tar}
fail() { echo "check-image: $*" >&2; exit 1; }
[ -f "$tar" ] || fail "no image at $tar; build it with: mvn -B -Pimage -pl samples -am package -Dmaven.test.skip=true"
[ "$(id -u)" = 0 ] || fail "needs root for chroot and mount"

work=$(mktemp -d)
pid=""
cleanup() { [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true; rm -rf "$work"; }   # the mounts die with their namespace
trap cleanup EXIT
mkdir -p "$work/image" "$work/root"
tar -xf "$tar" -C "$work/image"

# the metadata: read with python3 from the image's manifest.json and config
eval "$(python3 - "$work/image" <<'PY'
import json, shlex, sys
d = sys.argv[1]
manifest = json.load(open(f"{d}/manifest.json"))[0]
cfg = json.load(open(f"{d}/{manifest['Config']}"))["config"]
def arr(name, v): print(f"{name}=(" + " ".join(shlex.quote(x) for x in v) + ")")
arr("layers", manifest["Layers"])
arr("entrypoint", cfg.get("Entrypoint") or [])
arr("cmd", cfg.get("Cmd") or [])
arr("envs", cfg.get("Env") or [])
arr("ports", sorted((cfg.get("ExposedPorts") or {}).keys()))
print("user=" + shlex.quote(cfg.get("User") or ""))
print("stop_signal=" + shlex.quote(cfg.get("StopSignal") or ""))
PY
)"
echo "check-image: user $user, stop signal $stop_signal, entrypoint ${entrypoint[*]}, args ${cmd[*]}, ports ${ports[*]}"
case "$user" in ""|0|0:*|root|root:*) fail "the image runs as root (User=$user)" ;; esac
for flag in --enable-native-access=ALL-UNNAMED java.base/sun.nio.ch=ALL-UNNAMED; do
  printf '%s\n' "${entrypoint[@]}" | grep -qx -- "$flag" || fail "the entrypoint lacks $flag"
done
[ "$stop_signal" = SIGTERM ] || fail "STOPSIGNAL is '$stop_signal', expected SIGTERM"
[ "${ports[*]}" = "7007/tcp 9464/tcp" ] || fail "exposed ports ${ports[*]}, expected 7007/tcp 9464/tcp"

for layer in "${layers[@]}"; do tar --warning=no-unknown-keyword -xzf "$work/image/$layer" -C "$work/root"; done
mkdir -p "$work/root/proc" "$work/root/dev"   # a container runtime provides both

# free ports on this host (the root shares its network); the overrides come first: the sample takes the first of each option
read -r echo_port metrics_port < <(python3 -c 'import socket
a=[socket.socket() for _ in range(2)]
[s.bind(("127.0.0.1",0)) for s in a]
print(*[s.getsockname()[1] for s in a])')
unshare --mount --pid --fork --kill-child sh -c 'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec env -i "$@"' "$work/root" \
    "${envs[@]}" "$(command -v chroot)" --userspec="$user" "$work/root" \
    "${entrypoint[@]}" --port="$echo_port" --metrics-port="$metrics_port" --metrics-host=127.0.0.1 --drain=500 "${cmd[@]}" \
    >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  code=$(python3 -c 'import sys,urllib.request
try: print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except Exception as e: print(getattr(e, "code", 0))' "http://127.0.0.1:$metrics_port/readyz")
  [ "$code" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.log" >&2; fail "the image's JVM ended before ready"; }
  sleep 0.5
done
[ "$code" = 200 ] || { cat "$work/out.log" >&2; fail "/readyz never answered 200"; }
echo "check-image: /readyz 200 from the image's JVM"
# SIGTERM to the JVM, as a container runtime sends it (the pid namespace's init is unshare's child)
jvm=$(pgrep -x java -f -- "--metrics-port=$metrics_port" 2>/dev/null | head -n 1 || true)
[ -n "$jvm" ] || jvm=$(for p in $(pgrep -f -- "--metrics-port=$metrics_port"); do grep -qx java "/proc/$p/comm" && echo "$p"; done | head -n 1)
[ -n "$jvm" ] || fail "cannot find the image's JVM"
[ "$(stat -c %u "/proc/$jvm")" = "${user%%:*}" ] || fail "the JVM runs as uid $(stat -c %u "/proc/$jvm"), not ${user%%:*}"
kill -TERM "$jvm"
status=0; wait "$pid" || status=$?
pid=""
cat "$work/out.log"
[ "$status" = 0 ] || fail "exit code $status after SIGTERM"
grep -q 'governor stopped in .* exit code 0' "$work/out.log" || fail "no ordered shutdown in the output"
echo "check-image: OK: non-root ($user), STOPSIGNAL $stop_signal, flags in the entrypoint, ready, SIGTERM -> ordered shutdown, exit 0"
