#!/bin/sh
# Fuzzes every parser and decoder with libFuzzer (and AddressSanitizer): OTLP protobuf and
# JSON, the Prometheus exposition parser, PromQL responses, the YAML configuration and theme
# readers, the audit log reader. Fails on any crash, leak or timeout.
#
#   scripts/fuzz.sh                 each target for 30 s (what .ci/run does)
#   SECONDS_PER_TARGET=3600 scripts/fuzz.sh otlp-protobuf     one target, one hour (releases)
#
# A crash leaves its input in .build-fuzz/artifacts/; replay it with the plain binary
# (`swift run regionwatch-fuzz TARGET FILE`) and make it a unit test.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-30}
TARGETS=${*:-"otlp-protobuf otlp-json exposition promql config theme audit-log"}
BUILD=.build-fuzz

swift build -c release --build-path "$BUILD" --product regionwatch-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DREGIONWATCH_FUZZING
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
    echo "== $target: $SECONDS_PER_TARGET s"
    log="$BUILD/$target.log"
    if REGIONWATCH_FUZZ_TARGET=$target "$BINARY" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$target-" "$BUILD/corpus/$target" > "$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        echo "   $runs executions, no crash"
    else
        echo "   FAILED: see $log"; tail -30 "$log"; status=1
    fi
done
exit $status
