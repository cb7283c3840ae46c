#!/bin/sh
# Formats the Swift sources with the toolchain's swift-format and the repository's
# .swift-format (120 columns). `scripts/format.sh --lint` changes nothing and fails on any
# difference or rule violation (.ci/run runs it). Generated sources are left as generated:
# the OTLP protobuf bindings and the embedded themes.
set -eu
cd "$(dirname "$0")/.."
files=$(find Package.swift Sources Tests Benchmarks -name '*.swift' \
    -not -path 'Sources/RegionWatchOTLPProtocol/Generated/*' \
    -not -name 'BuiltInThemes.swift' | sort)
if [ "${1:-}" = "--lint" ]; then
    # shellcheck disable=SC2086
    exec swift format lint --strict --parallel $files
fi
# shellcheck disable=SC2086
exec swift format format --in-place --parallel $files
