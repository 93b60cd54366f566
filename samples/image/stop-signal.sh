#!/usr/bin/env bash
# Sets STOPSIGNAL SIGTERM in the image jib wrote (jib 3.5.2 has no setting for it). The tarball is in
# `docker save` format, whose manifest.json names the config file rather than its digest, so the
# config can be rewritten in place; the layers are untouched.
# usage: stop-signal.sh IMAGE_TAR
set -euo pipefail
tar=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xf "$tar" -C "$work"
names=$(tar -tf "$tar")
grep -q '"Config":"config.json"' "$work/manifest.json" || { echo "stop-signal: $tar is not a docker-save tarball with config.json" >&2; exit 1; }
if ! grep -q '"StopSignal"' "$work/config.json"; then
  sed -i 's/"config":{/"config":{"StopSignal":"SIGTERM",/' "$work/config.json"
fi
grep -q '"StopSignal":"SIGTERM"' "$work/config.json" || { echo "stop-signal: could not set StopSignal in config.json" >&2; exit 1; }
# shellcheck disable=SC2086
(cd "$work" && tar --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$tar.new" $names)
mv "$tar.new" "$tar"
echo "stop-signal: STOPSIGNAL SIGTERM set in $tar"
