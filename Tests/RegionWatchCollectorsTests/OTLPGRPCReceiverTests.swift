import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore

/// A running OTLP/gRPC receiver on a free port, and what it published.
final class GRPCReceiverHarness: Sendable {
    let collector: OTLPGRPCReceiverCollector
    let gate: IngestGate
    let subscription: EventSubscription<DashboardEvent>
    private let task: Task<Void, Never>
    let port: Int

    private init(
        collector: OTLPGRPCReceiverCollector, gate: IngestGate, subscription: EventSubscription<DashboardEvent>,
        task: Task<Void, Never>, port: Int
    ) {
        self.collector = collector
        self.gate = gate
        self.subscription = subscription
        self.task = task
        self.port = port
    }

    static func start(
        maxBodyBytes: Int = 1_048_576, token: String? = nil, gate: IngestGate = IngestGate()
    ) async throws -> GRPCReceiverHarness {
        var settings = OTLPReceiverSettings(port: 0, maxBodyBytes: maxBodyBytes, bearerToken: token)
        settings.grpc = OTLPReceiverSettings.GRPCListen(host: "127.0.0.1", port: 0)
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 100_000)
        let collector = OTLPGRPCReceiverCollector(settings: settings, gate: gate)
        let task = Task { await collector.run(publishingTo: bus, clock: SystemWallClock()) }
        let deadline = MonotonicClock.seconds() + 60
        while MonotonicClock.seconds() < deadline {
            if let port = collector.boundPort {
                return GRPCReceiverHarness(
                    collector: collector, gate: gate, subscription: subscription, task: task, port: port)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        throw RawHTTP.Failure("gRPC receiver did not bind")
    }

    deinit { task.cancel() }

    func publishedBatches() -> [SpanBatch] {
        subscription.drain().compactMap { if case .spans(let batch) = $0 { batch } else { nil } }
    }

    /// Calls `TraceService/Export` with `body` as the request message; returns the response's
    /// bytes or throws the call's `RPCError`.
    func export(_ body: [UInt8], metadata: Metadata = [:], gzip: Bool = false) async throws -> [UInt8] {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.compression.enabledAlgorithms = .all
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext, config: config)
        return try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            if gzip { options.compression = .gzip }
            return try await client.unary(
                request: ClientRequest(message: body, metadata: metadata), descriptor: OTLPTraceService.export,
                serializer: RawResponseSerializer(), deserializer: BytesDeserializer(), options: options
            ) { try $0.message }
        }
    }
}

/// The response message as its bytes.
struct BytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

@Suite("OTLP/gRPC receiver", .serialized)
struct OTLPGRPCReceiverTests {
    func code(of call: () async throws -> [UInt8]) async -> RPCError.Code? {
        do {
            _ = try await call()
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            Issue.record("not an RPCError: \(error)")
            return nil
        }
    }

    @Test func exportsSpansAndAnswersWithPartialSuccess() async throws {
        let receiver = try await GRPCReceiverHarness.start()
        var batch = Spans.sample(count: 4)
        batch.spans[0].spanID = SpanID(0)
        let response = try ExportTraceServiceResponse(
            serializedBytes: try await receiver.export(OTLPEncoder.protobuf(batch)))
        #expect(response.partialSuccess.rejectedSpans == 1)
        #expect(response.partialSuccess.errorMessage.contains("invalid span id"))
        let published = receiver.publishedBatches()
        #expect(published.map(\.spans.count) == [3])
        #expect(published.allSatisfy { $0.holdsIngestReservation })
        #expect(receiver.gate.spansInFlight == 3, "reserved until the consumer applies them")
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.transport == "grpc")
        #expect(statistics.requestsAccepted == 1 && statistics.spansReceived == 3 && statistics.spansRejected == 1)
    }

    @Test func gzipMessagesAreAccepted() async throws {
        let receiver = try await GRPCReceiverHarness.start()
        let response = try await receiver.export(OTLPEncoder.protobuf(Spans.sample(count: 5)), gzip: true)
        let decoded = try ExportTraceServiceResponse(serializedBytes: response)
        #expect(decoded.hasPartialSuccess == false)
        #expect(receiver.publishedBatches().map(\.spans.count) == [5])
    }

    @Test func theBearerTokenIsRequiredWhenConfigured() async throws {
        let receiver = try await GRPCReceiverHarness.start(token: "s3cret")
        let body = OTLPEncoder.protobuf(Spans.sample(count: 2))
        #expect(await code { try await receiver.export(body) } == .unauthenticated)
        #expect(
            await code { try await receiver.export(body, metadata: ["authorization": "Bearer wrong"]) }
                == .unauthenticated)
        #expect(receiver.publishedBatches().isEmpty, "nothing from a refused call")
        _ = try await receiver.export(body, metadata: ["authorization": "Bearer s3cret"])
        #expect(receiver.publishedBatches().map(\.spans.count) == [2])
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.refusalsByStatus[RPCError.Code.unauthenticated.rawValue] == 2)
        #expect(statistics.lastRefusal?.contains("bearer token") == true)
    }

    @Test func malformedTruncatedAndHostileMessagesAreRefusedWithInvalidArgument() async throws {
        let receiver = try await GRPCReceiverHarness.start()
        let valid = OTLPEncoder.protobuf(Spans.sample(count: 3))
        for body in [[0xFF, 0xFF, 0xFF], Array(valid.prefix(valid.count / 2)), [UInt8](repeating: 0x0A, count: 64)] {
            #expect(await code { try await receiver.export(body) } == .invalidArgument)
        }
        #expect(receiver.publishedBatches().isEmpty)
        #expect(receiver.collector.currentStatistics.refusalsByStatus[RPCError.Code.invalidArgument.rawValue] == 3)
        // The receiver still serves valid exports.
        _ = try await receiver.export(valid)
        #expect(receiver.publishedBatches().map(\.spans.count) == [3])
    }

    @Test func messagesAboveTheLimitAreRefusedEvenWhenCompressed() async throws {
        let limit = 64 * 1024
        let receiver = try await GRPCReceiverHarness.start(maxBodyBytes: limit)
        var count = 100
        var large = OTLPEncoder.protobuf(Spans.sample(count: count))
        while large.count <= limit {
            count *= 2
            large = OTLPEncoder.protobuf(Spans.sample(count: count))
        }
        #expect(large.count < 4 * limit)
        #expect(await code { try await receiver.export(large) } == .resourceExhausted)
        #expect(await code { try await receiver.export(large, gzip: true) } == .resourceExhausted)
        // Compressed it is tiny, but the decompressed size counts: a bomb within the
        // transport's ceiling gets the status; far past it grpc-swift resets the stream.
        let bomb = [UInt8](repeating: 0, count: 2 * limit)
        #expect(await code { try await receiver.export(bomb, gzip: true) } == .resourceExhausted)
        let huge = [UInt8](repeating: 0, count: 64 << 20)
        #expect(await code { try await receiver.export(huge, gzip: true) } != nil, "refused one way or another")
        #expect(receiver.publishedBatches().isEmpty)
        #expect(receiver.collector.currentStatistics.refusalsByStatus[RPCError.Code.resourceExhausted.rawValue] == 3)
        _ = try await receiver.export(OTLPEncoder.protobuf(Spans.sample(count: 2)))
        #expect(receiver.publishedBatches().map(\.spans.count) == [2], "the receiver still serves")
    }

    @Test func aSaturatedGateAnswersUnavailableWithRetryInfo() async throws {
        let gate = IngestGate(spanCapacity: 5, batchCapacity: 100)
        let receiver = try await GRPCReceiverHarness.start(gate: gate)
        let body = OTLPEncoder.protobuf(Spans.sample(count: 4))
        _ = try await receiver.export(body)
        do {
            _ = try await receiver.export(body)
            Issue.record("a saturated gate must refuse")
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("ingest saturated"))
            let status = try #require(try error.unpackGoogleRPCStatus())
            #expect(status.details.contains(.retryInfo(delay: .seconds(1))))
        }
        for batch in receiver.publishedBatches() { gate.release(spans: batch.spans.count) }
        _ = try await receiver.export(body)
    }

    @Test func anHTTP1ClientOnTheGRPCPortIsToldWhatIsWrongAndCounted() async throws {
        let receiver = try await GRPCReceiverHarness.start()
        let response = try RawHTTP.send(
            port: receiver.port, headers: [("Content-Type", "application/x-protobuf")],
            body: OTLPEncoder.protobuf(Spans.sample(count: 1)))
        #expect(response.status == 400)
        #expect(response.text.contains("an OTLP/HTTP client is sending to the OTLP/gRPC port"))
        #expect(response.text.contains("switch the exporter to grpc"))
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.wrongProtocolConnections == 1)
        #expect(receiver.publishedBatches().isEmpty)
        // gRPC still works on the same port.
        _ = try await receiver.export(OTLPEncoder.protobuf(Spans.sample(count: 1)))
    }
}
