#!/bin/sh
# Idle CPU of the demo at a 1 s refresh, measured beside `htop -d 10` (htop refreshing once a
# second) in the same tmux size, in the same run. Prints both and their ratio.
#
#   scripts/bench-idle-cpu.sh              # 30 s, release binary
#   DURATION=60 BIN=.build/debug/regionwatch scripts/bench-idle-cpu.sh
set -eu
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
BIN=${BIN:-.build/release/regionwatch}
WIDTH=${WIDTH:-120}
HEIGHT=${HEIGHT:-40}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
command -v htop >/dev/null || { echo "htop is not installed (apt-get install htop)"; exit 1; }
SOCKET="rwbench-$$"
STATE=$(mktemp -d)
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$STATE"' EXIT INT TERM

tmux -L "$SOCKET" -f /dev/null new-session -d -s rw -x "$WIDTH" -y "$HEIGHT" \
    "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$STATE $BIN --refresh 1"
tmux -L "$SOCKET" new-session -d -s htop -x "$WIDTH" -y "$HEIGHT" \
    "exec env TERM=xterm-256color HTOPRC=/dev/null htop -d 10"
RW_PID=$(tmux -L "$SOCKET" display-message -p -t rw '#{pane_pid}')
HTOP_PID=$(tmux -L "$SOCKET" display-message -p -t htop '#{pane_pid}')

. scripts/lib/cpu.sh

sleep 5   # let both start up; this is a benchmark, not a test
RW_START=$(cpu_ns "$RW_PID"); HTOP_START=$(cpu_ns "$HTOP_PID")
sleep "$DURATION"
RW_END=$(cpu_ns "$RW_PID"); HTOP_END=$(cpu_ns "$HTOP_PID")

awk -v rw=$((RW_END - RW_START)) -v htop=$((HTOP_END - HTOP_START)) -v d="$DURATION" -v size="${WIDTH}x${HEIGHT}" 'BEGIN {
    rwp = rw / (d * 1e9) * 100; hp = htop / (d * 1e9) * 100
    printf "idle CPU over %d s at %s, 1 s refresh\n", d, size
    printf "  regionwatch (demo)  %.3f%% of a core  (%.1f ms CPU)\n", rwp, rw / 1e6
    printf "  htop -d 10          %.3f%% of a core  (%.1f ms CPU)\n", hp, htop / 1e6
    printf "  ratio regionwatch/htop = %.2f (target: at most 0.5)\n", (hp > 0 ? rwp / hp : 0)
}'
