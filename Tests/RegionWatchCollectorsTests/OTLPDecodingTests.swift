import Foundation
import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore

@Suite("OTLP decoding")
struct OTLPDecodingTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let now = Timestamp(secondsSinceEpoch: 1_795_789_800)

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    static func decodeProtobuf(_ bytes: [UInt8]) throws(OTLPDecodingError) -> DecodedExport {
        try OTLPProtobufDecoder.decode(bytes, attribution: RegionAttribution(), source: "otlp", receivedAt: now)
    }

    static func decodeJSON(_ text: String) throws(OTLPDecodingError) -> DecodedExport {
        try OTLPJSONDecoder.decode(Array(text.utf8), attribution: RegionAttribution(), source: "otlp", receivedAt: now)
    }

    /// Feeds every captured request of the real OpenTelemetry Python SDK (one span per request,
    /// children before parents) into a store and checks the assembled traces.
    @Test(arguments: ["python-sdk-proto", "python-sdk-json"])
    func realSDKExportsAssembleIntoTraces(prefix: String) throws {
        var store = TraceStore()
        for index in 0..<6 {
            let bytes = try Self.fixture("\(prefix).\(index)")
            let export =
                prefix.hasSuffix("proto")
                ? try Self.decodeProtobuf(bytes)
                : try OTLPJSONDecoder.decode(
                    bytes, attribution: RegionAttribution(), source: "otlp", receivedAt: Self.now)
            #expect(export.rejectedSpans == 0)
            _ = store.insert(export.batch)
        }
        #expect(store.traceCount == 2)
        let checkout = try #require(store.summaries().first { $0.spanCount == 5 })
        #expect(checkout.rootName?.hasSuffix("POST /checkout") == true)
        #expect(checkout.rootService == "storefront")
        #expect(Set(checkout.regions) == ["eu-west-1", "us-east-1", "ap-southeast-1"])
        #expect(checkout.errorCount == 3)
        #expect(checkout.hasCrossRegionHop)
        let snapshot = try #require(store.trace(checkout.traceID))
        let tree = TraceTree(spans: snapshot.spans)
        #expect(tree.roots.count == 1, "out-of-order spans assembled into one tree")
        let reserve = try #require(snapshot.spans.first { $0.name == "Reserve" })
        #expect(reserve.region == "ap-southeast-1" && reserve.status == .error && reserve.kind == .server)
        let details = try #require(store.details(of: reserve.spanID, in: checkout.traceID))
        #expect(details.statusMessage == "out of stock")
        #expect(details.events.first?.name == "exception")
        #expect(
            details.events.first?.attributes.contains {
                $0.key == "exception.message" && $0.value == .string("out of stock: sku-42")
            } == true)
        #expect(details.resource.serviceVersion == "2.0.1")
        #expect(details.scope.name == "inventory.rpc")
        let root = try #require(snapshot.spans.first { $0.parentSpanID == .none })
        let rootDetails = try #require(store.details(of: root.spanID, in: checkout.traceID))
        #expect(rootDetails.attributes.contains(Attribute("cart.items", .int(3))))
        #expect(rootDetails.attributes.contains(Attribute("cart.total", .double(129.5))))
        #expect(rootDetails.attributes.contains(Attribute("user.vip", .bool(true))))
        #expect(rootDetails.attributes.contains(Attribute("tags", .array([.string("fast"), .string("priority")]))))
        #expect(rootDetails.attributes.contains(Attribute("http.response.status_code", .int(500))))
    }

    @Test func encodersRoundTripThroughBothDecoders() throws {
        var random = SeededGenerator(seed: 5)
        var builder = TraceGenerator.BatchBuilder()
        for _ in 0..<20 {
            TraceGenerator.addTrace(
                to: &builder,
                conditions: .init(
                    region: Topology.demo.regions[1], versions: ["api": "1.0"], latencyFactor: 1, errorRate: 0.1),
                primary: Topology.demo.regions[0], end: Self.now, random: &random)
        }
        var batch = builder.batch(source: "otlp", at: Self.now)
        batch.spans[0].events = [
            SpanEvent(
                timeUnixNano: 5, name: "e", attributes: [Attribute("k", .map([Attribute("n", .double(.infinity))]))])
        ]
        batch.spans[0].links = [SpanLink(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3))]
        batch.spans[1].attributes.append(Attribute("quote\"\n\t", .string("✓ \u{1}")))
        batch.spans[2].attributes.append(Attribute("raw", .bytes([0, 1, 254, 255])))
        for decoded in [
            try Self.decodeProtobuf(OTLPEncoder.protobuf(batch)),
            try OTLPJSONDecoder.decode(
                OTLPEncoder.json(batch), attribution: RegionAttribution(), source: "otlp", receivedAt: Self.now),
        ] {
            #expect(decoded.rejectedSpans == 0)
            #expect(Set(decoded.batch.spans.map(\.spanID)) == Set(batch.spans.map(\.spanID)))
            let original = Dictionary(uniqueKeysWithValues: batch.spans.map { ($0.spanID, $0) })
            for span in decoded.batch.spans {
                var expected = original[span.spanID]!
                expected.resourceIndex = span.resourceIndex
                expected.scopeIndex = span.scopeIndex
                #expect(OTLPEncoder.typed(span) == expected)
                #expect(
                    decoded.batch.resources[span.resourceIndex].region
                        == batch.resources[original[span.spanID]!.resourceIndex].region)
            }
        }
    }

    @Test func invalidSpansGiveAPartialSuccessWithCounts() throws {
        let export = try Self.decodeJSON(
            """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"cloud.region","value":{"stringValue":"eu-west-1"}}]},"scopeSpans":[{"spans":[
              {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"ok","startTimeUnixNano":"5","endTimeUnixNano":"9"},
              {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","name":"backwards","startTimeUnixNano":"9","endTimeUnixNano":"5"},
              {"traceId":"00000000000000000000000000000000","spanId":"b7ad6b7169203333","startTimeUnixNano":"1","endTimeUnixNano":"2"},
              {"traceId":"0af7","spanId":"b7ad6b7169203334","startTimeUnixNano":"1","endTimeUnixNano":"2"},
              {"spanId":"b7ad6b7169203335","startTimeUnixNano":"1","endTimeUnixNano":"2"}
            ]}]}]}
            """)
        #expect(export.batch.spans.count == 1)
        #expect(export.rejectedSpans == 4)
        #expect(
            export.rejectionMessage
                == "rejected 4 of 5 spans: end time before start time (1), invalid trace id (2), missing trace id (1)")
        #expect(export.batch.resources[0].region == "eu-west-1")
        #expect(
            String(decoding: DecodedSignalRequest.traces(export).jsonResponse, as: UTF8.self)
                == #"{"partialSuccess":{"rejectedSpans":"4","errorMessage":"rejected 4 of 5 spans: end time before start time (1), invalid trace id (2), missing trace id (1)"}}"#
        )
        let protobufResponse = try ExportTraceServiceResponse(
            serializedBytes: DecodedSignalRequest.traces(export).protobufResponse)
        #expect(protobufResponse.partialSuccess.rejectedSpans == 4)
    }

    @Test func jsonAcceptsTheVariantsTheSpecAllows() throws {
        let export = try Self.decodeJSON(
            """
            { "resource_spans": [ { "scope_spans": [ { "scope": {"name": "s", "version": "1", "futureField": {"deep": [1, {"x": null}]}},
              "spans": [ { "trace_id": "0AF7651916CD43DD8448EB211C80319C", "span_id": "B7AD6B7169203331", "parent_span_id": "",
                "name": "caf\\u00e9 \\ud83d\\ude00", "kind": "SPAN_KIND_CLIENT", "start_time_unix_nano": 1795789800000000000,
                "end_time_unix_nano": "1795789800000001000", "status": {"code": "STATUS_CODE_ERROR"}, "flags": 257,
                "attributes": [ {"key": "n", "value": {"intValue": 42}}, {"key": "d", "value": {"doubleValue": "NaN"}},
                                {"key": "b", "value": {"bytesValue": "AAH+/w=="}}, {"key": "e", "value": {}} ],
                "unknownNumber": 1.5e300, "unknownArray": [[[]]] } ] } ] } ] }
            """)
        let span = try #require(export.batch.spans.first)
        #expect(span.name == "café 😀")
        #expect(span.kind == .client && span.statusCode == .error)
        #expect(span.traceID.hex == "0af7651916cd43dd8448eb211c80319c")
        #expect(span.endUnixNano - span.startUnixNano == 1000)
        #expect(span.details.attributes[0] == Attribute("n", .int(42)))
        if case .double(let value) = span.details.attributes[1].value {
            #expect(value.isNaN)
        } else {
            Issue.record("expected a double")
        }
        #expect(span.details.attributes[2] == Attribute("b", .bytes([0, 1, 254, 255])))
        #expect(span.details.attributes[3] == Attribute("e", .empty))
        #expect(try Self.decodeJSON("{}").batch.spans.isEmpty, "an empty request is valid")
        #expect(try Self.decodeJSON(#"{"resourceSpans":null}"#).batch.spans.isEmpty)
    }

    @Test(arguments: [
        ("", "empty body"),
        ("[]", "malformed JSON body: expected an object (an ExportTraceServiceRequest), found an array"),
        (
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x""#,
            "malformed JSON body: resourceSpans[0].scopeSpans[0].spans[0]: unexpected end of input (truncated body?)"
        ),
        (
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":42}]}]}]}"#,
            "malformed JSON body: resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, found a number"
        ),
        (
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}"#,
            "malformed JSON body: resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: 'soon' is not an unsigned 64-bit integer"
        ),
        (
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"99999999999999999999"}]}]}]}"#,
            "malformed JSON body: resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: '99999999999999999999' overflows 64 bits"
        ),
        (
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":7}]}]}]}"#,
            "malformed JSON body: resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string id, found a number"
        ),
        (#"{"resourceSpans":{"x":1}}"#, "malformed JSON body: resourceSpans: expected an array, found an object"),
        (#"{"resourceSpans":[]} trailing"#, "malformed JSON body: unexpected data after the request"),
        (#"{"a":"\x"}"#, "malformed JSON body: a: invalid escape"),
        (#"{"a":"\ud800"}"#, "malformed JSON body: a: unpaired surrogate"),
        ("{\"a\":\"tab\there\"}", "malformed JSON body: a: control character in string"),
        (#"{"a":tru}"#, "malformed JSON body: a: invalid literal"),
        (#"{"a" 1}"#, "malformed JSON body: expected ':'"),
    ])
    func malformedJSONIsRefusedWithThePath(body: String, expected: String) {
        do {
            _ = try Self.decodeJSON(body)
            Issue.record("expected an error for \(body)")
        } catch {
            #expect(error.description.hasPrefix(expected), "got: \(error.description)")
        }
    }

    @Test func hostileJSONIsRefusedWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: OTLPDecodingError.self) { try Self.decodeJSON(#"{"x":"# + deep + "}") }
        let invalidUTF8: [UInt8] =
            Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":""#.utf8) + [0xC3, 0x28]
            + Array(#""}]}]}]}"#.utf8)
        #expect(throws: OTLPDecodingError.self) {
            try OTLPJSONDecoder.decode(invalidUTF8, attribution: RegionAttribution(), source: "o", receivedAt: Self.now)
        }
        #expect(throws: OTLPDecodingError.self) {
            try OTLPJSONDecoder.decode(
                [0xFF, 0xFE, 0x00], attribution: RegionAttribution(), source: "o", receivedAt: Self.now)
        }
    }

    @Test func malformedProtobufIsRefused() throws {
        let good = try Self.fixture("python-sdk-proto.0")
        #expect(throws: OTLPDecodingError.self) { try Self.decodeProtobuf([]) }
        #expect(throws: OTLPDecodingError.self) { try Self.decodeProtobuf(Array(good.prefix(good.count - 7))) }
        #expect(throws: OTLPDecodingError.self) { try Self.decodeProtobuf([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
        #expect(throws: OTLPDecodingError.self) { try Self.decodeProtobuf(Array("this is not protobuf at all".utf8)) }
        // A JSON document sent as protobuf.
        #expect(throws: OTLPDecodingError.self) { try Self.decodeProtobuf(Array(#"{"resourceSpans":[]}"#.utf8)) }
        // A field with an unexpected wire type is an unknown field in protobuf: legal, no spans.
        #expect(try Self.decodeProtobuf([0x08, 0x01]).batch.spans.isEmpty)
        // Deeply nested AnyValue arrays beyond the depth limit.
        var nested: [UInt8] = [0x08, 0x01]
        for _ in 0..<200 { nested = [0x2A, UInt8(truncatingIfNeeded: nested.count)] + nested }
        do {
            _ = try Self.decodeProtobuf(nested)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("malformed protobuf body"))
        }
    }

    @Test func protobufWithBadIdsIsAPartialSuccess() throws {
        var batch = Spans.sample(count: 3)
        batch.spans[1].traceID = TraceID(high: 0, low: 0)
        let export = try Self.decodeProtobuf(OTLPEncoder.protobuf(batch))
        #expect(export.batch.spans.count == 2 && export.rejectedSpans == 1)
        #expect(export.rejectionMessage?.contains("invalid trace id") == true)
    }

    @Test func regionAttributionRules() {
        let attribution = RegionAttribution(rules: [
            RegionAttribution.Rule(attribute: "k8s.cluster.name", mapping: ["prod-use1": "us-east-1"]),
            RegionAttribution.Rule(attribute: "deployment.region"),
        ])
        func region(_ attributes: [String: String]) -> String {
            attribution.resource(from: attributes.map { Attribute($0.key, .string($0.value)) }).region
        }
        #expect(region(["cloud.region": "eu-west-1", "k8s.cluster.name": "prod-use1"]) == "eu-west-1")
        #expect(region(["k8s.cluster.name": "prod-use1"]) == "us-east-1")
        #expect(region(["k8s.cluster.name": "other", "deployment.region": "mars-1"]) == "mars-1")
        #expect(region(["service.name": "x"]) == "unknown")
        let resource = attribution.resource(from: [
            Attribute("cloud.provider", .string("gcp")), Attribute("service.name", .string("api")),
            Attribute("service.version", .string("1.2")),
        ])
        #expect(resource.provider == "gcp" && resource.service == "api" && resource.serviceVersion == "1.2")
    }
}

/// Small batches for tests.
enum Spans {
    static func sample(count: Int) -> SpanBatch {
        let resource = SpanResource(
            region: "eu-west-1", provider: "aws", service: "api", serviceVersion: nil,
            attributes: [Attribute("cloud.region", .string("eu-west-1"))])
        let spans = (0..<count).map { index in
            IncomingSpan(
                traceID: TraceID(high: 1, low: UInt64(index + 1)), spanID: SpanID(UInt64(index + 1)),
                name: "op\(index)", kind: .server, startUnixNano: 1_000, endUnixNano: 2_000, resourceIndex: 0,
                scopeIndex: 0)
        }
        return SpanBatch(
            source: "test", receivedAt: Timestamp(secondsSinceEpoch: 0), resources: [resource],
            scopes: [SpanScope(name: "t", version: "1")], spans: spans)
    }
}
