import Foundation
import SwiftProtobuf
import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore
@testable import RegionWatchOTLPProtocol

typealias ProtoRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias ProtoSpan = Opentelemetry_Proto_Trace_V1_Span
typealias ProtoKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias ProtoAnyValue = Opentelemetry_Proto_Common_V1_AnyValue

/// The hand-written span reader against an independent truth: swift-protobuf's generated
/// messages, encoding random requests and parsing them back. Every span field, every detail,
/// every resource and scope must agree; damage must be refused with a named error.
@Suite("Span wire reader")
struct SpanWireReaderTests {
    static let now = Timestamp(secondsSinceEpoch: 1_795_789_800)

    static func decode(_ bytes: [UInt8]) throws(OTLPDecodingError) -> DecodedExport {
        try OTLPProtobufDecoder.decode(bytes, attribution: RegionAttribution(), source: "t", receivedAt: now)
    }

    /// A span as the oracle reads it from swift-protobuf's full parse.
    struct Expected: Equatable {
        var trace: [UInt8], span: [UInt8], parent: [UInt8], name: String, kind: Int32
        var start: UInt64, end: UInt64, code: Int32, message: String
        var attributes: [Attribute], dropped: Int, events: [SpanEvent], links: [SpanLink]
        var resource: [Attribute], scope: SpanScope
    }

    static func expected(_ request: ProtoRequest) -> [Expected] {
        request.resourceSpans.flatMap { resourceSpans in
            resourceSpans.scopeSpans.flatMap { scopeSpans in
                scopeSpans.spans.map { span in
                    Expected(
                        trace: [UInt8](span.traceID), span: [UInt8](span.spanID), parent: [UInt8](span.parentSpanID),
                        name: span.name, kind: Int32(span.kind.rawValue), start: span.startTimeUnixNano,
                        end: span.endTimeUnixNano, code: Int32(span.status.code.rawValue),
                        message: span.status.message, attributes: OTLPProtobufDecoder.attributes(span.attributes),
                        dropped: Int(span.droppedAttributesCount),
                        events: span.events.map {
                            SpanEvent(
                                timeUnixNano: $0.timeUnixNano, name: $0.name,
                                attributes: OTLPProtobufDecoder.attributes($0.attributes))
                        },
                        links: span.links.compactMap { link in
                            guard let trace = TraceID(bytes: [UInt8](link.traceID)),
                                let span = SpanID(bytes: [UInt8](link.spanID))
                            else { return nil }
                            return SpanLink(
                                traceID: trace, spanID: span,
                                attributes: OTLPProtobufDecoder.attributes(link.attributes))
                        },
                        resource: OTLPProtobufDecoder.attributes(resourceSpans.resource.attributes),
                        scope: SpanScope(name: scopeSpans.scope.name, version: scopeSpans.scope.version))
                }
            }
        }
    }

    static func actual(_ export: DecodedExport) -> [Expected] {
        export.batch.spans.map { span in
            let details = span.details
            let resource = export.batch.resources[span.resourceIndex]
            return Expected(
                trace: OTLPWire.traceIDBytes(span.traceID), span: OTLPWire.spanIDBytes(span.spanID),
                parent: span.parentSpanID.isValid ? OTLPWire.spanIDBytes(span.parentSpanID) : [],
                name: span.name, kind: Int32(span.kind.rawValue), start: span.startUnixNano, end: span.endUnixNano,
                code: Int32(span.statusCode.rawValue), message: span.statusMessage, attributes: details.attributes,
                dropped: details.droppedAttributes, events: details.events, links: details.links,
                resource: resource.attributes, scope: export.batch.scopes[span.scopeIndex])
        }
    }

    /// Random requests (several resources and scopes, long and short and non-ASCII names, every
    /// attribute type nested, events, links, status, every kind, trace state and flags), encoded
    /// by swift-protobuf: the reader yields exactly what swift-protobuf parses back.
    @Test func randomRequestsReadAsSwiftProtobufReadsThem() throws {
        for seed in 0..<300 as Range<UInt64> {
            var random = SeededGenerator(seed: seed)
            let request = RandomOTLP.request(&random)
            let bytes: [UInt8] = try request.serializedBytes()
            let export = try Self.decode(bytes)
            #expect(export.rejectedSpans == 0, "seed \(seed)")
            let parsed = try ProtoRequest(serializedBytes: bytes)
            #expect(Self.actual(export) == Self.expected(parsed), "seed \(seed)")
        }
    }

    /// Fields in any order (the resource after its spans, the name after the details), unknown
    /// fields of every wire type, and a group, are read as protobuf requires.
    @Test func fieldOrderUnknownFieldsAndGroupsDoNotMatter() throws {
        var random = SeededGenerator(seed: 7)
        var span = RandomOTLP.span(&random, name: "GET /orders/{id}/items")
        span.droppedAttributesCount = 3
        var spanBytes: [UInt8] = try span.serializedBytes()
        // Unknown fields: varint 20, fixed64 21, bytes 22, fixed32 23, and group 24 holding a varint.
        spanBytes += [0xA0, 0x01, 0x05, 0xA9, 0x01] + [UInt8](repeating: 1, count: 8)
        spanBytes += [0xB2, 0x01, 0x02, 0xAA, 0xBB, 0xBD, 0x01, 1, 2, 3, 4]
        spanBytes += [0xC3, 0x01, 0x08, 0x01, 0xC4, 0x01]
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "checkout-lib"
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = [RandomOTLP.keyValue("cloud.region", .stringValue("eu-west-1"))]
        // ScopeSpans: spans before scope; ResourceSpans: scope_spans before resource.
        let scopeSpans = Self.field(2, spanBytes) + Self.field(1, try scope.serializedBytes())
        let resourceSpans = Self.field(2, scopeSpans) + Self.field(1, try resource.serializedBytes())
        let bytes = Self.field(1, resourceSpans)
        let export = try Self.decode(bytes)
        let parsed = try ProtoRequest(serializedBytes: bytes)
        #expect(Self.actual(export) == Self.expected(parsed))
        #expect(export.batch.resources.first?.region == "eu-west-1")
        #expect(export.batch.scopes.first?.name == "checkout-lib")
        #expect(export.batch.spans.first?.details.droppedAttributes == 3)
    }

    /// The store's writer of typed details (what JSON spans are kept as) writes the bytes
    /// swift-protobuf writes for the same attributes, events and links.
    @Test func typedDetailsAreWrittenAsSwiftProtobufWritesThem() throws {
        for seed in 0..<200 as Range<UInt64> {
            var random = SeededGenerator(seed: seed)
            var span = RandomOTLP.span(&random, name: "n")
            var details = ProtoSpan()
            details.attributes = span.attributes
            details.droppedAttributesCount = span.droppedAttributesCount
            details.events = span.events
            details.links = span.links
            let typed = Self.expected(
                ProtoRequest.with { request in
                    span.attributes = details.attributes
                    request.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span] }] }]
                })[0]
            var written = ContiguousArray<UInt8>()
            OTLPWire.writeDetails(
                attributes: typed.attributes, droppedAttributes: typed.dropped, events: typed.events,
                links: typed.links, statusMessage: "", into: &written)
            #expect(Array(written) == (try details.serializedBytes() as [UInt8]), "seed \(seed)")
        }
    }

    /// More distinct long names than the reader remembers: every span keeps its own name.
    @Test func manyDistinctLongNamesEachKeepTheirOwn() throws {
        var random = SeededGenerator(seed: 3)
        var request = ProtoRequest()
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.spans = (0..<300).map { RandomOTLP.span(&random, name: "operation number \($0 % 150) of many") }
        request.resourceSpans = [Opentelemetry_Proto_Trace_V1_ResourceSpans.with { $0.scopeSpans = [scopeSpans] }]
        let export = try Self.decode(try request.serializedBytes())
        #expect(export.batch.spans.map(\.name) == scopeSpans.spans.map(\.name))
    }

    /// Every prefix of a request, and random damage: refused with a named error or read as far
    /// as it is whole; never a crash.
    @Test func truncatedAndDamagedRequestsAreRefusedOrReadSafely() throws {
        var random = SeededGenerator(seed: 11)
        let bytes: [UInt8] = try RandomOTLP.request(&random, maxSpans: 4).serializedBytes()
        for length in 0..<bytes.count {
            do {
                let export = try Self.decode(Array(bytes.prefix(length)))
                #expect(export.batch.spans.allSatisfy { SpanValidation.problem(of: $0) == nil })
            } catch {
                #expect(error.description.hasPrefix("malformed protobuf body") || error.description.hasPrefix("empty"))
            }
        }
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<(1 + random.next() % 4) {
                damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            if let export = try? Self.decode(damaged) {
                for span in export.batch.spans { _ = span.details }
            }
        }
    }

    @Test func malformedFieldsAreNamed() throws {
        func problem(_ bytes: [UInt8]) -> String? {
            do {
                _ = try Self.decode(bytes)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(
            problem([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])?.contains("malformed")
                == true)
        #expect(problem([0x0C]) == "malformed protobuf body: malformed protobuf", "an end group without its start")
        #expect(problem([0x0E]) == "malformed protobuf body: malformed protobuf", "wire type 6")
        #expect(problem([0x00]) == "malformed protobuf body: malformed protobuf", "field number 0")
        #expect(problem([0x0A, 0x05, 0x01]) == "malformed protobuf body: truncated message")
        #expect(problem([0x0A]) == "malformed protobuf body: truncated message", "no length at all")
        #expect(problem([0x0A, 0x80]) == "malformed protobuf body: malformed protobuf", "a length cut part-way")
        // The same as swift-protobuf says for them.
        #expect(throws: BinaryDecodingError.truncated) { try ProtoRequest(serializedBytes: [0x0A] as [UInt8]) }
        #expect(throws: BinaryDecodingError.malformedProtobuf) {
            try ProtoRequest(serializedBytes: [0x0A, 0x80] as [UInt8])
        }
        #expect(problem([0x39, 1, 2]) == "malformed protobuf body: truncated message")
        let deepGroups = [UInt8](repeating: 0x0B, count: 200) + [UInt8](repeating: 0x0C, count: 200)
        #expect(problem(deepGroups)?.contains("nesting deeper than") == true)
        // A span whose name is not UTF-8.
        var random = SeededGenerator(seed: 1)
        var span = RandomOTLP.span(&random, name: "x")
        span.name = ""
        let badName = try Self.request(spanBytes: try span.serializedBytes() + [0x2A, 0x02, 0xC3, 0x28])
        #expect(problem(badName) == "malformed protobuf body: a string field is not valid UTF-8")
        // Wrong wire types for known fields are unknown fields: skipped.
        let odd = try Self.request(spanBytes: try span.serializedBytes() + [0x28, 0x01, 0x30, 0x7F])
        #expect(problem(odd) == nil)
    }

    @Test func spansWithBadIdentifiersAreRejectedWithTheirDetails() throws {
        var random = SeededGenerator(seed: 5)
        var good = RandomOTLP.span(&random, name: "good")
        good.attributes = [RandomOTLP.keyValue("k", .stringValue("kept"))]
        var bad = RandomOTLP.span(&random, name: "bad")
        bad.traceID = Data([1, 2, 3])
        bad.attributes = [RandomOTLP.keyValue("k", .stringValue("gone"))]
        let bytes = try Self.request(spanBytes: try bad.serializedBytes(), try good.serializedBytes())
        let export = try Self.decode(bytes)
        #expect(export.rejectedSpans == 1 && export.rejectionMessage?.contains("invalid trace id (3 bytes)") == true)
        #expect(export.batch.spans.map { $0.details.attributes } == [[Attribute("k", .string("kept"))]])
    }

    /// Duplicates within a request: the first is kept; a trace past its limit keeps its earliest.
    @Test func requestLimitsKeepTheFirstOfEach() {
        let trace = TraceID(high: 1, low: 2), other = TraceID(high: 3, low: 4)
        func span(_ trace: TraceID, _ id: UInt64, _ name: String) -> IncomingSpan {
            IncomingSpan(
                traceID: trace, spanID: SpanID(id), name: name, kind: .server, startUnixNano: 1, endUnixNano: 2,
                resourceIndex: 0, scopeIndex: 0)
        }
        let spans = [
            span(trace, 9, "a"), span(other, 1, "b"), span(trace, 9, "a again"), span(trace, 3, "c"),
            span(trace, 2, "d"), span(other, 1, "b again"), span(trace, 1, "e"),
        ]
        let refused = RequestSpanLimits.refused(in: spans, maxSpansPerTrace: 3)
        #expect(refused.map(\.position) == [2, 5, 6])
        #expect(refused.map(\.isDuplicate) == [true, true, false])
        var accumulator = ExportAccumulator()
        accumulator.resources = [
            SpanResource(region: "r", provider: nil, service: "s", serviceVersion: nil, attributes: [])
        ]
        accumulator.scopes = [SpanScope(name: "", version: "")]
        for span in spans { accumulator.add(span) }
        let export = accumulator.export(source: "t", receivedAt: Self.now)
        #expect(export.batch.spans.map(\.name) == ["a", "b", "c", "d", "e"])
        #expect(export.rejectedSpans == 2)
    }

    /// The partial-success message names reasons in the order the request gave them, whether
    /// found while reading (a bad id) or once the request is read (a repeated id).
    @Test func reasonsAreListedInRequestOrder() {
        var accumulator = ExportAccumulator()
        accumulator.resources = [
            SpanResource(region: "r", provider: nil, service: "s", serviceVersion: nil, attributes: [])
        ]
        accumulator.scopes = [SpanScope(name: "", version: "")]
        func span(_ id: UInt64, start: UInt64 = 1) -> IncomingSpan {
            IncomingSpan(
                traceID: TraceID(high: 1, low: 1), spanID: SpanID(id), name: "x", kind: .server, startUnixNano: start,
                endUnixNano: 5, resourceIndex: 0, scopeIndex: 0)
        }
        accumulator.add(span(1))
        accumulator.add(span(1))
        accumulator.add(span(2, start: 0))
        accumulator.reject("invalid trace id (3 bytes)")
        accumulator.add(span(1))
        let export = accumulator.export(source: "t", receivedAt: SpanWireReaderTests.now)
        #expect(
            export.rejectionReasons.map(\.reason) == [
                "duplicate span id in the request", "missing start time", "invalid trace id (3 bytes)",
            ])
        #expect(export.rejectionReasons.map(\.count) == [2, 1, 1] && export.rejectedSpans == 4)
    }

    static func request(spanBytes: [UInt8]...) throws -> [UInt8] {
        let scopeSpans = spanBytes.flatMap { field(2, $0) }
        return field(1, field(2, scopeSpans))
    }

    static func field(_ number: UInt8, _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        ProtobufWriter.appendField(number, body, to: &bytes)
        return bytes
    }
}

/// Random OTLP messages built with swift-protobuf's generated types.
enum RandomOTLP {
    static func request(_ random: inout SeededGenerator, maxSpans: UInt64 = 30) -> ProtoRequest {
        let services = ["api", "worker", "пользователь"], regions = ["us-east-1", "eu-west-1"]
        let names = ["GET", "POST /checkout", "a much longer operation name than fifteen", "ключ-операция"]
        var request = ProtoRequest()
        for _ in 0..<(1 + random.next() % 3) {
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            let service = services[Int(random.next() % 3)], region = regions[Int(random.next() % 2)]
            resourceSpans.resource.attributes = [
                keyValue("service.name", .stringValue(service)), keyValue("cloud.region", .stringValue(region)),
            ]
            resourceSpans.schemaURL = "https://example.invalid/schema"
            for _ in 0..<(1 + random.next() % 2) {
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scopeSpans.scope.name = "lib-\(random.next() % 4)"
                scopeSpans.scope.version = "1.\(random.next() % 9)"
                for _ in 0..<(random.next() % maxSpans) {
                    let name = names[Int(random.next() % UInt64(names.count))]
                    scopeSpans.spans.append(span(&random, name: name))
                }
                resourceSpans.scopeSpans.append(scopeSpans)
            }
            request.resourceSpans.append(resourceSpans)
        }
        return request
    }

    static func span(_ random: inout SeededGenerator, name: String) -> ProtoSpan {
        var span = ProtoSpan()
        span.traceID = Data((0..<16).map { _ in UInt8(truncatingIfNeeded: random.next() | 1) })
        span.spanID = Data((0..<8).map { _ in UInt8(truncatingIfNeeded: random.next() | 1) })
        if random.next() % 3 > 0 {
            span.parentSpanID = Data((0..<8).map { _ in UInt8(truncatingIfNeeded: random.next() | 1) })
        }
        span.name = name
        span.kind = ProtoSpan.SpanKind(rawValue: Int(random.next() % 6)) ?? .unspecified
        span.startTimeUnixNano = 1_795_789_800_000_000_000 + random.next() % 1_000_000_000
        span.endTimeUnixNano = span.startTimeUnixNano + random.next() % 5_000_000_000
        span.traceState = random.next() % 4 == 0 ? "vendor=value" : ""
        span.flags = UInt32(truncatingIfNeeded: random.next() % 512)
        span.attributes = (0..<(random.next() % 6)).map { index in
            keyValue("attribute.\(index)", value(&random, depth: 0))
        }
        span.droppedAttributesCount = random.next() % 5 == 0 ? UInt32(random.next() % 300) : 0
        span.events = (0..<(random.next() % 3)).map { index in
            var event = ProtoSpan.Event()
            event.timeUnixNano = span.startTimeUnixNano + UInt64(index)
            event.name = "event \(index)"
            event.attributes = [keyValue("exception.message", value(&random, depth: 1))]
            return event
        }
        span.links = (0..<(random.next() % 2)).map { _ in
            var link = ProtoSpan.Link()
            link.traceID = Data((0..<16).map { _ in UInt8(truncatingIfNeeded: random.next() | 1) })
            link.spanID = Data((0..<8).map { _ in UInt8(truncatingIfNeeded: random.next() | 1) })
            link.attributes = [keyValue("link.kind", .stringValue("follows"))]
            return link
        }
        switch random.next() % 4 {
        case 0: span.status.code = .error
        case 1: span.status.code = .ok
        default: break
        }
        if span.status.code == .error { span.status.message = "upstream timed out ⏱" }
        return span
    }

    static func keyValue(_ key: String, _ value: ProtoAnyValue.OneOf_Value?) -> ProtoKeyValue {
        var keyValue = ProtoKeyValue()
        keyValue.key = key
        keyValue.value.value = value
        return keyValue
    }

    static func value(_ random: inout SeededGenerator, depth: Int) -> ProtoAnyValue.OneOf_Value? {
        switch random.next() % (depth < 2 ? 8 : 6) {
        case 0: .stringValue("value \(random.next() % 1000)")
        case 1: .boolValue(random.next() % 2 == 0)
        case 2: .intValue(Int64(bitPattern: random.next()))
        case 3: .doubleValue(Double(random.next() % 10_000) / 7)
        case 4: .bytesValue(Data([1, 2, 3]))
        case 5: nil
        case 6:
            .arrayValue(
                .with { array in
                    array.values = (0..<2).map { _ in ProtoAnyValue.with { $0.value = value(&random, depth: depth + 1) }
                    }
                })
        default:
            .kvlistValue(.with { $0.values = [keyValue("inner", value(&random, depth: depth + 1))] })
        }
    }
}

/// The hand-written log record reader against swift-protobuf's generated messages.
@Suite("Log wire reader")
struct LogWireReaderTests {
    typealias LogsRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
    typealias ProtoLogRecord = Opentelemetry_Proto_Logs_V1_LogRecord

    static func decode(_ bytes: [UInt8]) throws -> DecodedLogs {
        try bytes.withUnsafeBytes { buffer in
            try OTLPLogsDecoder.decodeProtobuf(
                buffer, attribution: RegionAttribution(), source: "t", receivedAt: SpanWireReaderTests.now)
        }
    }

    /// What the records must be, read from swift-protobuf's full parse.
    static func expected(_ request: LogsRequest) -> [IncomingLogRecord] {
        var records: [IncomingLogRecord] = []
        for (resourceIndex, resourceLogs) in request.resourceLogs.enumerated() {
            for record in resourceLogs.scopeLogs.flatMap(\.logRecords) {
                guard record.traceID.isEmpty || record.traceID.count == 16,
                    record.spanID.isEmpty || record.spanID.count == 8
                else { continue }
                let body: String =
                    switch record.hasBody ? OTLPProtobufDecoder.value(record.body) : .empty {
                    case .string(let text): text
                    case .empty: ""
                    case let other: other.description
                    }
                let time =
                    record.timeUnixNano != 0
                    ? record.timeUnixNano
                    : record.observedTimeUnixNano != 0
                        ? record.observedTimeUnixNano : SpanWireReaderTests.now.unixNanoseconds
                records.append(
                    IncomingLogRecord(
                        timeUnixNano: time,
                        severityNumber: (0...24).contains(record.severityNumber.rawValue)
                            ? UInt8(record.severityNumber.rawValue) : 0,
                        severityText: record.severityText, body: body,
                        attributes: OTLPProtobufDecoder.attributes(record.attributes),
                        traceID: TraceID(bytes: [UInt8](record.traceID)) ?? TraceID(high: 0, low: 0),
                        spanID: SpanID(bytes: [UInt8](record.spanID)) ?? .none, resourceIndex: resourceIndex))
            }
        }
        return records
    }

    static func request(_ random: inout SeededGenerator) -> LogsRequest {
        var request = LogsRequest()
        for _ in 0..<(1 + random.next() % 3) {
            var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            resourceLogs.resource.attributes = [RandomOTLP.keyValue("service.name", .stringValue("api"))]
            var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
            scopeLogs.scope.name = "logger"
            for index in 0..<(random.next() % 40) {
                var record = ProtoLogRecord()
                if random.next() % 4 > 0 { record.timeUnixNano = 1_795_789_800_000_000_000 + random.next() % 1000 }
                if random.next() % 2 == 0 { record.observedTimeUnixNano = 1_795_789_801_000_000_000 }
                record.severityNumber = .init(rawValue: Int(random.next() % 30)) ?? .unspecified
                record.severityText = ["", "INFO", "ERROR", "предупреждение"][Int(random.next() % 4)]
                if random.next() % 5 > 0 {
                    record.body = ProtoAnyValue.with { $0.value = RandomOTLP.value(&random, depth: 0) }
                }
                record.attributes = (0..<(random.next() % 5)).map {
                    RandomOTLP.keyValue("attribute.with.a.long.key.\($0)", RandomOTLP.value(&random, depth: 0))
                }
                switch random.next() % 5 {
                case 0: record.traceID = Data([1, 2, 3])
                case 1, 2: record.traceID = Data((0..<16).map { _ in UInt8(truncatingIfNeeded: random.next() | 1) })
                default: break
                }
                if random.next() % 2 == 0 {
                    record.spanID = Data((0..<(random.next() % 7 == 0 ? 5 : 8)).map { _ in UInt8(index + 1) })
                }
                record.flags = UInt32(random.next() % 3)
                record.droppedAttributesCount = UInt32(random.next() % 2)
                scopeLogs.logRecords.append(record)
            }
            resourceLogs.scopeLogs = [scopeLogs]
            request.resourceLogs.append(resourceLogs)
        }
        return request
    }

    @Test func randomRequestsReadAsSwiftProtobufReadsThem() throws {
        for seed in 0..<300 as Range<UInt64> {
            var random = SeededGenerator(seed: seed)
            let request = Self.request(&random)
            let bytes: [UInt8] = try request.serializedBytes()
            let decoded = try Self.decode(bytes)
            let parsed = try LogsRequest(serializedBytes: bytes)
            let expected = Self.expected(parsed)
            #expect(decoded.batch.records == expected, "seed \(seed)")
            let total = parsed.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
            #expect(decoded.rejectedRecords == total - expected.count, "seed \(seed)")
            #expect(decoded.batch.resources.map(\.service) == parsed.resourceLogs.map { _ in "api" }, "seed \(seed)")
        }
    }

    @Test func truncatedAndDamagedRequestsAreRefusedOrReadSafely() throws {
        var random = SeededGenerator(seed: 9)
        var request = Self.request(&random)
        while request.resourceLogs.allSatisfy({ $0.scopeLogs[0].logRecords.isEmpty }) {
            request = Self.request(&random)
        }
        let bytes: [UInt8] = try request.serializedBytes()
        for length in 0..<bytes.count {
            do {
                _ = try Self.decode(Array(bytes.prefix(length)))
            } catch {
                #expect(
                    String(describing: error).contains("protobuf body") || String(describing: error).contains("empty"))
            }
        }
        for _ in 0..<2000 {
            var damaged = bytes
            damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
            _ = try? Self.decode(damaged)
        }
        // A key that is not UTF-8 refuses the request, as swift-protobuf did.
        var record = ProtoLogRecord()
        record.attributes = [RandomOTLP.keyValue("k", .stringValue("v"))]
        var recordBytes: [UInt8] = try record.serializedBytes()
        recordBytes += [0x32, 0x04, 0x0A, 0x02, 0xC3, 0x28]
        let scopeLogs = SpanWireReaderTests.field(2, recordBytes)
        let body = SpanWireReaderTests.field(1, SpanWireReaderTests.field(2, scopeLogs))
        #expect(throws: OTLPDecodingError.self) { try Self.decode(body) }
    }
}

@Suite("Validated UTF-8")
struct ValidatedUTF8Tests {
    static func check(_ bytes: [UInt8]) -> Bool {
        let fast = bytes.withUnsafeBufferPointer(ValidatedUTF8.string)
        let oracle = String(validating: bytes, as: UTF8.self)
        return fast == oracle
    }

    /// Agrees with the standard library's validating initialiser, including the inputs whose
    /// repair keeps the length (a three-byte maximal invalid prefix becomes one three-byte
    /// replacement character).
    @Test func agreesWithTheStandardLibrary() {
        let cases: [[UInt8]] = [
            [], Array("plain".utf8), Array("café 😀 ключ".utf8), [0xF0, 0x90, 0x80, 0x41], [0xC0, 0xAF],
            [0xED, 0xA0, 0x80], [0xC3], [0xE2, 0x82], [0xFF, 0xFE], [0xF4, 0x90, 0x80, 0x80], [0x41, 0xC3, 0x28],
        ]
        for bytes in cases { #expect(Self.check(bytes), "\(bytes)") }
        var random = SeededGenerator(seed: 2)
        for _ in 0..<20_000 {
            let bytes = (0..<(random.next() % 8)).map { _ in
                // Mostly bytes that matter to UTF-8: leads, continuations and ASCII.
                [0x41, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, UInt8(truncatingIfNeeded: random.next())][
                    Int(random.next() % 10)]
            }
            #expect(Self.check(bytes), "\(bytes)")
        }
    }
}
