#!/bin/sh
# Regenerates the OTLP protobuf Swift code in Sources/RegionWatchOTLPProtocol/Generated: the
# OTLP trace, metrics and logs messages and their collector service requests. (Spans and log
# records are read from the wire by hand, see docs/DECISIONS.md §28; these messages serve the
# rest.)
#
# The .proto definitions are not vendored: they come from the `opentelemetry-proto` package on
# PyPI, whose generated Python modules embed the exact FileDescriptorProtos. Those are written
# to a descriptor set and fed to protoc (from `grpcio-tools`) with swift-protobuf's plugin,
# built from the same swift-protobuf version the package depends on. Run once after changing
# versions; commit the result. Needs: python3, network access to PyPI, a Swift toolchain.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OTLP_VERSION=${OTLP_VERSION:-1.45.2}
SWIFT_PROTOBUF_VERSION=${SWIFT_PROTOBUF_VERSION:-1.39.0}
WORK=${WORK:-$(mktemp -d)}
OUT="$ROOT/Sources/RegionWatchOTLPProtocol/Generated"

[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "opentelemetry-proto==$OTLP_VERSION" grpcio-tools

if [ ! -x "$WORK/swift-protobuf/.build/release/protoc-gen-swift" ]; then
    git clone -q --branch "$SWIFT_PROTOBUF_VERSION" https://github.com/apple/swift-protobuf "$WORK/swift-protobuf"
    (cd "$WORK/swift-protobuf" && swift build -c release --product protoc-gen-swift)
fi

"$WORK/venv/bin/python" - "$WORK/otlp.descriptors" <<'PYTHON'
import sys
from google.protobuf import descriptor_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

seen, files = set(), []
def collect(file_descriptor):
    for dependency in file_descriptor.dependencies:
        collect(dependency)
    if file_descriptor.name not in seen:
        seen.add(file_descriptor.name)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        files.append(proto)
for service in (trace_service_pb2, metrics_service_pb2, logs_service_pb2):
    collect(service.DESCRIPTOR)
with open(sys.argv[1], "wb") as out:
    out.write(descriptor_pb2.FileDescriptorSet(file=files).SerializeToString())
print("descriptor set:", ", ".join(f.name for f in files))
PYTHON

mkdir -p "$OUT"
rm -f "$OUT"/*.pb.swift
"$WORK/venv/bin/python" -m grpc_tools.protoc \
    --descriptor_set_in="$WORK/otlp.descriptors" \
    --plugin=protoc-gen-swift="$WORK/swift-protobuf/.build/release/protoc-gen-swift" \
    --swift_opt=Visibility=Public \
    --swift_opt=FileNaming=PathToUnderscores \
    --swift_out="$OUT" \
    opentelemetry/proto/common/v1/common.proto \
    opentelemetry/proto/resource/v1/resource.proto \
    opentelemetry/proto/trace/v1/trace.proto \
    opentelemetry/proto/collector/trace/v1/trace_service.proto \
    opentelemetry/proto/metrics/v1/metrics.proto \
    opentelemetry/proto/collector/metrics/v1/metrics_service.proto \
    opentelemetry/proto/logs/v1/logs.proto \
    opentelemetry/proto/collector/logs/v1/logs_service.proto
ls -l "$OUT"
