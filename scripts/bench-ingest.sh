#!/bin/sh
# Sustained OTLP ingest with the UI running: regionwatch (release, built-in demo, 120x40 in
# tmux) receives protobuf and then JSON requests of 1,000 spans from `regionwatch loadgen`;
# the figure is spans accepted per second of regionwatch CPU time (all its threads).
#
#   scripts/bench-ingest.sh                    # 5 runs of 10 s per format; median and range
#   REPEAT=3 DURATION=20 CONNECTIONS=2 scripts/bench-ingest.sh
#
# This machine is shared and noisy: single runs of the same binary vary by ±40%, so the
# script reports every run, their median and range.
set -eu
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-5}
CONNECTIONS=${CONNECTIONS:-2}
SPANS=${SPANS:-1000}
BIN=${BIN:-.build/release/regionwatch}
PORT=${PORT:-14400}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
SOCKET="rwingest-$$"
STATE=$(mktemp -d)
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$STATE"' EXIT INT TERM

. scripts/lib/cpu.sh

tmux -L "$SOCKET" -f /dev/null new-session -d -s rw -x 120 -y 40 \
    "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$STATE ${EXTRA_ENV:-} $BIN --demo --otlp-listen 127.0.0.1:$PORT"
PID=$(tmux -L "$SOCKET" display-message -p -t rw '#{pane_pid}')
sleep 2
# Show the traces screen while ingesting (the list re-sorts live).
[ "${SCREEN:-traces}" = traces ] && tmux -L "$SOCKET" send-keys -t rw t

for format in protobuf json; do
    # Warm up, then measure REPEAT times.
    "$BIN" loadgen --target 127.0.0.1:$PORT --format $format --spans-per-request "$SPANS" --duration 3 --connections "$CONNECTIONS" >/dev/null
    RUNS=""
    for run in $(seq 1 "$REPEAT"); do
        BEFORE=$(cpu_ns "$PID")
        RESULT=$("$BIN" loadgen --target 127.0.0.1:$PORT --format $format --spans-per-request "$SPANS" --duration "$DURATION" --connections "$CONNECTIONS" --json)
        AFTER=$(cpu_ns "$PID")
        RUNS="$RUNS$RESULT $((AFTER - BEFORE))
"
    done
    printf '%s' "$RUNS" | python3 -c "
import json, statistics, sys
rows = []
for line in sys.stdin:
    text, cpu = line.rsplit(' ', 1)
    result, cpu = json.loads(text), int(cpu) / 1e9
    rows.append((result['spansAccepted'] / cpu, result, cpu))
    print(f'  $format run: {result[\"spansAccepted\"]:>8} spans accepted ({result[\"spansPerSecond\"]} spans/s wall, 429: {result[\"refused429\"]}), CPU {cpu:.2f} s -> {result[\"spansAccepted\"] / cpu:,.0f} spans/s per core')
rates = [row[0] for row in rows]
print(f'$format: median {statistics.median(rates):,.0f} spans/s per core of regionwatch CPU (range {min(rates):,.0f}-{max(rates):,.0f}, {len(rates)} runs of $DURATION s, {1000} spans per request)')
"
done
