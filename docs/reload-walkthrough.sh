#!/usr/bin/env bash
# The reload session of README.md ("Zero-downtime reload"), command for command.
# DocsScriptsTest runs it under CI=true on a fresh copy of the repository; run it yourself from the
# repository root: bash docs/reload-walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "reload-walkthrough: $*" >&2; exit 1; }

mvn -B -q -pl governorctl,samples -am package -Dmaven.test.skip=true
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java | head -n 1)     # or $JAVA_HOME/bin/java, if it is a JDK 25
DEMO=${DEMO:-/tmp/governor-reload-demo} PORT=${PORT:-8080}   # a directory for the demo's files, the /hello port
mkdir -p $DEMO
echo greeting=Hello > $DEMO/hello.conf
$JAVA -jar samples/target/samples-0.1.0-SNAPSHOT.jar --config=$DEMO/hello.conf --hello-port=$PORT \
      --control-socket=$DEMO/control.sock --port=0 --metrics-port=0 > $DEMO/sample.log 2>&1 &
pid=$!
trap 'kill -KILL $pid 2>/dev/null || true' EXIT   # only if a step below failed before the stop
until grep -q 'governor ready' $DEMO/sample.log; do sleep 0.2; done

curl -s http://127.0.0.1:$PORT/hello
echo greeting=Bonjour > $DEMO/hello.conf
kill -HUP $pid
until curl -s http://127.0.0.1:$PORT/hello | grep -q 'generation 2'; do sleep 0.2; done   # the reload runs on its own thread
curl -s http://127.0.0.1:$PORT/hello
echo "greeting Hallo" > $DEMO/hello.conf     # broken: no "="
governorctl/bin/governorctl --socket $DEMO/control.sock reload || echo "exit $?"
curl -s http://127.0.0.1:$PORT/hello
echo greeting=Hallo > $DEMO/hello.conf
governorctl/bin/governorctl --socket $DEMO/control.sock reload
for i in $(seq 50); do curl -s http://127.0.0.1:$PORT/hello | grep -q 'generation 3: Hallo' && break; sleep 0.2; done
curl -s http://127.0.0.1:$PORT/hello | grep -q 'generation 3: Hallo' || fail "generation 3 does not answer"
curl -s http://127.0.0.1:$PORT/hello
grep -E 'reload of|drained|listener "hello"' $DEMO/sample.log
kill -TERM $pid
wait $pid
