@testable import RegionWatchCore

/// Builders for spans in tests. Times are milliseconds after a fixed epoch.
enum Spans {
    static let base: UInt64 = 1_795_789_800_000_000_000

    static func resource(_ region: String, service: String = "api", version: String? = nil) -> SpanResource {
        SpanResource(
            region: region, provider: "aws", service: service, serviceVersion: version,
            attributes: [Attribute("service.name", .string(service)), Attribute("cloud.region", .string(region))])
    }

    static func span(
        trace: UInt64, id: UInt64, parent: UInt64 = 0, name: String = "op", kind: SpanKind = .internal, start: Double,
        duration: Double, status: SpanStatusCode = .unset, resource: Int = 0, attributes: [Attribute] = []
    ) -> IncomingSpan {
        IncomingSpan(
            traceID: TraceID(high: 0xABCD, low: trace), spanID: SpanID(id), parentSpanID: SpanID(parent), name: name,
            kind: kind,
            startUnixNano: base + UInt64(start * 1e6), endUnixNano: base + UInt64((start + duration) * 1e6),
            statusCode: status, attributes: attributes, resourceIndex: resource, scopeIndex: 0
        )
    }

    static func batch(
        _ spans: [IncomingSpan], resources: [SpanResource] = [resource("us-east-1")], at seconds: Double = 0
    ) -> SpanBatch {
        SpanBatch(
            source: "test", receivedAt: Timestamp(secondsSinceEpoch: 1_795_789_800 + seconds), resources: resources,
            scopes: [SpanScope(name: "test", version: "1")], spans: spans)
    }

    static func trace(_ id: UInt64) -> TraceID { TraceID(high: 0xABCD, low: id) }

    static func info(
        _ id: UInt64, parent: UInt64 = 0, region: String = "a", start: Double, duration: Double,
        status: SpanStatusCode = .unset
    ) -> SpanInfo {
        SpanInfo(
            spanID: SpanID(id), parentSpanID: SpanID(parent), name: "s\(id)", service: "svc", region: region,
            kind: .internal, status: status, startUnixNano: base + UInt64(start * 1e6),
            durationNanos: UInt64(duration * 1e6))
    }
}
