import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol
import SwiftProtobuf

typealias ExportTraceServiceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias ExportTraceServiceResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse

/// Decodes `application/x-protobuf` OTLP trace exports.
public enum OTLPProtobufDecoder {
    /// Nesting allowed in attribute values (arrays and maps inside each other).
    static let depthLimit = 64

    /// Decodes `bytes` into spans. Throws for a body that is not an ExportTraceServiceRequest.
    ///
    /// Spans are read straight from the wire (`SpanWireReader`): their attributes, events and
    /// links stay in their wire encoding, copied into one buffer per request, and are decoded
    /// only when a span's detail is shown (see docs/DECISIONS.md).
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
        guard !bytes.isEmpty else {
            throw OTLPDecodingError("empty body: expected an \(OTLPSignal.traces.requestName)")
        }
        var reader = SpanWireReader(body: bytes, attribution: attribution)
        try reader.readRequest()
        return reader.export(source: source, receivedAt: receivedAt)
    }

    /// The request message `type` parsed from `bytes` (the three signals' decoders share the
    /// checks): an empty or malformed body is a decoding error naming the problem.
    static func message<Message: SwiftProtobuf.Message>(
        _ type: Message.Type, from bytes: UnsafeRawBufferPointer, named name: String
    ) throws(OTLPDecodingError) -> Message {
        guard !bytes.isEmpty else { throw OTLPDecodingError("empty body: expected an \(name)") }
        return try message(type, in: bytes, at: 0..<bytes.count)
    }

    /// Only the swift-protobuf parse of the full OTLP graph (for benchmarks).
    public static func parseOnly(_ bytes: [UInt8]) throws -> Int {
        try ExportTraceServiceRequest(serializedBytes: bytes).resourceSpans.count
    }

    /// A message swift-protobuf parses (a resource's attribute, a scope) from `range` of a
    /// body, with the depth limit; damage throws as for the whole request.
    static func message<Message: SwiftProtobuf.Message>(
        _ type: Message.Type, in body: UnsafeRawBufferPointer, at range: Range<Int>
    ) throws(OTLPDecodingError) -> Message {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = depthLimit
        let field = UnsafeRawBufferPointer(rebasing: body[range])
        do {
            return try Message(serializedBytes: field.bytes, options: options)
        } catch {
            throw OTLPDecodingError("malformed protobuf body: \(describe(error))")
        }
    }

    /// The `Resource` message at `range` of a body, attributed to its region.
    static func resource(
        in body: UnsafeRawBufferPointer, at range: Range<Int>, attribution: RegionAttribution
    ) throws(OTLPDecodingError) -> SpanResource {
        let resource = try message(Opentelemetry_Proto_Resource_V1_Resource.self, in: body, at: range)
        return attribution.resource(from: attributes(resource.attributes))
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
        ProtobufWriter.appendVarint(UInt64(UInt32(bitPattern: code)), to: &bytes)
        ProtobufWriter.appendField(2, Array(message.utf8), to: &bytes)
        return bytes
    }
}
