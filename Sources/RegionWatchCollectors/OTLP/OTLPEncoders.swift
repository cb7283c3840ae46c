import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol
import SwiftProtobuf

/// Encodes span batches as OTLP export requests: used by the load generator and by tests that
/// play an OTLP client.
public enum OTLPEncoder {
    /// The batch as an ExportTraceServiceRequest in protobuf.
    public static func protobuf(_ batch: SpanBatch) -> [UInt8] {
        var request = ExportTraceServiceRequest()
        request.resourceSpans = groups(of: batch).map { group in
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            resourceSpans.resource.attributes = group.resource.attributes.map(keyValue)
            resourceSpans.scopeSpans = group.scopes.map { scopeGroup in
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scopeSpans.scope.name = scopeGroup.scope.name
                scopeSpans.scope.version = scopeGroup.scope.version
                scopeSpans.spans = scopeGroup.spans.map(protobufSpan)
                return scopeSpans
            }
            return resourceSpans
        }
        return (try? request.serializedBytes()) ?? []
    }

    private static func protobufSpan(_ typedOrEncoded: IncomingSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        let span = typed(typedOrEncoded)
        var message = Opentelemetry_Proto_Trace_V1_Span()
        message.traceID = Data(bytes(of: span.traceID))
        message.spanID = Data(bytes(of: span.spanID))
        if span.parentSpanID.isValid { message.parentSpanID = Data(bytes(of: span.parentSpanID)) }
        message.name = span.name
        message.kind = Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: Int(span.kind.rawValue)) ?? .unspecified
        message.startTimeUnixNano = span.startUnixNano
        message.endTimeUnixNano = span.endUnixNano
        message.attributes = span.attributes.map(keyValue)
        message.events = span.events.map { event in
            var encoded = Opentelemetry_Proto_Trace_V1_Span.Event()
            encoded.timeUnixNano = event.timeUnixNano
            encoded.name = event.name
            encoded.attributes = event.attributes.map(keyValue)
            return encoded
        }
        message.links = span.links.map { link in
            var encoded = Opentelemetry_Proto_Trace_V1_Span.Link()
            encoded.traceID = Data(bytes(of: link.traceID))
            encoded.spanID = Data(bytes(of: link.spanID))
            encoded.attributes = link.attributes.map(keyValue)
            return encoded
        }
        if span.statusCode != .unset || !span.statusMessage.isEmpty {
            message.status.code =
                Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: Int(span.statusCode.rawValue)) ?? .unset
            message.status.message = span.statusMessage
        }
        return message
    }

    static func keyValue(_ attribute: Attribute) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
        keyValue.key = attribute.key
        keyValue.value = anyValue(attribute.value)
        return keyValue
    }

    static func anyValue(_ value: AttributeValue) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var any = Opentelemetry_Proto_Common_V1_AnyValue()
        switch value {
        case .string(let text): any.stringValue = text
        case .bool(let flag): any.boolValue = flag
        case .int(let number): any.intValue = number
        case .double(let number): any.doubleValue = number
        case .bytes(let data): any.bytesValue = Data(data)
        case .array(let values): any.arrayValue.values = values.map(anyValue)
        case .map(let entries): any.kvlistValue.values = entries.map(keyValue)
        case .empty: break
        }
        return any
    }

    // MARK: JSON

    /// The batch as OTLP/JSON.
    public static func json(_ batch: SpanBatch) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(batch.spans.count * 400)
        out += Array(#"{"resourceSpans":["#.utf8)
        for (groupIndex, group) in groups(of: batch).enumerated() {
            if groupIndex > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"resource":{"attributes":"#.utf8)
            writeAttributes(group.resource.attributes, into: &out)
            out += Array(#"},"scopeSpans":["#.utf8)
            for (scopeIndex, scopeGroup) in group.scopes.enumerated() {
                if scopeIndex > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(#"{"scope":{"name":"#.utf8)
                writeString(scopeGroup.scope.name, into: &out)
                out += Array(#","version":"#.utf8)
                writeString(scopeGroup.scope.version, into: &out)
                out += Array(#"},"spans":["#.utf8)
                for (spanIndex, span) in scopeGroup.spans.enumerated() {
                    if spanIndex > 0 { out.append(UInt8(ascii: ",")) }
                    writeSpan(span, into: &out)
                }
                out += Array("]}".utf8)
            }
            out += Array("]}".utf8)
        }
        out += Array("]}".utf8)
        return out
    }

    /// The span with typed details (decoding received wire bytes when present).
    static func typed(_ span: IncomingSpan) -> IncomingSpan {
        guard span.encodedDetails != nil else { return span }
        var copy = span
        let details = span.details
        copy.attributes = details.attributes
        copy.events = details.events
        copy.links = details.links
        copy.encodedDetails = nil
        return copy
    }

    private static func writeSpan(_ typedOrEncoded: IncomingSpan, into out: inout [UInt8]) {
        let span = typed(typedOrEncoded)
        out += Array(#"{"traceId":""#.utf8) + Array(span.traceID.hex.utf8)
        out += Array(#"","spanId":""#.utf8) + Array(span.spanID.hex.utf8) + [UInt8(ascii: "\"")]
        if span.parentSpanID.isValid {
            out += Array(#","parentSpanId":""#.utf8) + Array(span.parentSpanID.hex.utf8) + [UInt8(ascii: "\"")]
        }
        out += Array(#","name":"#.utf8)
        writeString(span.name, into: &out)
        out += Array(
            #","kind":\#(span.kind.rawValue),"startTimeUnixNano":"\#(span.startUnixNano)","endTimeUnixNano":"\#(span.endUnixNano)""#
                .utf8)
        if !span.attributes.isEmpty {
            out += Array(#","attributes":"#.utf8)
            writeAttributes(span.attributes, into: &out)
        }
        if !span.events.isEmpty {
            out += Array(#","events":["#.utf8)
            for (index, event) in span.events.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(#"{"timeUnixNano":"\#(event.timeUnixNano)","name":"#.utf8)
                writeString(event.name, into: &out)
                out += Array(#","attributes":"#.utf8)
                writeAttributes(event.attributes, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        if !span.links.isEmpty {
            out += Array(#","links":["#.utf8)
            for (index, link) in span.links.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(#"{"traceId":"\#(link.traceID.hex)","spanId":"\#(link.spanID.hex)","attributes":"#.utf8)
                writeAttributes(link.attributes, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        if span.statusCode != .unset || !span.statusMessage.isEmpty {
            out += Array(#","status":{"code":\#(span.statusCode.rawValue),"message":"#.utf8)
            writeString(span.statusMessage, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }

    static func writeAttributes(_ attributes: [Attribute], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, attribute) in attributes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"key":"#.utf8)
            writeString(attribute.key, into: &out)
            out += Array(#","value":"#.utf8)
            writeValue(attribute.value, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    static func writeValue(_ value: AttributeValue, into out: inout [UInt8]) {
        switch value {
        case .string(let text):
            out += Array(#"{"stringValue":"#.utf8)
            writeString(text, into: &out)
            out.append(UInt8(ascii: "}"))
        case .bool(let flag): out += Array(#"{"boolValue":\#(flag)}"#.utf8)
        case .int(let number): out += Array(#"{"intValue":"\#(number)"}"#.utf8)
        case .double(let number):
            let text =
                number.isNaN
                ? "\"NaN\"" : (number.isInfinite ? (number > 0 ? "\"Infinity\"" : "\"-Infinity\"") : "\(number)")
            out += Array(#"{"doubleValue":\#(text)}"#.utf8)
        case .bytes(let data): out += Array(#"{"bytesValue":"\#(Data(data).base64EncodedString())"}"#.utf8)
        case .array(let values):
            out += Array(#"{"arrayValue":{"values":["#.utf8)
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeValue(element, into: &out)
            }
            out += Array("]}}".utf8)
        case .map(let entries):
            out += Array(#"{"kvlistValue":{"values":"#.utf8)
            writeAttributes(entries, into: &out)
            out += Array("}}".utf8)
        case .empty: out += Array("{}".utf8)
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Grouping

    private struct ScopeGroup {
        var scope: SpanScope
        var spans: [IncomingSpan]
    }

    private struct ResourceGroup {
        var resource: SpanResource
        var scopes: [ScopeGroup]
    }

    /// Spans grouped by resource then scope, in first-seen order.
    private static func groups(of batch: SpanBatch) -> [ResourceGroup] {
        var groups: [ResourceGroup] = []
        var positions: [Int: Int] = [:]
        for span in batch.spans {
            let groupIndex: Int
            if let existing = positions[span.resourceIndex] {
                groupIndex = existing
            } else {
                groupIndex = groups.count
                positions[span.resourceIndex] = groupIndex
                groups.append(ResourceGroup(resource: batch.resources[span.resourceIndex], scopes: []))
            }
            let scope = batch.scopes[span.scopeIndex]
            if let scopeIndex = groups[groupIndex].scopes.firstIndex(where: { $0.scope == scope }) {
                groups[groupIndex].scopes[scopeIndex].spans.append(span)
            } else {
                groups[groupIndex].scopes.append(ScopeGroup(scope: scope, spans: [span]))
            }
        }
        return groups
    }

    /// The 16 big-endian bytes of a trace id.
    public static func bytes(of id: TraceID) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id.high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: id.low >> (56 - 8 * $0)) }
    }

    /// The 8 big-endian bytes of a span id.
    public static func bytes(of id: SpanID) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id.value >> (56 - 8 * $0)) }
    }
}
