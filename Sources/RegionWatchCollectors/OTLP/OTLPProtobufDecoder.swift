import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol
import SwiftProtobuf

typealias ExportTraceServiceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias LazyExportRequest = Regionwatch_Otlp_Lazy_ExportTraceServiceRequest
typealias ExportTraceServiceResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse

/// Decodes `application/x-protobuf` OTLP trace exports with swift-protobuf.
public enum OTLPProtobufDecoder {
    /// Nesting allowed in attribute values (arrays and maps inside each other).
    static let depthLimit = 64

    /// Decodes `bytes` into spans. Throws for a body that is not an ExportTraceServiceRequest.
    ///
    /// Uses the lazy view of the request (Protos/regionwatch/otlp_trace_lazy.proto, generated
    /// like the OTLP code): span attributes, events and links stay in their wire encoding and
    /// are decoded only when a span's detail is shown (see docs/DECISIONS.md).
    public static func decode(
        _ bytes: [UInt8], attribution: RegionAttribution, source: String, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedExport {
        try DecodedExport.decoding(bytes) { buffer throws(OTLPDecodingError) in
            try decode(buffer, attribution: attribution, source: source, receivedAt: receivedAt)
        }
    }

    /// Decodes bytes the caller owns (the receiver's connection buffer), without copying them.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, attribution: RegionAttribution, source: String, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedExport {
        let request = try message(LazyExportRequest.self, from: bytes, named: OTLPSignal.traces.requestName)
        var accumulator = ExportAccumulator()
        var details = DetailBuffer()
        accumulator.spans.reserveCapacity(
            request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } })
        for resourceSpans in request.resourceSpans {
            let resourceIndex = accumulator.resources.count
            accumulator.resources.append(attribution.resource(from: attributes(resourceSpans.resource.attributes)))
            for scopeSpans in resourceSpans.scopeSpans {
                let scopeIndex = accumulator.scopes.count
                accumulator.scopes.append(SpanScope(name: scopeSpans.scope.name, version: scopeSpans.scope.version))
                for span in scopeSpans.spans {
                    convert(
                        span, resourceIndex: resourceIndex, scopeIndex: scopeIndex, details: &details,
                        into: &accumulator)
                }
            }
        }
        // Every span's details are a slice of one buffer.
        let shared = details.bytes
        for (position, range) in details.ranges {
            accumulator.spans[position].encodedDetails = shared[range]
        }
        return accumulator.export(source: source, receivedAt: receivedAt)
    }

    /// The request message `type` parsed from `bytes` (the three signals' decoders share the
    /// checks): an empty or malformed body is a decoding error naming the problem.
    static func message<Message: SwiftProtobuf.Message>(
        _ type: Message.Type, from bytes: UnsafeRawBufferPointer, named name: String
    ) throws(OTLPDecodingError) -> Message {
        guard !bytes.isEmpty else { throw OTLPDecodingError("empty body: expected an \(name)") }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = depthLimit
        do {
            return try Message(serializedBytes: bytes.bytes, options: options)
        } catch {
            throw OTLPDecodingError("malformed protobuf body: \(describe(error))")
        }
    }

    /// The details of a batch's spans, written one after another.
    private struct DetailBuffer {
        var bytes: [UInt8] = []
        var ranges: [(position: Int, range: Range<Int>)] = []
    }

    /// Only the swift-protobuf parse of the full OTLP graph (for benchmarks).
    public static func parseOnly(_ bytes: [UInt8]) throws -> Int {
        try ExportTraceServiceRequest(serializedBytes: bytes).resourceSpans.count
    }

    /// Only the lazy view's parse (for benchmarks).
    public static func parseLazyOnly(_ bytes: [UInt8]) throws -> Int {
        try LazyExportRequest(serializedBytes: bytes).resourceSpans.count
    }

    private static func convert(
        _ span: Regionwatch_Otlp_Lazy_Span, resourceIndex: Int, scopeIndex: Int, details: inout DetailBuffer,
        into accumulator: inout ExportAccumulator
    ) {
        guard let traceID = span.traceID.withUnsafeBytes({ TraceID(bytes: $0) }) else {
            accumulator.reject("invalid trace id (\(span.traceID.count) bytes)")
            return
        }
        guard let spanID = span.spanID.withUnsafeBytes({ SpanID(bytes: $0) }) else {
            accumulator.reject("invalid span id (\(span.spanID.count) bytes)")
            return
        }
        var parent = SpanID.none
        if !span.parentSpanID.isEmpty {
            guard let parsed = span.parentSpanID.withUnsafeBytes({ SpanID(bytes: $0) }) else {
                accumulator.reject("invalid parent span id (\(span.parentSpanID.count) bytes)")
                return
            }
            parent = parsed
        }
        let before = accumulator.spans.count
        accumulator.add(
            IncomingSpan(
                traceID: traceID, spanID: spanID, parentSpanID: parent, name: span.name,
                kind: SpanKind(rawValue: UInt8(clamping: span.kind)) ?? .unspecified,
                startUnixNano: span.startTimeUnixNano, endUnixNano: span.endTimeUnixNano,
                statusCode: SpanStatusCode(rawValue: UInt8(clamping: span.status.code)) ?? .unset,
                statusMessage: span.status.message,
                resourceIndex: resourceIndex, scopeIndex: scopeIndex
            ))
        guard accumulator.spans.count > before else { return }
        let start = details.bytes.count
        appendDetails(of: span, to: &details.bytes)
        if details.bytes.count > start {
            details.ranges.append((before, start..<details.bytes.count))
        }
    }

    /// The span's attribute, event and link fields, re-tagged exactly as OTLP encodes them.
    private static func appendDetails(of span: Regionwatch_Otlp_Lazy_Span, to bytes: inout [UInt8]) {
        guard !span.attributes.isEmpty || !span.events.isEmpty || !span.links.isEmpty || span.droppedAttributesCount > 0
        else { return }
        func appendVarint(_ value: UInt64) {
            var remaining = value
            while remaining >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
                remaining >>= 7
            }
            bytes.append(UInt8(remaining))
        }
        // Data's own byte iterator is slow; copy through its buffer.
        func append(_ tag: UInt8, _ field: Data) {
            bytes.append(tag)
            appendVarint(UInt64(field.count))
            field.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        for field in span.attributes { append(OTLPWire.SpanTag.attribute, field) }
        if span.droppedAttributesCount > 0 {
            bytes.append(OTLPWire.SpanTag.droppedAttributes)
            appendVarint(UInt64(span.droppedAttributesCount))
        }
        for field in span.events { append(OTLPWire.SpanTag.event, field) }
        for field in span.links { append(OTLPWire.SpanTag.link, field) }
    }

    static func attributes(_ keyValues: [Opentelemetry_Proto_Common_V1_KeyValue]) -> [Attribute] {
        keyValues.map { Attribute($0.key, value($0.value)) }
    }

    static func value(_ any: Opentelemetry_Proto_Common_V1_AnyValue) -> AttributeValue {
        switch any.value {
        case .stringValue(let value): .string(value)
        case .boolValue(let value): .bool(value)
        case .intValue(let value): .int(value)
        case .doubleValue(let value): .double(value)
        case .bytesValue(let value): .bytes([UInt8](value))
        case .arrayValue(let array): .array(array.values.map(value))
        case .kvlistValue(let list): .map(attributes(list.values))
        // Profiles' string-table references mean nothing in a trace export.
        case .stringValueStrindex, .none: .empty
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case BinaryDecodingError.truncated: "truncated message"
        case BinaryDecodingError.malformedProtobuf: "malformed protobuf"
        case BinaryDecodingError.invalidUTF8: "a string field is not valid UTF-8"
        case BinaryDecodingError.messageDepthLimit: "nesting deeper than \(depthLimit) levels"
        default: String(describing: error)
        }
    }

    /// A `google.rpc.Status` (code 1, message 2), the body OTLP asks for with failure statuses.
    public static func status(code: Int32, message: String) -> [UInt8] {
        var bytes: [UInt8] = [0x08]
        var value = UInt64(UInt32(bitPattern: code))
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        let utf8 = Array(message.utf8)
        bytes.append(0x12)
        var length = UInt64(utf8.count)
        while length >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
        return bytes + utf8
    }
}
