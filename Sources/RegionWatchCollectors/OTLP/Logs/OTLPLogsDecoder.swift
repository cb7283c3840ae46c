import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol
import SwiftProtobuf

typealias ExportLogsServiceRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest

/// One decoded OTLP logs export: the valid records, and what was rejected and why.
public struct DecodedLogs: Sendable {
    public var batch: LogBatch
    var rejected = RejectionTally()

    /// The `partial_success.error_message` text, or `nil` when nothing was rejected.
    public var rejectionMessage: String? {
        rejected.message(accepted: batch.records.count, noun: OTLPSignal.logs.itemNoun)
    }

    /// Records refused inside the request.
    public var rejectedRecords: Int { rejected.count }
}

/// Decodes OTLP logs exports, `application/x-protobuf` (swift-protobuf's generated messages)
/// and `application/json` (the hand-written scanner, as for traces).
///
/// A record with a malformed trace or span id is rejected (partial success); one without any
/// time takes the time it was received; a body that is not a string is rendered as text.
public enum OTLPLogsDecoder {
    /// Decodes a protobuf `ExportLogsServiceRequest` the caller owns, without copying it first.
    /// Records are read straight from the wire (`LogWireReader`).
    public static func decodeProtobuf(
        _ bytes: UnsafeRawBufferPointer, attribution: RegionAttribution, source: String, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedLogs {
        guard !bytes.isEmpty else {
            throw OTLPDecodingError("empty body: expected an \(OTLPSignal.logs.requestName)")
        }
        var reader = LogWireReader(
            body: bytes, attribution: attribution,
            builder: LogBatchBuilder(source: source, receivedAt: receivedAt))
        try reader.readRequest()
        return reader.builder.decoded
    }

    /// Decodes an OTLP/JSON `ExportLogsServiceRequest` the caller owns.
    public static func decodeJSON(
        _ bytes: UnsafeRawBufferPointer, attribution: RegionAttribution, source: String, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedLogs {
        var builder = LogBatchBuilder(source: source, receivedAt: receivedAt)
        try OTLPJSONRequest.read(bytes, request: OTLPSignal.logs.requestName) {
            scanner, key throws(JSONScanner.Failure) in
            guard key.isField("resourceLogs", "resource_logs") else { return false }
            try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                // The resource's slot first: "resource" may come after "scopeLogs" in the object.
                let resource = builder.add(attribution.resource(from: []))
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("resource") {
                        builder.replace(
                            resource, with: attribution.resource(from: try OTLPJSONRequest.resourceAttributes(&scanner))
                        )
                    } else if key.isField("scopeLogs", "scope_logs") {
                        try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                            try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                                guard key.isField("logRecords", "log_records") else { return try scanner.skipValue() }
                                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                                    try readRecord(&scanner, resourceIndex: resource, into: &builder)
                                }
                            }
                        }
                    } else {
                        try scanner.skipValue()
                    }
                }
            }
            return true
        }
        return builder.decoded
    }

    private static func readRecord(
        _ scanner: inout JSONScanner, resourceIndex: Int, into builder: inout LogBatchBuilder
    ) throws(JSONScanner.Failure) {
        var time: UInt64 = 0, observed: UInt64 = 0, severityNumber = 0, severityText = ""
        var body: AttributeValue?, attributes: [Attribute] = []
        var traceID = LogBatchBuilder.Identifier.absent, spanID = LogBatchBuilder.Identifier.absent
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            if key.isField("timeUnixNano", "time_unix_nano") {
                time = try scanner.unsigned()
            } else if key.isField("observedTimeUnixNano", "observed_time_unix_nano") {
                observed = try scanner.unsigned()
            } else if key.isField("severityNumber", "severity_number") {
                severityNumber =
                    try OTLPJSONRequest.enumValue(&scanner) { name in
                        LogSeverity.allCases.first { name.hasPrefix("SEVERITY_NUMBER_" + $0.name) }.map { level in
                            let step = Int(name.last.flatMap { Int(String($0)) } ?? 1)
                            return level.rawValue + max(0, min(3, step - 1))
                        }
                    } ?? 0
            } else if key.isField("severityText", "severity_text") {
                severityText = try scanner.string()
            } else if key.equals("body") {
                body = try OTLPJSONDecoder.readValue(&scanner)
            } else if key.equals("attributes") {
                attributes = try OTLPJSONDecoder.readAttributes(&scanner)
            } else if key.isField("traceId", "trace_id") {
                traceID = .hex(try scanner.idText().map { Array($0) })
            } else if key.isField("spanId", "span_id") {
                spanID = .hex(try scanner.idText().map { Array($0) })
            } else {
                try scanner.skipValue()
            }
        }
        builder.add(
            time: time, observedTime: observed, severityNumber: severityNumber, severityText: severityText, body: body,
            attributes: attributes, traceID: traceID, spanID: spanID, resourceIndex: resourceIndex)
    }
}

/// Builds a `LogBatch` from decoded records, validating identifiers.
struct LogBatchBuilder {
    private var batch: LogBatch
    private var rejected = RejectionTally()

    /// An id as it came: binary (protobuf), hex text (JSON), or not given.
    enum Identifier {
        case bytes([UInt8])
        case hex([UInt8]?)
        case absent
    }

    init(source: String, receivedAt: Timestamp) {
        batch = LogBatch(source: source, receivedAt: receivedAt, resources: [], records: [])
    }

    /// Adds a resource; returns its index.
    mutating func add(_ resource: SpanResource) -> Int {
        batch.resources.append(resource)
        return batch.resources.count - 1
    }

    /// Replaces the resource at `index` (read after the records that use it).
    mutating func replace(_ index: Int, with resource: SpanResource) {
        batch.resources[index] = resource
    }

    mutating func add(
        time: UInt64, observedTime: UInt64, severityNumber: Int, severityText: String, body: AttributeValue?,
        attributes: [Attribute], traceID: Identifier, spanID: Identifier, resourceIndex: Int
    ) {
        let text: String =
            switch body {
            case .string(let value)?: value
            case nil, .empty?: ""
            case let other?: other.description
            }
        add(
            time: time, observedTime: observedTime, severityNumber: severityNumber, severityText: severityText,
            body: text, attributes: attributes, traceID: Self.traceID(traceID), spanID: Self.spanID(spanID),
            resourceIndex: resourceIndex)
    }

    /// Adds a record whose ids are parsed (`nil`: malformed, the record is rejected) and whose
    /// body is text.
    mutating func add(
        time: UInt64, observedTime: UInt64, severityNumber: Int, severityText: String, body text: String,
        attributes: [Attribute], traceID: TraceID?, spanID: SpanID?, resourceIndex: Int
    ) {
        guard let trace = traceID else { return rejected.reject("invalid trace id") }
        guard let span = spanID else { return rejected.reject("invalid span id") }
        let when = time != 0 ? time : observedTime != 0 ? observedTime : batch.receivedAt.unixNanoseconds
        batch.records.append(
            IncomingLogRecord(
                timeUnixNano: when, severityNumber: (0...24).contains(severityNumber) ? UInt8(severityNumber) : 0,
                severityText: severityText, body: text, attributes: attributes, traceID: trace, spanID: span,
                resourceIndex: resourceIndex))
    }

    /// Empty means none; otherwise 16 bytes (32 hex digits), not all zero.
    private static func traceID(_ identifier: Identifier) -> TraceID? {
        switch identifier {
        case .absent, .hex(nil): return TraceID(high: 0, low: 0)
        case .bytes(let bytes) where bytes.isEmpty: return TraceID(high: 0, low: 0)
        case .hex(let digits?) where digits.isEmpty: return TraceID(high: 0, low: 0)
        case .bytes(let bytes): return TraceID(bytes: bytes)
        case .hex(let digits?): return digits.withUnsafeBufferPointer { TraceID(hexBytes: $0) }
        }
    }

    private static func spanID(_ identifier: Identifier) -> SpanID? {
        switch identifier {
        case .absent, .hex(nil): return SpanID.none
        case .bytes(let bytes) where bytes.isEmpty: return SpanID.none
        case .hex(let digits?) where digits.isEmpty: return SpanID.none
        case .bytes(let bytes): return SpanID(bytes: bytes)
        case .hex(let digits?): return digits.withUnsafeBufferPointer { SpanID(hexBytes: $0) }
        }
    }

    var decoded: DecodedLogs {
        var result = DecodedLogs(batch: batch)
        result.rejected = rejected
        return result
    }
}
