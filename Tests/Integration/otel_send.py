#!/usr/bin/env python3
"""Sends traces to an OTLP endpoint with the real OpenTelemetry Python SDK, as a service
instrumented in several regions would. Used by the integration tests, and to capture request
bodies as decoder fixtures.

    otel_send.py --endpoint http://127.0.0.1:4318/v1/traces --exporter proto --name checkout-e2e
    otel_send.py --endpoint 127.0.0.1:4317 --exporter grpc           # OTLP/gRPC, plaintext
    otel_send.py --capture out.bin --exporter json         # write the request body instead

Prints the hex trace ids it sent, one per line.
"""
import argparse
import http.server
import threading
import time

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

parser = argparse.ArgumentParser()
parser.add_argument("--endpoint", default="http://127.0.0.1:4318/v1/traces")
parser.add_argument("--exporter", choices=["proto", "json", "grpc"], default="proto")
parser.add_argument("--name", default="checkout-e2e", help="root operation name prefix")
parser.add_argument("--capture", help="write the first request body to this file instead of sending")
parser.add_argument("--token", help="bearer token")
args = parser.parse_args()

if args.exporter == "proto":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
elif args.exporter == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter

captured = []
if args.capture:
    class Capture(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            captured.append((self.headers.get("Content-Type"), self.headers.get("Content-Encoding"), body))
            self.send_response(200)
            self.send_header("Content-Type", self.headers.get("Content-Type"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *arguments):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}/v1/traces"
else:
    endpoint = args.endpoint

headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
if args.exporter == "grpc" and headers:
    headers = {"authorization": f"Bearer {args.token}"}  # gRPC metadata keys are lower case


def provider(region, provider_name, service, version):
    resource = Resource.create({
        "service.name": service,
        "service.version": version,
        "cloud.region": region,
        "cloud.provider": provider_name,
        "deployment.environment": "integration-test",
    })
    tracer_provider = TracerProvider(resource=resource)
    options = {"endpoint": endpoint}
    if headers:
        options["headers"] = headers
    if args.exporter == "grpc":
        options["insecure"] = True  # plaintext on loopback
    exporter = OTLPSpanExporter(**options)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


eu = provider("eu-west-1", "aws", "storefront", "5.2.0")
us = provider("us-east-1", "aws", "orders-db", "15.6")
ap = provider("ap-southeast-1", "gcp", "inventory", "2.0.1")

sent = []
eu_tracer = eu.get_tracer("storefront.http", "1.0.0")
us_tracer = us.get_tracer("orders.sql", "1.0.0")
ap_tracer = ap.get_tracer("inventory.rpc", "1.0.0")

# A checkout in eu-west-1 writing to the primary database in us-east-1 and asking inventory in
# ap-southeast-1, which fails.
with eu_tracer.start_as_current_span(f"{args.name} POST /checkout", kind=SpanKind.SERVER, attributes={
    "http.request.method": "POST", "http.route": "/checkout", "http.response.status_code": 500,
    "cart.items": 3, "cart.total": 129.5, "user.vip": True, "tags": ["fast", "priority"],
}) as root:
    sent.append(format(root.get_span_context().trace_id, "032x"))
    with eu_tracer.start_as_current_span("INSERT orders", kind=SpanKind.CLIENT, attributes={"db.system": "postgresql"}) as client:
        context = trace.set_span_in_context(client)
        with us_tracer.start_as_current_span("INSERT orders", context=context, kind=SpanKind.SERVER, attributes={"db.statement": "INSERT INTO orders VALUES ($1)"}):
            time.sleep(0.01)
    with eu_tracer.start_as_current_span("inventory.Reserve", kind=SpanKind.CLIENT) as client:
        context = trace.set_span_in_context(client)
        with ap_tracer.start_as_current_span("Reserve", context=context, kind=SpanKind.SERVER) as server:
            error = RuntimeError("out of stock: sku-42")
            server.record_exception(error)
            server.set_status(Status(StatusCode.ERROR, "out of stock"))
        client.set_status(Status(StatusCode.ERROR, "inventory failed"))
    root.add_event("checkout.failed", {"reason": "inventory"})
    root.set_status(Status(StatusCode.ERROR, "HTTP 500"))

# A plain read in us-east-1.
with us_tracer.start_as_current_span(f"{args.name} GET /orders", kind=SpanKind.SERVER, attributes={"http.request.method": "GET"}) as root:
    sent.append(format(root.get_span_context().trace_id, "032x"))

for tracer_provider in (eu, us, ap):
    tracer_provider.force_flush()
    tracer_provider.shutdown()

if args.capture:
    # Concatenate nothing: keep each request body in its own numbered file.
    for index, (content_type, encoding, body) in enumerate(captured):
        with open(f"{args.capture}.{index}", "wb") as out:
            out.write(body)
    print(f"captured {len(captured)} requests ({captured[0][0] if captured else 'none'})")
for trace_id in sent:
    print(trace_id)
