import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol

/// Reads an OTLP `ExportTraceServiceRequest` straight from its wire encoding into spans.
///
/// Spans are read field by field with a `ProtobufCursor`: identifiers, times, kind and status
/// become the span's values; attributes, events and links (`Span` fields 9–13) are copied, as
/// they are, into one buffer for the whole request, which each span's `encodedDetails` slices.
/// Span names repeat within a request, so each distinct name is made a `String` once. Resources
/// and scopes (a few per request) are parsed by swift-protobuf, with its depth limit.
struct SpanWireReader {
    private let body: UnsafeRawBufferPointer
    private let attribution: RegionAttribution
    private var accumulator = ExportAccumulator()
    private var details: [UInt8] = []
    private var detailRanges: [(position: Int, range: Range<Int>)] = []
    private var names = RecentNames()

    init(body: UnsafeRawBufferPointer, attribution: RegionAttribution) {
        self.body = body
        self.attribution = attribution
        // A span takes 100–200 bytes on the wire: room for most requests' spans at once.
        accumulator.spans.reserveCapacity(min(body.count / 128, 100_000))
    }

    /// Reads the request's `resource_spans` (field 1); other fields are skipped.
    mutating func readRequest() throws(OTLPDecodingError) {
        var cursor = ProtobufCursor(body)
        try cursor.forEach(field: 1) { range throws(OTLPDecodingError) in try readResourceSpans(range) }
    }

    /// The spans read, with their details, and what was rejected.
    consuming func export(source: String, receivedAt: Timestamp) -> DecodedExport {
        let shared = details
        for (position, range) in detailRanges {
            accumulator.spans[position].encodedDetails = shared[range]
        }
        return accumulator.export(source: source, receivedAt: receivedAt)
    }

    /// `ResourceSpans`: resource (1), scope_spans (2). The resource may come after its spans.
    private mutating func readResourceSpans(_ range: Range<Int>) throws(OTLPDecodingError) {
        let resourceIndex = accumulator.resources.count
        accumulator.resources.append(attribution.resource(from: []))
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 2):
                accumulator.resources[resourceIndex] = try OTLPProtobufDecoder.resource(
                    in: body, at: cursor.lengthDelimited(), attribution: attribution)
            case (2, 2): try readScopeSpans(cursor.lengthDelimited(), resourceIndex: resourceIndex)
            default: try cursor.skip(field: field, wire: wire)
            }
        }
    }

    /// `ScopeSpans`: scope (1), spans (2).
    private mutating func readScopeSpans(_ range: Range<Int>, resourceIndex: Int) throws(OTLPDecodingError) {
        let scopeIndex = accumulator.scopes.count
        accumulator.scopes.append(SpanScope(name: "", version: ""))
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 2):
                let scope = try OTLPProtobufDecoder.message(
                    Opentelemetry_Proto_Common_V1_InstrumentationScope.self, in: body, at: cursor.lengthDelimited())
                accumulator.scopes[scopeIndex] = SpanScope(name: scope.name, version: scope.version)
            case (2, 2):
                try readSpan(cursor.lengthDelimited(), resourceIndex: resourceIndex, scopeIndex: scopeIndex)
            default: try cursor.skip(field: field, wire: wire)
            }
        }
    }

    /// One `Span`. A span with a malformed identifier is rejected (a partial success); a
    /// malformed field rejects the request.
    private mutating func readSpan(_ range: Range<Int>, resourceIndex: Int, scopeIndex: Int) throws(OTLPDecodingError) {
        var traceID: Range<Int> = 0..<0, spanID: Range<Int> = 0..<0, parentID: Range<Int> = 0..<0
        var name = "", kind: UInt64 = 0, start: UInt64 = 0, end: UInt64 = 0
        var statusCode: UInt64 = 0, statusMessage = ""
        let detailStart = details.count
        var dropped: UInt64 = 0
        var cursor = ProtobufCursor(body, range: range)
        while !cursor.isAtEnd {
            let fieldStart = cursor.position
            let (field, wire) = try cursor.tag()
            switch (field, wire) {
            case (1, 2): traceID = try cursor.lengthDelimited()
            case (2, 2): spanID = try cursor.lengthDelimited()
            case (4, 2): parentID = try cursor.lengthDelimited()
            case (5, 2): name = try names.name(at: cursor.lengthDelimited(), in: body)
            case (6, 0): kind = try cursor.varint()
            case (7, 1): start = try cursor.fixed64()
            case (8, 1): end = try cursor.fixed64()
            case (9, 2), (11, 2), (13, 2):
                // Attributes, events and links go into the details as they came.
                _ = try cursor.lengthDelimited()
                details.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[fieldStart..<cursor.position]))
            case (10, 0): dropped = try cursor.varint()
            case (15, 2):
                var status = ProtobufCursor(body, range: try cursor.lengthDelimited())
                while !status.isAtEnd {
                    let (inner, innerWire) = try status.tag()
                    switch (inner, innerWire) {
                    case (2, 2): statusMessage = try status.string()
                    case (3, 0): statusCode = try status.varint()
                    default: try status.skip(field: inner, wire: innerWire)
                    }
                }
            default: try cursor.skip(field: field, wire: wire)
            }
        }
        if UInt32(truncatingIfNeeded: dropped) > 0 {
            details.append(OTLPWire.SpanTag.droppedAttributes)
            ProtobufWriter.appendVarint(UInt64(UInt32(truncatingIfNeeded: dropped)), to: &details)
        }
        guard let trace = TraceID(bytes: cursor.bytes(traceID)) else {
            return reject("invalid trace id (\(traceID.count) bytes)", detailsFrom: detailStart)
        }
        guard let span = SpanID(bytes: cursor.bytes(spanID)) else {
            return reject("invalid span id (\(spanID.count) bytes)", detailsFrom: detailStart)
        }
        var parent = SpanID.none
        if !parentID.isEmpty {
            guard let parsed = SpanID(bytes: cursor.bytes(parentID)) else {
                return reject("invalid parent span id (\(parentID.count) bytes)", detailsFrom: detailStart)
            }
            parent = parsed
        }
        // int32 enums: a negative value is sent as a ten-byte varint.
        let accepted = accumulator.add(
            IncomingSpan(
                traceID: trace, spanID: span, parentSpanID: parent, name: name,
                kind: SpanKind(rawValue: UInt8(clamping: Int32(truncatingIfNeeded: kind))) ?? .unspecified,
                startUnixNano: start, endUnixNano: end,
                statusCode: SpanStatusCode(rawValue: UInt8(clamping: Int32(truncatingIfNeeded: statusCode))) ?? .unset,
                statusMessage: statusMessage, resourceIndex: resourceIndex, scopeIndex: scopeIndex))
        guard accepted else { return details.removeSubrange(detailStart...) }
        if details.count > detailStart {
            detailRanges.append((accumulator.spans.count - 1, detailStart..<details.count))
        }
    }

    private mutating func reject(_ reason: String, detailsFrom start: Int) {
        accumulator.reject(reason)
        details.removeSubrange(start...)
    }
}

/// The repeated strings of one request (span names, attribute keys), each made a `String`
/// once: a request repeats a handful of them across its items, and a string longer than 15
/// bytes costs an allocation per `String`.
struct RecentNames {
    private var bytes: [UInt8] = []
    private var entries: [(range: Range<Int>, name: String)] = []
    /// Distinct names remembered; further names are made a `String` each time.
    static let capacity = 64

    mutating func name(at range: Range<Int>, in body: UnsafeRawBufferPointer) throws(OTLPDecodingError) -> String {
        let count = range.count
        if count <= 15 { return try ProtobufCursor.string(body, range) }
        let found: Int? = bytes.withUnsafeBytes { known in
            entries.firstIndex { entry in
                entry.range.count == count
                    && memcmp(known.baseAddress! + entry.range.lowerBound, body.baseAddress! + range.lowerBound, count)
                        == 0
            }
        }
        if let found { return entries[found].name }
        let name = try ProtobufCursor.string(body, range)
        if entries.count < Self.capacity {
            let start = bytes.count
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[range]))
            entries.append((start..<bytes.count, name))
        }
        return name
    }
}
