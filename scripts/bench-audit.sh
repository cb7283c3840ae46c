#!/bin/sh
# `regionwatch audit` on a long audit log: wall time and peak RSS, for one binary or two
# (BASE= an older binary, run on the same log in the same run for a ratio).
#
#   scripts/bench-audit.sh                       # 1,000,000 entries, release binary
#   ENTRIES=100000 BASE=/tmp/old/regionwatch scripts/bench-audit.sh
#
# The log is the worst case the issue reported: every entry an attempt confirmed and never
# finished (a crash loop), plus finished attempts every tenth line.
set -eu
cd "$(dirname "$0")/.."
ENTRIES=${ENTRIES:-1000000}
BIN=${BIN:-.build/release/regionwatch}
[ -x "$BIN" ] || swift build -c release --product regionwatch >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM

python3 - "$WORK/audit.jsonl" "$ENTRIES" <<'PY'
import json, sys
path, count = sys.argv[1], int(sys.argv[2])
gates = [{"gate": "lock", "measured": "free", "passed": True}]
with open(path, "w") as log:
    for index in range(count):
        entry = {"type": "confirmed", "id": f"a{index}", "at": "2026-12-01T06:38:29.364Z",
                 "atEpochSeconds": 1796107109.36 + index, "kind": "failover", "from": "us-east-1",
                 "to": "eu-west-1", "operator": "op@host", "reason": "crash loop", "gates": gates,
                 "rtoObjectiveSeconds": 300}
        if index % 10 == 9:
            entry.update(type="finished", id=f"a{index - 1}", state="completed", steps=[], measuredRtoSeconds=12.5)
        log.write(json.dumps(entry, separators=(",", ":")) + "\n")
PY
cat > "$WORK/config.yaml" <<YAML
topology: bench
pattern: active-passive
objectives: { rpo: 30s, rto: 5m }
collectors:
  - { kind: simulator, interval: 1s }
regions:
  - { name: us-east-1, provider: aws, role: primary, traffic: 100 }
  - { name: eu-west-1, provider: aws, role: standby, traffic: 0 }
failover:
  auditLog: $WORK/audit.jsonl
YAML
echo "audit log: $ENTRIES entries, $(du -h "$WORK/audit.jsonl" | cut -f1)"

measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$1" audit --config "$WORK/config.yaml" > "$WORK/out" 2>"$WORK/err" \
        || { echo "$1 audit failed:"; cat "$WORK/err"; exit 1; }
    read -r seconds kilobytes < "$WORK/time"
    printf '%-40s %8.2f s  peak RSS %7.1f MB  %s lines out\n' "$1" "$seconds" "$(echo "$kilobytes / 1024" | bc -l)" "$(wc -l < "$WORK/out")"
}
[ -n "${BASE:-}" ] && measure "$BASE"
measure "$BIN"
