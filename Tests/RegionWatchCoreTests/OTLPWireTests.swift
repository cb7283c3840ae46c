import Testing
@testable import RegionWatchCore

@Suite("OTLP wire details")
struct OTLPWireTests {
    static let attributes = [
        Attribute("s", .string("héllo")), Attribute("b", .bool(true)), Attribute("i", .int(-42)),
        Attribute("d", .double(-2.5)), Attribute("raw", .bytes([0, 255])), Attribute("none", .empty),
        Attribute("list", .array([.int(1), .array([.string("deep")])])),
        Attribute("map", .map([Attribute("k", .bool(false))])),
    ]

    static func encoded(statusMessage: String = "boom") -> ContiguousArray<UInt8> {
        var bytes = ContiguousArray<UInt8>()
        OTLPWire.writeDetails(
            attributes: attributes, droppedAttributes: 3,
            events: [
                SpanEvent(
                    timeUnixNano: 123_456_789, name: "exception",
                    attributes: [Attribute("exception.message", .string("oops"))])
            ],
            links: [
                SpanLink(
                    traceID: TraceID(high: 1, low: 2), spanID: SpanID(3),
                    attributes: [Attribute("why", .string("retry"))])
            ],
            statusMessage: statusMessage, into: &bytes
        )
        return bytes
    }

    @Test func writeThenReadGivesBackEveryValue() {
        let details = OTLPWire.readDetails(Array(Self.encoded()))
        #expect(details.attributes == Self.attributes)
        #expect(details.droppedAttributes == 3)
        #expect(
            details.events == [
                SpanEvent(
                    timeUnixNano: 123_456_789, name: "exception",
                    attributes: [Attribute("exception.message", .string("oops"))])
            ])
        #expect(
            details.links == [
                SpanLink(
                    traceID: TraceID(high: 1, low: 2), spanID: SpanID(3),
                    attributes: [Attribute("why", .string("retry"))])
            ])
        #expect(details.statusMessage == "boom")
    }

    @Test func everyTruncationIsSafeAndKeepsWhatCameBeforeIt() {
        let full = Array(Self.encoded())
        for length in 0..<full.count {
            let details = OTLPWire.readDetails(Array(full.prefix(length)))
            #expect(details.attributes.count <= Self.attributes.count)
        }
        // A cut in the middle of the second attribute keeps the first.
        #expect(OTLPWire.readDetails(Array(full.prefix(17))).attributes == [Self.attributes[0]])
    }

    @Test func hostileBytesNeverCrashOrLoop() {
        var random = 0x1234_5678_9ABC_DEF0 as UInt64
        for _ in 0..<2000 {
            let length = Int(random % 64)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                random = random &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: random >> 33))
            }
            _ = OTLPWire.readDetails(bytes)
        }
        // Lengths beyond the end, endless varints, groups (wire types 3 and 4).
        #expect(OTLPWire.readDetails([0x4A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]).attributes.isEmpty)
        #expect(OTLPWire.readDetails([0x4A] + [UInt8](repeating: 0xFF, count: 20)).attributes.isEmpty)
        #expect(OTLPWire.readDetails([0x4B, 0x4C, 0x4A, 0x00]).attributes.isEmpty)
    }

    @Test func nestingIsLimited() {
        var value = AttributeValue.string("bottom")
        for _ in 0..<100 { value = .array([value]) }
        var bytes = ContiguousArray<UInt8>()
        OTLPWire.writeDetails(
            attributes: [Attribute("deep", value)], droppedAttributes: 0, events: [], links: [], statusMessage: "",
            into: &bytes)
        let decoded = OTLPWire.readDetails(Array(bytes)).attributes.first?.value.description ?? ""
        #expect(decoded.contains("nested deeper than"))
    }

    @Test func storeKeepsReceivedBytesAndCutsOversizedOnes() {
        var store = TraceStore()
        var span = Spans.span(trace: 1, id: 1, start: 0, duration: 1)
        span.encodedDetails = Array(Self.encoded(statusMessage: ""))[...]
        span.statusMessage = "from status"
        _ = store.insert(Spans.batch([span]))
        let kept = store.details(of: SpanID(1), in: Spans.trace(1))!
        #expect(kept.attributes == Self.attributes)
        #expect(kept.statusMessage == "from status")
        #expect(kept.droppedAttributes == 3)
        // Beyond the detail size limit, received bytes are decoded and cut to the limits.
        var limits = TraceStoreLimits()
        limits.maxDetailBytes = 16
        limits.maxAttributesPerSpan = 2
        var small = TraceStore(limits: limits)
        _ = small.insert(Spans.batch([span]))
        let cut = small.details(of: SpanID(1), in: Spans.trace(1))!
        #expect(cut.attributes == Array(Self.attributes.prefix(2)))
        #expect(cut.droppedAttributes == 3 + Self.attributes.count - 2)
    }
}
