import RegionWatchCore
import RegionWatchOTLPProtocol

/// Reads an OTLP `ExportLogsServiceRequest` straight from its wire encoding into log records,
/// as `SpanWireReader` does for spans: swift-protobuf's generated messages cost several
/// objects per record (each attribute a message of its own) that were converted and freed.
///
/// Attribute keys repeat across records and are made a `String` once per request. Values
/// that are strings, numbers or booleans are read here; arrays, maps and bytes (rare) are
/// parsed by swift-protobuf, with its depth limit. Resources and scopes likewise.
struct LogWireReader {
    private let body: UnsafeRawBufferPointer
    private let attribution: RegionAttribution
    private(set) var builder: LogBatchBuilder
    private var keys = RecentNames()

    init(body: UnsafeRawBufferPointer, attribution: RegionAttribution, builder: LogBatchBuilder) {
        self.body = body
        self.attribution = attribution
        self.builder = builder
    }

    /// Reads the request's `resource_logs` (field 1); other fields are skipped.
    mutating func readRequest() throws(OTLPDecodingError) {
        var cursor = ProtobufCursor(body)
        try cursor.forEach(field: 1) { range throws(OTLPDecodingError) in try readResourceLogs(range) }
    }

    /// `ResourceLogs`: resource (1), scope_logs (2). The resource may come after its records.
    private mutating func readResourceLogs(_ range: Range<Int>) throws(OTLPDecodingError) {
        let resource = builder.add(attribution.resource(from: []))
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 2):
                builder.replace(
                    resource,
                    with: try OTLPProtobufDecoder.resource(
                        in: body, at: cursor.lengthDelimited(), attribution: attribution))
            case (2, 2):
                // ScopeLogs: only its records (2) matter here.
                var scope = ProtobufCursor(body, range: try cursor.lengthDelimited())
                try scope.forEach(field: 2) { record throws(OTLPDecodingError) in
                    try readRecord(record, resourceIndex: resource)
                }
            default: try cursor.skip(field: field, wire: wire)
            }
        }
    }

    /// One `LogRecord`. A malformed trace or span id rejects the record (a partial success).
    private mutating func readRecord(_ range: Range<Int>, resourceIndex: Int) throws(OTLPDecodingError) {
        var time: UInt64 = 0, observed: UInt64 = 0, severityNumber: UInt64 = 0, severityText = ""
        var text = "", attributes: [Attribute] = []
        var traceID: Range<Int> = 0..<0, spanID: Range<Int> = 0..<0
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 1): time = try cursor.fixed64()
            case (11, 1): observed = try cursor.fixed64()
            case (2, 0): severityNumber = try cursor.varint()
            case (3, 2): severityText = try cursor.string()
            case (5, 2): text = try bodyText(cursor.lengthDelimited())
            case (6, 2): attributes.append(try keyValue(cursor.lengthDelimited()))
            case (9, 2): traceID = try cursor.lengthDelimited()
            case (10, 2): spanID = try cursor.lengthDelimited()
            default: try cursor.skip(field: field, wire: wire)
            }
        }
        let trace = traceID.isEmpty ? TraceID(high: 0, low: 0) : TraceID(bytes: cursor.bytes(traceID))
        let span = spanID.isEmpty ? SpanID.none : SpanID(bytes: cursor.bytes(spanID))
        builder.add(
            time: time, observedTime: observed,
            severityNumber: Int(Int32(truncatingIfNeeded: severityNumber)), severityText: severityText, body: text,
            attributes: attributes, traceID: trace, spanID: span, resourceIndex: resourceIndex)
    }

    /// A body as text: a string as it is, anything else rendered.
    private func bodyText(_ range: Range<Int>) throws(OTLPDecodingError) -> String {
        switch try value(range) {
        case .string(let text): text
        case .empty: ""
        case let other: other.description
        }
    }

    /// A `KeyValue`: key (1), value (2).
    private mutating func keyValue(_ range: Range<Int>) throws(OTLPDecodingError) -> Attribute {
        var key = "", value = AttributeValue.empty
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 2): key = try keys.name(at: cursor.lengthDelimited(), in: body)
            case (2, 2): value = try self.value(cursor.lengthDelimited())
            default: try cursor.skip(field: field, wire: wire)
            }
        }
        return Attribute(key, value)
    }

    /// An `AnyValue`. Scalars are read here; an array, a map or bytes go to swift-protobuf.
    private func value(_ range: Range<Int>) throws(OTLPDecodingError) -> AttributeValue {
        var value = AttributeValue.empty
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 2): value = .string(try cursor.string())
            case (2, 0): value = .bool(try cursor.varint() != 0)
            case (3, 0): value = .int(Int64(bitPattern: try cursor.varint()))
            case (4, 1): value = .double(Double(bitPattern: try cursor.fixed64()))
            case (8, 0):
                // A profiles string-table reference means nothing here, as in the span path.
                _ = try cursor.varint()
                value = .empty
            case (5, 2), (6, 2), (7, 2):
                let message = try OTLPProtobufDecoder.message(
                    Opentelemetry_Proto_Common_V1_AnyValue.self, in: body, at: range)
                return OTLPProtobufDecoder.value(message)
            default: try cursor.skip(field: field, wire: wire)
            }
        }
        return value
    }
}
