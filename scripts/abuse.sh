#!/bin/sh
# Starts regionwatch (release, demo topology, an OTLP receiver and a scrape collector) in tmux
# under `ulimit -n 1024`, then runs scripts/abuse.py against it: loopback only, bounded.
#
#   scripts/abuse.sh                 every attack (about 2 minutes)
#   scripts/abuse.sh idle bodies     some of them
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/regionwatch}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
SOCKET="rwabuse-$$"
STATE=$(mktemp -d)
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$STATE"' EXIT INT TERM
cat > "$STATE/abuse.yaml" <<YAML
topology: abuse
pattern: active-passive
objectives: { rpo: 30s, rto: 5m }
regions:
  - { name: us-east-1, provider: aws, role: primary, traffic: 100 }
  - { name: eu-west-1, provider: aws, role: standby, traffic: 0 }
collectors:
  - { kind: simulator, interval: 1s }
  - { kind: otlp, listen: 127.0.0.1:14418 }
  - kind: prometheus-scrape
    url: http://127.0.0.1:14419/metrics
    interval: 1s
    signals: { replicationLagSeconds: pg_replication_lag, requestsPerSecond: http_requests_total }
YAML
"$BIN" check-config "$STATE/abuse.yaml" >/dev/null
tmux -L "$SOCKET" -f /dev/null new-session -d -s rw -x 120 -y 40 \
    "ulimit -n 1024; exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$STATE $BIN --config $STATE/abuse.yaml"
sleep 1
PID=$(tmux -L "$SOCKET" display-message -p -t rw '#{pane_pid}')
python3 scripts/abuse.py "$PID" "$@"
