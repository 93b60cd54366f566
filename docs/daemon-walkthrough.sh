#!/usr/bin/env bash
# The walkthrough of docs/daemon.md (and the short version in README.md), command for command.
# DocsScriptsTest runs it under CI=true on a fresh copy of the repository; run it yourself from the
# repository root: bash docs/daemon-walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "daemon-walkthrough: $*" >&2; exit 1; }

mvn -B -q -pl governorctl,samples -am package -Dmaven.test.skip=true
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java | head -n 1)     # or $JAVA_HOME/bin/java, if it is a JDK 25
DEMO=${DEMO:-/tmp/governor-demo} PORT=${PORT:-7007}      # a directory for the demo's files, the echo port
mkdir -p $DEMO

$JAVA -jar samples/target/samples-0.1.0-SNAPSHOT.jar --daemonize --port=$PORT \
      --pidfile=$DEMO/sample.pid --log-file=$DEMO/sample.log \
      --control-socket=$DEMO/control.sock
echo $?
pid=$(cat $DEMO/sample.pid)
trap 'kill -KILL $pid 2>/dev/null || true' EXIT   # only if a step below failed before the stop

governorctl/bin/governorctl --socket $DEMO/control.sock status
until governorctl/bin/governorctl --socket $DEMO/control.sock status | grep -qE '^flaky +RUNNING +yes +3 '; do sleep 1; done
governorctl/bin/governorctl --socket $DEMO/control.sock status
governorctl/bin/governorctl --socket $DEMO/control.sock status | grep -q '  ready  healthy  (' || fail "not ready and healthy"

$JAVA -jar samples/target/samples-0.1.0-SNAPSHOT.jar --daemonize --pidfile=$DEMO/sample.pid || echo $?

export GOVERNOR_SOCKET=$DEMO/control.sock
governorctl/bin/governorctl restart echo
governorctl/bin/governorctl stop ticker
governorctl/bin/governorctl start ticker
governorctl/bin/governorctl reload
governorctl/bin/governorctl restart nosuch || echo $?
governorctl/bin/governorctl help

$JAVA -jar samples/target/samples-0.1.0-SNAPSHOT.jar status --pidfile=$DEMO/sample.pid
$JAVA -jar samples/target/samples-0.1.0-SNAPSHOT.jar reload --pidfile=$DEMO/sample.pid
until grep -q 'reloaded: generation 2' $DEMO/sample.log; do sleep 0.2; done   # the reload runs on its own thread
grep reload $DEMO/sample.log | tail -n 3
$JAVA -jar samples/target/samples-0.1.0-SNAPSHOT.jar stop --pidfile=$DEMO/sample.pid
tail -n 7 $DEMO/sample.log
ls $DEMO
grep -q 'exit code 0' $DEMO/sample.log || fail "no clean exit in the log"
[ ! -e $DEMO/sample.pid ] && [ ! -e $DEMO/control.sock ] || fail "pid file or socket left behind"
