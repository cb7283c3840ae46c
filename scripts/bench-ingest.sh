#!/bin/sh
# Sustained OTLP ingest with the UI running: regionwatch (release, built-in demo, 120x40 in
# tmux) receives protobuf and then JSON requests of 1,000 spans from `regionwatch loadgen`;
# the figure is spans accepted per second of regionwatch CPU time (all its threads).
#
#   scripts/bench-ingest.sh                    # 20 s per format
#   DURATION=30 CONNECTIONS=2 scripts/bench-ingest.sh
set -eu
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-2}
SPANS=${SPANS:-1000}
BIN=${BIN:-.build/release/regionwatch}
PORT=${PORT:-14400}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
SOCKET="rwingest-$$"
STATE=$(mktemp -d)
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$STATE"' EXIT INT TERM

cpu_ns() {
    total=0
    for stat in /proc/"$1"/task/*/schedstat; do
        read -r run _ < "$stat" && total=$((total + run))
    done
    echo "$total"
}

tmux -L "$SOCKET" -f /dev/null new-session -d -s rw -x 120 -y 40 \
    "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$STATE ${EXTRA_ENV:-} $BIN --demo --otlp-listen 127.0.0.1:$PORT"
PID=$(tmux -L "$SOCKET" display-message -p -t rw '#{pane_pid}')
sleep 2
# Show the traces screen while ingesting (the list re-sorts live).
[ "${SCREEN:-traces}" = traces ] && tmux -L "$SOCKET" send-keys -t rw t

for format in protobuf json; do
    # Warm up, then measure.
    "$BIN" loadgen --target 127.0.0.1:$PORT --format $format --spans-per-request "$SPANS" --duration 3 --connections "$CONNECTIONS" >/dev/null
    BEFORE=$(cpu_ns "$PID")
    RESULT=$("$BIN" loadgen --target 127.0.0.1:$PORT --format $format --spans-per-request "$SPANS" --duration "$DURATION" --connections "$CONNECTIONS" --json)
    AFTER=$(cpu_ns "$PID")
    echo "$RESULT" | python3 -c "
import json, sys
r = json.load(sys.stdin)
cpu = ($AFTER - $BEFORE) / 1e9
print(f'$format: {r[\"spansAccepted\"]} spans accepted in $DURATION s ({r[\"spansPerSecond\"]} spans/s wall), 429: {r[\"refused429\"]}, other: {r[\"otherStatus\"]}')
print(f'  regionwatch CPU {cpu:.2f} s ({cpu / $DURATION * 100:.0f}% of a core) -> {r[\"spansAccepted\"] / cpu:,.0f} spans/s per core')
"
done
