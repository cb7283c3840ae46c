#!/usr/bin/env python3
"""Sends a trace, logs in that trace, and HTTP server metrics to an OTLP endpoint with the real
OpenTelemetry Python SDK, as a service in one region would. Used by the integration tests.

    otel_signals.py --exporter grpc --endpoint 127.0.0.1:4317 --region eu-west-1
    otel_signals.py --exporter proto --endpoint http://127.0.0.1:4318 --region eu-west-1
    otel_signals.py --exporter json --endpoint http://127.0.0.1:4318 --region eu-west-1

Metrics: `http.server.request.duration` (seconds, explicit buckets) exported twice, cumulative.
Between the two exports (and every second of --linger) the service serves 190 requests of 30 ms
with status 200 and 10 of 600 ms with status 503: each interval's error rate is 5 % and its p99
lies in (0.5 s, 0.75 s].
Prints the trace id it sent.
"""
import argparse
import logging
import time

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

parser = argparse.ArgumentParser()
parser.add_argument("--endpoint", required=True, help="HOST:PORT for grpc, else http://HOST:PORT")
parser.add_argument("--exporter", choices=["proto", "json", "grpc"], default="proto")
parser.add_argument("--region", default="eu-west-1")
parser.add_argument("--service", default="payments")
parser.add_argument("--linger", type=float, default=0,
                    help="then keep serving the same mix and exporting every second for this long")
args = parser.parse_args()

if args.exporter == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
elif args.exporter == "proto":
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter


def options(signal):
    if args.exporter == "grpc":
        return {"endpoint": args.endpoint, "insecure": True}
    return {"endpoint": f"{args.endpoint}/v1/{signal}"}


resource = Resource.create({
    "service.name": args.service, "cloud.region": args.region, "cloud.provider": "aws",
    "service.instance.id": f"{args.service}-{args.exporter}",
})

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(**options("traces"))))
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(**options("logs"))))
reader = PeriodicExportingMetricReader(OTLPMetricExporter(**options("metrics")), export_interval_millis=3_600_000)
boundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
meter_provider = MeterProvider(
    resource=resource, metric_readers=[reader],
    views=[View(instrument_name="http.server.request.duration",
                aggregation=ExplicitBucketHistogramAggregation(boundaries))])

log = logging.getLogger("payments")
log.setLevel(logging.INFO)
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.propagate = False

tracer = tracer_provider.get_tracer("payments.http", "1.0.0")
with tracer.start_as_current_span(f"signals-{args.exporter} POST /pay", kind=SpanKind.SERVER) as span:
    trace_id = format(span.get_span_context().trace_id, "032x")
    log.info("charging card for order 42")
    log.error("payment declined for order 42: card expired (%s)", args.exporter)
    span.set_status(Status(StatusCode.ERROR, "declined"))
log.warning("outside any trace (%s)", args.exporter)

duration = meter_provider.get_meter("payments.http").create_histogram(
    "http.server.request.duration", unit="s", description="Duration of HTTP server requests.")
ok = {"http.request.method": "POST", "http.route": "/pay", "http.response.status_code": 200}
failed = dict(ok, **{"http.response.status_code": 503, "error.type": "503"})
for _ in range(100):
    duration.record(0.02, ok)
meter_provider.force_flush()
time.sleep(1.0)


def serve_one_second_of_traffic():
    for _ in range(190):
        duration.record(0.03, ok)
    for _ in range(10):
        duration.record(0.6, failed)
    meter_provider.force_flush()


serve_one_second_of_traffic()
deadline = time.monotonic() + args.linger
while time.monotonic() < deadline:
    time.sleep(1.0)
    serve_one_second_of_traffic()

for provider in (tracer_provider, logger_provider, meter_provider):
    provider.force_flush()
    provider.shutdown()
print(trace_id)
