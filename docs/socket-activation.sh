#!/usr/bin/env bash
# The sample under systemd-socket-activate, as in docs/systemd.md: NotifyWatch stands in for
# systemd's notification socket. DocsScriptsTest runs it under CI=true; run it yourself from the
# repository root: bash docs/socket-activation.sh
set -euo pipefail
cd "$(dirname "$0")/.."

JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java | head -n 1)     # JDK 25: a bare `java` may be an older one
JAR=samples/target/samples-0.1.0-SNAPSHOT.jar
[ -f $JAR ] || mvn -B -q -pl samples -am package -Dmaven.test.skip=true
PORT=${PORT:-7317} NOTIFY=@governor-demo-$$ OUT=$(mktemp -d)
$JAVA --enable-native-access=ALL-UNNAMED -cp $JAR dev.governor.samples.NotifyWatch $NOTIFY >$OUT/notify.log &
watch=$!
trap 'kill $watch ${daemon:-} 2>/dev/null || true; rm -rf $OUT' EXIT
until grep -q listening $OUT/notify.log; do sleep 0.1; done
systemd-socket-activate -l 127.0.0.1:$PORT --fdname=echo \
    -E NOTIFY_SOCKET=$NOTIFY -E WATCHDOG_USEC=2000000 -E GOVERNOR_METRICS_PORT=${GOVERNOR_METRICS_PORT:-9464} \
    $JAVA -jar $JAR --tick=1000 --flaky-fails=1 &
daemon=$!
until exec 3<>/dev/tcp/127.0.0.1/$PORT; do sleep 0.2; done 2>/dev/null   # until it listens
echo "hello systemd" >&3; read -t 60 line <&3; echo "echo answered: $line"
until sed -n '/READY=1/,$p' $OUT/notify.log | grep -q 'WATCHDOG=1'; do sleep 0.2; done   # a ping after READY=1
kill -TERM $daemon; wait $daemon; echo "exit code $?"
for i in $(seq 100); do grep -q 'STATUS=stopped' $OUT/notify.log && break; sleep 0.1; done   # the last message read
kill $watch; wait $watch || true
cat $OUT/notify.log
