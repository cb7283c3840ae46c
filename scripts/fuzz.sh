#!/bin/sh
# Fuzzes every parser and decoder with libFuzzer (and AddressSanitizer): OTLP protobuf and
# JSON, the Prometheus exposition parser, PromQL responses, the YAML configuration and theme
# readers, the audit log reader. Fails on any crash, leak or timeout.
#
#   scripts/fuzz.sh                 each target for 30 s (what .ci/run does)
#   SECONDS_PER_TARGET=3600 scripts/fuzz.sh otlp-protobuf     one target, one hour (releases)
#   RUNS_PER_TARGET=10000000 scripts/fuzz.sh config          one target, 10,000,000 executions
#   SKIP_BUILD=1 FUZZ_FLAGS=-max_len=4096 scripts/fuzz.sh …  reuse the binary; extra flags
#
# A crash leaves its input in .build-fuzz/artifacts/; replay it with the plain binary
# (`swift run regionwatch-fuzz TARGET FILE`) and make it a unit test.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-30}
TARGETS=${*:-"otlp-protobuf otlp-json otlp-logs-protobuf otlp-logs-json otlp-metrics-protobuf otlp-metrics-json exposition promql config theme audit-log"}
BUILD=.build-fuzz

if [ -z "${SKIP_BUILD:-}" ]; then
    swift build -c release --build-path "$BUILD" --product regionwatch-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DREGIONWATCH_FUZZING
fi
if [ -n "${RUNS_PER_TARGET:-}" ]; then LENGTH="-runs=$RUNS_PER_TARGET"; else LENGTH="-max_total_time=$SECONDS_PER_TARGET"; fi
BINARY="$BUILD/release/regionwatch-fuzz"

# Seed corpora: the test fixtures (real OpenTelemetry SDK exports), the examples, the seeds.
mkdir -p "$BUILD/artifacts"
for target in $TARGETS; do
    corpus="$BUILD/corpus/$target"
    mkdir -p "$corpus"
    case $target in
        otlp-protobuf) cp Tests/RegionWatchCollectorsTests/Fixtures/python-sdk-proto.* "$corpus/" ;;
        otlp-json) cp Tests/RegionWatchCollectorsTests/Fixtures/python-sdk-json.* "$corpus/" ;;
        config) cp examples/*.yaml "$corpus/" ;;
        theme) cp themes/*.yaml "$corpus/" ;;
        *) cp Fuzz/seeds/"$target"/* "$corpus/" ;;
    esac
done

status=0
for target in $TARGETS; do
    echo "== $target: ${RUNS_PER_TARGET:-$SECONDS_PER_TARGET s} $(date +%H:%M:%S)"
    log="$BUILD/$target.log"
    if REGIONWATCH_FUZZ_TARGET=$target "$BINARY" "$LENGTH" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 ${FUZZ_FLAGS:-} -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$target-" "$BUILD/corpus/$target" > "$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        echo "   $runs executions, no crash ($(date +%H:%M:%S))"
    else
        echo "   FAILED: see $log"; tail -30 "$log"; status=1
    fi
done
exit $status
