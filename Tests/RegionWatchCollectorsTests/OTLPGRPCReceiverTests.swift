#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOPosix
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
        maxBodyBytes: Int = 1_048_576, token: String? = nil, gate: IngestGate = IngestGate(),
        headerTimeoutSeconds: Double = 10
    ) async throws -> GRPCReceiverHarness {
        var settings = OTLPReceiverSettings(port: 0, maxBodyBytes: maxBodyBytes, bearerToken: token)
        settings.limits.headerTimeoutSeconds = headerTimeoutSeconds
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

    /// The test clients' own event loop: compressing a large message must not hold up other
    /// suites' servers and clients on NIO's shared loops (a probe test timed out under load).
    static let clientLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    func publishedBatches() -> [SpanBatch] {
        subscription.drain().compactMap { if case .spans(let batch) = $0 { batch } else { nil } }
    }

    /// Calls `TraceService/Export` with `body` as the request message; returns the response's
    /// bytes or throws the call's `RPCError`.
    func export(
        _ body: [UInt8], signal: OTLPSignal = .traces, metadata: Metadata = [:], gzip: Bool = false
    ) async throws -> [UInt8] {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.compression.enabledAlgorithms = .all
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext, config: config,
            eventLoopGroup: Self.clientLoops)
        return try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            if gzip { options.compression = .gzip }
            return try await client.unary(
                request: ClientRequest(message: body, metadata: metadata),
                descriptor: OTLPExportServices.export(of: signal),
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
        let huge = [UInt8](repeating: 0, count: 2 << 20)
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
        // Review finding: the HTTP/2 handler's SETTINGS frame went out before the 400, so an
        // HTTP/1 client read binary first. The reply must be plain HTTP/1.1 from its first byte.
        let raw = try await RawSocket.exchanging(
            port: receiver.port, bytes: Array("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(String(decoding: raw.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let port = receiver.port
        let body = OTLPEncoder.protobuf(Spans.sample(count: 1))
        let response = try await offThePool {
            try RawHTTP.send(port: port, headers: [("Content-Type", "application/x-protobuf")], body: body)
        }
        #expect(response.status == 400)
        #expect(response.text.contains("an OTLP/HTTP client is sending to the OTLP/gRPC port"))
        #expect(response.text.contains("switch the exporter to grpc"))
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.wrongProtocolConnections == 2)
        #expect(receiver.publishedBatches().isEmpty)
        // gRPC still works on the same port.
        _ = try await receiver.export(OTLPEncoder.protobuf(Spans.sample(count: 1)))
    }
}

/// Runs blocking work (a socket read, a child process) on a thread of its own, so it never holds
/// one of the two threads every suite's tasks share.
func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// Sends raw bytes on a loopback connection and returns what arrived until the peer closed
/// (or 10 s passed: `closedByPeer` is false then), off the cooperative pool.
enum RawSocket {
    static func exchanging(port: Int, bytes: [UInt8]) async throws -> (bytes: [UInt8], closedByPeer: Bool) {
        try await offThePool {
            let connection = try RawConnection(port: port)
            if !bytes.isEmpty { connection.send(bytes) }
            let answer = connection.receive(within: 10)
            return (answer.bytes, answer.closed)
        }
    }
}

@Suite("OTLP on the wrong transport", .serialized)
struct WrongTransportTests {
    /// A gRPC exporter pointed at the OTLP/HTTP port: before, the HTTP/1 parser failed and the
    /// client saw a reset; now it gets an HTTP/2 GOAWAY whose debug data says what to change.
    @Test func aGRPCClientOnTheHTTPPortGetsAGoAwaySayingWhatIsWrong() async throws {
        let receiver = try await ReceiverHarness.start()
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        let answer = try await RawSocket.exchanging(port: receiver.port, bytes: preface).bytes
        #expect(Array(answer.prefix(9)) == [0, 0, 0, 4, 0, 0, 0, 0, 0], "an empty SETTINGS frame first")
        #expect(answer.count > 17 && answer[12] == 0x7, "then a GOAWAY frame")
        #expect(Array(answer[18..<26]) == [0, 0, 0, 0, 0, 0, 0, 0x0D], "last stream 0, HTTP_1_1_REQUIRED")
        let debug = String(decoding: answer.dropFirst(26), as: UTF8.self)
        #expect(
            debug
                == "an OTLP/gRPC client is sending to the OTLP/HTTP port \(receiver.port); send to the OTLP/gRPC port (4317) or switch the exporter to http/protobuf"
        )
        #expect(receiver.collector.currentStatistics.wrongProtocolConnections == 1)
        #expect(receiver.publishedBatches().isEmpty)
        // HTTP/1 clients are untouched.
        let port = receiver.port
        let body = OTLPEncoder.protobuf(Spans.sample(count: 1))
        let fine = try await offThePool {
            try RawHTTP.send(port: port, headers: [("Content-Type", "application/x-protobuf")], body: body)
        }
        #expect(fine.status == 200)
    }

    /// Review finding: nothing timed out on the gRPC port, so silent sockets held the
    /// connection cap forever.
    @Test func aSilentClientOnTheGRPCPortIsClosedAfterTheHeaderTimeout() async throws {
        let receiver = try await GRPCReceiverHarness.start(headerTimeoutSeconds: 0.2)
        let silent = try await RawSocket.exchanging(port: receiver.port, bytes: [])
        #expect(silent.closedByPeer, "closed by the receiver, not by the test's read timeout")
        let partial = try await RawSocket.exchanging(port: receiver.port, bytes: Array("PRI * HTTP/2.0\r\n".utf8))
        #expect(partial.closedByPeer && partial.bytes.isEmpty)
        let deadline = MonotonicClock.seconds() + 30
        while receiver.collector.currentStatistics.connectionsOpen > 0, MonotonicClock.seconds() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(receiver.collector.currentStatistics.connectionsOpen == 0, "the cap's slots are given back")
        _ = try await receiver.export(OTLPEncoder.protobuf(Spans.sample(count: 1)))
    }

    @Test func wrongTransportConnectionsShowAsAWarning() async throws {
        let receiver = try await GRPCReceiverHarness.start()
        let port = receiver.port
        _ = try await offThePool { try RawHTTP.send(port: port, headers: [], body: [1, 2, 3]) }
        var notice: Notice?
        let deadline = MonotonicClock.seconds() + 60
        while notice == nil, MonotonicClock.seconds() < deadline {
            for case .notice(let found) in receiver.subscription.drain() where found.severity == .warning {
                notice = found
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(notice?.message.hasPrefix("otlp: 1 connection on the wrong transport: an OTLP/HTTP client") == true)
    }
}

@Suite("OTLP/gRPC over TLS", .serialized)
struct OTLPGRPCTLSTests {
    /// A self-signed certificate for 127.0.0.1, made by openssl: (certificate, key) paths.
    static func certificate(in directory: String) throws -> (String, String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", directory + "/key.pem", "-out",
            directory + "/cert.pem",
        ]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (directory + "/cert.pem", directory + "/key.pem")
    }

    @Test func aTLSListenerServesClientsThatTrustItsCertificate() async throws {
        let directory = NSTemporaryDirectory() + "regionwatch-grpc-tls-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (certificate, key) = try await offThePool { try Self.certificate(in: directory) }
        var settings = OTLPReceiverSettings(port: 0)
        settings.grpc = OTLPReceiverSettings.GRPCListen(
            host: "127.0.0.1", port: 0,
            tls: .init(certificatePath: certificate, keyPath: key))
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 1_000)
        let collector = OTLPGRPCReceiverCollector(settings: settings, gate: IngestGate())
        let task = Task { await collector.run(publishingTo: bus, clock: SystemWallClock()) }
        defer { task.cancel() }
        let deadline = MonotonicClock.seconds() + 60
        while collector.boundPort == nil, MonotonicClock.seconds() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let port = try #require(collector.boundPort)
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port),
            transportSecurity: .tls { $0.trustRoots = .certificates([.file(path: certificate, format: .pem)]) })
        let body = OTLPEncoder.protobuf(Spans.sample(count: 2))
        _ = try await withGRPCClient(transport: transport) { client in
            try await client.unary(
                request: ClientRequest(message: body), descriptor: OTLPExportServices.export(of: .traces),
                serializer: RawResponseSerializer(), deserializer: BytesDeserializer(), options: .defaults
            ) { try $0.message }
        }
        let spans = subscription.drain().compactMap {
            if case .spans(let batch) = $0 { batch.spans.count } else { nil }
        }
        #expect(spans == [2])
        // A plaintext client is not served.
        let plaintext = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        var options = CallOptions.defaults
        options.timeout = .seconds(5)
        await #expect(throws: (any Error).self) {
            _ = try await withGRPCClient(transport: plaintext) { client in
                try await client.unary(
                    request: ClientRequest(message: body), descriptor: OTLPExportServices.export(of: .traces),
                    serializer: RawResponseSerializer(), deserializer: BytesDeserializer(), options: options
                ) { try $0.message }
            }
        }
    }
}
