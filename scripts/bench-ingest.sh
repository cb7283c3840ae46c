#!/bin/sh
# Sustained OTLP ingest with the UI running: regionwatch (release, built-in demo, 120x40 in
# tmux) receives requests of 1,000 items from `regionwatch loadgen` over OTLP/HTTP (protobuf,
# then JSON) and OTLP/gRPC; the figure is items accepted per second of regionwatch CPU time
# (all its threads). The first seconds fill the trace store, so traces are measured at
# capacity (eviction running), as a long-running dashboard ingests.
#
#   scripts/bench-ingest.sh                          # traces: http protobuf, http json, grpc
#   SIGNAL=logs scripts/bench-ingest.sh              # logs (metrics likewise)
#   MODES="grpc http-protobuf" REPEAT=3 DURATION=20 CONNECTIONS=4 scripts/bench-ingest.sh
#
# This machine is shared and noisy: single runs of the same binary vary by ±40%, so the
# script reports every run, their median and range.
set -eu
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-5}
CONNECTIONS=${CONNECTIONS:-4}
SIGNAL=${SIGNAL:-traces}
MODES=${MODES:-http-protobuf http-json grpc}
SPANS=${SPANS:-1000}
BIN=${BIN:-.build/release/regionwatch}
PORT=${PORT:-14400}
GRPC_PORT=${GRPC_PORT:-14401}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
SOCKET="rwingest-$$"
STATE=$(mktemp -d)
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$STATE"' EXIT INT TERM

. scripts/lib/cpu.sh

tmux -L "$SOCKET" -f /dev/null new-session -d -s rw -x 120 -y 40 \
    "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$STATE ${EXTRA_ENV:-} $BIN --demo --otlp-listen 127.0.0.1:$PORT --otlp-grpc-listen 127.0.0.1:$GRPC_PORT"
PID=$(tmux -L "$SOCKET" display-message -p -t rw '#{pane_pid}')
sleep 2
# Show the traces screen while ingesting (the list re-sorts live).
[ "${SCREEN:-traces}" = traces ] && tmux -L "$SOCKET" send-keys -t rw t

for mode in $MODES; do
    case $mode in
        grpc) ARGS="--protocol grpc --target 127.0.0.1:$GRPC_PORT" ;;
        http-json) ARGS="--protocol http --format json --target 127.0.0.1:$PORT" ;;
        *) ARGS="--protocol http --format protobuf --target 127.0.0.1:$PORT" ;;
    esac
    # Warm up (and fill the store), then measure REPEAT times.
    "$BIN" loadgen $ARGS --signal "$SIGNAL" --items-per-request "$SPANS" --duration 3 --connections "$CONNECTIONS" >/dev/null
    RUNS=""
    for run in $(seq 1 "$REPEAT"); do
        BEFORE=$(cpu_ns "$PID")
        RESULT=$("$BIN" loadgen $ARGS --signal "$SIGNAL" --items-per-request "$SPANS" --duration "$DURATION" --connections "$CONNECTIONS" --json)
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
    rows.append((result['itemsAccepted'] / cpu, result, cpu))
    print(f'  $mode run: {result[\"itemsAccepted\"]:>8} $SIGNAL items accepted ({result[\"itemsPerSecond\"]}/s wall, refused: {result[\"refused429\"]}), CPU {cpu:.2f} s -> {result[\"itemsAccepted\"] / cpu:,.0f}/s per core')
rates = [row[0] for row in rows]
print(f'$SIGNAL $mode: median {statistics.median(rates):,.0f} items/s per core of regionwatch CPU (range {min(rates):,.0f}-{max(rates):,.0f}, {len(rates)} runs of $DURATION s, $SPANS per request, $CONNECTIONS connections)')
"
done
