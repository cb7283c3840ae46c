#!/bin/sh
# CPU of regionwatch watching 50 regions through 200 collectors at 5 s intervals (per region:
# two exporters scraped, one PromQL query, one HTTP probe), all answered by one local static
# HTTP server (Python's ThreadingHTTPServer on 127.0.0.1), with the dashboard drawing in tmux. Prints the share
# of one core used by regionwatch alone (target: under 5%).
#
#   scripts/bench-collectors.sh            # 60 s, release binary
#   DURATION=30 BIN=.build/debug/regionwatch scripts/bench-collectors.sh
set -eu
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
BIN=${BIN:-.build/release/regionwatch}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
WORK=$(mktemp -d)
SOCKET="rwcollect-$$"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT INT TERM

# What the server answers: an exposition with a series per region, and a PromQL vector.
mkdir -p "$WORK/www/api/v1"
python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
regions = [f"region-{i:02d}" for i in range(50)]
for i, region in enumerate(regions):
    # Each region's exporter: its own series and some unrelated ones, as a node would expose.
    with open(f"{work}/www/metrics-{i}", "w") as out:
        out.write("# TYPE pg_replication_lag gauge\n")
        out.write(f'pg_replication_lag{{region="{region}"}} 0.4\n')
        out.write(f'http_requests_total{{region="{region}",code="200"}} 12345\n')
        for j in range(400):
            out.write(f'unrelated_metric{{instance="{j}"}} {j}\n')
    os.makedirs(f"{work}/www/r{i}/api/v1", exist_ok=True)
    with open(f"{work}/www/r{i}/api/v1/query", "w") as out:
        json.dump({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"region": region}, "value": [1700000000, "0.001"]}]}}, out)
with open(f"{work}/www/healthz", "w") as out:
    out.write("ok\n")
lines = ["topology: bench", "pattern: active-passive", "objectives: { rpo: 30s, rto: 5m }", "regions:"]
lines.append(f"  - {{ name: {regions[0]}, provider: local, role: primary, traffic: 100 }}")
lines += [f"  - {{ name: {r}, provider: local, role: standby, traffic: 0 }}" for r in regions[1:]]
lines.append("collectors:")
port = "PORT"
# Four collectors per region: two exporters scraped, one PromQL query, one health probe.
for i, region in enumerate(regions):
    for k in range(2):
        lines += [f"  - kind: prometheus-scrape", f"    name: scrape-{i}-{k}", f"    url: http://127.0.0.1:{port}/metrics-{i}", f"    region: {region}",
                  f"    interval: 5s", f"    signals: {{ replicationLagSeconds: pg_replication_lag, requestsPerSecond: http_requests_total }}"]
    lines += [f"  - kind: promql", f"    name: promql-{i}", f"    url: http://127.0.0.1:{port}/r{i}", f"    interval: 5s",
              f"    queries: {{ errorRate: 'sum by (region) (rate(errors[1m]))' }}"]
    lines += [f"  - kind: http-probe", f"    name: probe-{i}", f"    region: {region}", f"    url: http://127.0.0.1:{port}/healthz", f"    interval: 5s"]
open(f"{work}/bench.yaml", "w").write("\n".join(lines) + "\n")
with open(f"{work}/server.py", "w") as out:
    out.write("""import http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        sys.stderr.write("GET\\n")
http.server.ThreadingHTTPServer.request_queue_size = 512
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Quiet).serve_forever()
""")
PY
sed -i "s/PORT/$PORT/g" "$WORK/bench.yaml"
(cd "$WORK/www" && exec python3 "$WORK/server.py" "$PORT" > /dev/null 2> "$WORK/server.log") &
SERVER=$!
"$BIN" check-config "$WORK/bench.yaml"

tmux -L "$SOCKET" -f /dev/null new-session -d -s rw -x 160 -y 48 \
    "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$WORK $BIN --config $WORK/bench.yaml --otlp-listen off"
RW_PID=$(tmux -L "$SOCKET" display-message -p -t rw '#{pane_pid}')

. scripts/lib/cpu.sh

sleep 10   # let every collector start; this is a benchmark, not a test
RW_START=$(cpu_ns "$RW_PID"); SERVER_START=$(cpu_ns "$SERVER")
sleep "$DURATION"
RW_END=$(cpu_ns "$RW_PID"); SERVER_END=$(cpu_ns "$SERVER")
REQUESTS=$(grep -c 'GET' "$WORK/server.log" || true)
tmux -L "$SOCKET" capture-pane -p -t rw | head -4

awk -v rw=$((RW_END - RW_START)) -v server=$((SERVER_END - SERVER_START)) -v d="$DURATION" -v requests="$REQUESTS" 'BEGIN {
    printf "50 regions, 200 collectors at 5 s, over %d s (%d requests served in all)\n", d, requests
    printf "  regionwatch   %.2f%% of a core  (%.0f ms CPU; target under 5%%)\n", rw / (d * 1e9) * 100, rw / 1e6
    printf "  http.server   %.2f%% of a core  (the local targets, for scale)\n", server / (d * 1e9) * 100
}'
