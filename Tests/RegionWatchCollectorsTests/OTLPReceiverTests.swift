import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import RegionWatchCollectors
@testable import RegionWatchCore

/// A minimal HTTP/1.1 client over a socket, so tests control every byte sent.
struct RawHTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum RawHTTP {
    static func send(
        port: Int, method: String = "POST", path: String = "/v1/traces", headers: [(String, String)] = [],
        body: [UInt8] = [], contentLength: Int? = nil
    ) throws -> RawHTTPResponse {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure("socket failed") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure("connect failed: \(errno)") }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "Content-Length: \(contentLength ?? body.count)\r\n\r\n"
        let bytes = Array(request.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if result <= 0 { break }  // the server may close early (413): read what it said
            sent += result
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        guard let split = received.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw Failure("no response (\(received.count) bytes)")
        }
        let head = String(decoding: received[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var headerMap: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { headerMap[parts[0].lowercased()] = parts[1] }
        }
        return RawHTTPResponse(status: status, headers: headerMap, body: Array(received[split.upperBound...]))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// gzip of `bytes`, by the system's gzip.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let input = NSTemporaryDirectory() + "rw-gzip-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        defer {
            unlink(input)
            unlink(input + ".gz")
        }
        let pid = try spawn(["/bin/gzip", "-kf", input])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return Array(try Data(contentsOf: URL(fileURLWithPath: input + ".gz")))
    }

    /// A small gzip stream that inflates to `megabytes` MiB of zeros.
    static func gzipBomb(megabytes: Int) throws -> [UInt8] {
        try gzip([UInt8](repeating: 0, count: megabytes * 1_048_576))
    }

    private static func spawn(_ arguments: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, arguments[0], nil, nil, &argv, environ) == 0 else {
            throw Failure("spawn \(arguments[0]) failed")
        }
        return pid
    }
}

/// A receiver on a free port, with the bus it publishes to.
final class ReceiverHarness {
    let subscription: EventSubscription<DashboardEvent>
    let gate: IngestGate
    let collector: OTLPReceiverCollector
    private let task: Task<Void, Never>
    let port: Int

    private init(
        collector: OTLPReceiverCollector, gate: IngestGate, bus: EventBus<DashboardEvent>,
        subscription: EventSubscription<DashboardEvent>, task: Task<Void, Never>, port: Int
    ) {
        self.collector = collector
        self.gate = gate
        self.subscription = subscription
        self.task = task
        self.port = port
        _ = bus
    }

    /// Starts a receiver and waits (without blocking a concurrency thread) until it listens.
    static func start(
        settings: OTLPReceiverSettings = OTLPReceiverSettings(port: 0, maxBodyBytes: 1_048_576),
        gate: IngestGate = IngestGate()
    ) async throws -> ReceiverHarness {
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 100_000)
        let collector = OTLPReceiverCollector(settings: settings, gate: gate)
        let task = Task { await collector.run(publishingTo: bus, clock: SystemWallClock()) }
        // Generous: only a broken receiver reaches it, and a busy concurrency pool (two cores,
        // tests in parallel) can delay the receiver's task by seconds.
        let deadline = MonotonicClock.seconds() + 60
        while MonotonicClock.seconds() < deadline {
            if let port = collector.boundPort {
                return ReceiverHarness(
                    collector: collector, gate: gate, bus: bus, subscription: subscription, task: task, port: port)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        throw RawHTTP.Failure("receiver did not bind")
    }

    deinit { task.cancel() }

    /// Span batches published so far.
    func publishedBatches() -> [SpanBatch] {
        subscription.drain().compactMap { if case .spans(let batch) = $0 { batch } else { nil } }
    }
}

@Suite("OTLP/HTTP receiver", .serialized)
struct OTLPReceiverTests {
    static let protobuf = [("Content-Type", "application/x-protobuf")]
    static let json = [("Content-Type", "application/json")]

    @Test func acceptsProtobufAndJSONAndAnswersInKind() async throws {
        let receiver = try await ReceiverHarness.start()
        let batch = Spans.sample(count: 3)
        let protobufResponse = try RawHTTP.send(
            port: receiver.port, headers: Self.protobuf, body: OTLPEncoder.protobuf(batch))
        #expect(protobufResponse.status == 200)
        #expect(protobufResponse.headers["content-type"] == "application/x-protobuf")
        #expect(try ExportTraceServiceResponse(serializedBytes: protobufResponse.body).hasPartialSuccess == false)
        let jsonResponse = try RawHTTP.send(
            port: receiver.port, headers: Self.json + [("Content-Type", "application/json; charset=utf-8")],
            body: OTLPEncoder.json(batch))
        #expect(jsonResponse.status == 200 && jsonResponse.text == "{}")
        let batches = receiver.publishedBatches()
        #expect(batches.map(\.spans.count) == [3, 3])
        #expect(batches.allSatisfy { $0.holdsIngestReservation })
        #expect(receiver.gate.spansInFlight == 6, "reserved until the consumer applies them")
    }

    @Test func partialSuccessCountsRejectedSpans() async throws {
        let receiver = try await ReceiverHarness.start()
        var batch = Spans.sample(count: 4)
        batch.spans[0].spanID = SpanID(0)
        let response = try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: OTLPEncoder.protobuf(batch))
        #expect(response.status == 200)
        let decoded = try ExportTraceServiceResponse(serializedBytes: response.body)
        #expect(decoded.partialSuccess.rejectedSpans == 1)
        #expect(
            decoded.partialSuccess.errorMessage == "rejected 1 of 4 spans: invalid span id (8 bytes)"
                || decoded.partialSuccess.errorMessage.contains("invalid span id"))
        #expect(receiver.publishedBatches().map(\.spans.count) == [3])
    }

    @Test func spansTheStoreWouldRefuseAreCountedInPartialSuccess() async throws {
        let receiver = try await ReceiverHarness.start(settings: OTLPReceiverSettings(port: 0, maxBodyBytes: 8 << 20))
        var batch = Spans.sample(count: 3)
        batch.spans[2].traceID = batch.spans[1].traceID
        batch.spans[2].spanID = batch.spans[1].spanID
        let duplicate = try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: OTLPEncoder.protobuf(batch))
        let decoded = try ExportTraceServiceResponse(serializedBytes: duplicate.body)
        #expect(decoded.partialSuccess.rejectedSpans == 1)
        #expect(decoded.partialSuccess.errorMessage == "rejected 1 of 3 spans: duplicate span id in the request (1)")
        // One trace of 50,001 spans: the last is past the store's limit, and the client is told.
        var big = Spans.sample(count: 1)
        let template = big.spans[0]
        big.spans = (0..<50_001).map { index in
            var span = template
            span.spanID = SpanID(UInt64(index + 1))
            return span
        }
        let response = try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: OTLPEncoder.protobuf(big))
        #expect(response.status == 200)
        let answer = try ExportTraceServiceResponse(serializedBytes: response.body)
        #expect(answer.partialSuccess.rejectedSpans == 1)
        #expect(answer.partialSuccess.errorMessage == "rejected 1 of 50001 spans: trace has more than 50000 spans (1)")
    }

    @Test func gzipBodiesAreAccepted() async throws {
        let receiver = try await ReceiverHarness.start()
        let response = try RawHTTP.send(
            port: receiver.port, headers: Self.json + [("Content-Encoding", "gzip")],
            body: RawHTTP.gzip(OTLPEncoder.json(Spans.sample(count: 2))))
        #expect(response.status == 200)
        #expect(receiver.publishedBatches().map(\.spans.count) == [2])
    }

    @Test func refusalsHaveTheRightStatusAndMessageAndPublishNothing() async throws {
        let receiver = try await ReceiverHarness.start()
        let body = OTLPEncoder.protobuf(Spans.sample(count: 1))
        let cases: [(RawHTTPResponse, Int, String)] = [
            (
                try RawHTTP.send(port: receiver.port, headers: Self.json, body: Array(#"{"resourceSpans":[{"#.utf8)),
                400, "malformed JSON body"
            ),
            (
                try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: Array(body.prefix(body.count - 3))),
                400, "malformed protobuf body"
            ),
            (try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: []), 400, "empty body"),
            (
                try RawHTTP.send(port: receiver.port, headers: [("Content-Type", "text/plain")], body: body), 415,
                "unsupported content type 'text/plain'"
            ),
            (
                try RawHTTP.send(port: receiver.port, headers: Self.json + [("Content-Encoding", "br")], body: body),
                415, "unsupported content encoding 'br'"
            ),
            (
                try RawHTTP.send(port: receiver.port, path: "/v1/profiles", headers: Self.protobuf, body: body), 404,
                "not found"
            ),
            (
                try RawHTTP.send(port: receiver.port, method: "GET", headers: Self.protobuf), 405,
                "method GET not allowed"
            ),
            (
                try RawHTTP.send(
                    port: receiver.port, headers: Self.json + [("Content-Encoding", "gzip")],
                    body: Array("not gzip at all".utf8)), 400, "invalid compressed body"
            ),
        ]
        for (response, status, message) in cases {
            #expect(response.status == status, "\(message): got \(response.status) \(response.text)")
            let text =
                response.headers["content-type"] == "application/x-protobuf"
                ? String(decoding: response.body.dropFirst(4), as: UTF8.self) : response.text
            #expect(text.contains(message), "expected '\(message)' in \(text)")
        }
        #expect(cases[6].0.headers["allow"] == "POST")
        #expect(cases[0].0.text.hasPrefix(#"{"code":3,"message":"malformed JSON body"#))
        #expect(receiver.publishedBatches().isEmpty, "nothing reaches the store")
        let statistics = receiver.collector.statistics
        #expect(statistics.requestsRefused == cases.count)
        #expect(statistics.refusalsByStatus[400] == 4)
    }

    @Test func oversizedBodiesAreRefusedEvenWhenCompressed() async throws {
        let receiver = try await ReceiverHarness.start(settings: OTLPReceiverSettings(port: 0, maxBodyBytes: 64 * 1024))
        let large = [UInt8](repeating: 0x20, count: 200 * 1024)
        // Declared too large: refused before reading.
        let declared = try RawHTTP.send(port: receiver.port, headers: Self.json, body: large)
        #expect(declared.status == 413)
        #expect(declared.text.contains("larger than 65536 bytes"))
        // A gzip bomb: small on the wire, huge after inflating.
        let bomb = try RawHTTP.send(
            port: receiver.port, headers: Self.json + [("Content-Encoding", "gzip")],
            body: RawHTTP.gzipBomb(megabytes: 50))
        #expect(bomb.status == 413)
        #expect(bomb.text.contains("after decompression"))
        #expect(receiver.publishedBatches().isEmpty)
    }

    @Test func bearerTokenIsRequiredWhenConfigured() async throws {
        let receiver = try await ReceiverHarness.start(settings: OTLPReceiverSettings(port: 0, bearerToken: "s3cret"))
        let body = OTLPEncoder.json(Spans.sample(count: 1))
        let missing = try RawHTTP.send(port: receiver.port, headers: Self.json, body: body)
        #expect(missing.status == 401 && missing.text.contains("missing bearer token"))
        #expect(missing.headers["www-authenticate"] == "Bearer")
        let wrong = try RawHTTP.send(
            port: receiver.port, headers: Self.json + [("Authorization", "Bearer nope")], body: body)
        #expect(wrong.status == 401 && !wrong.text.contains("s3cret"))
        let right = try RawHTTP.send(
            port: receiver.port, headers: Self.json + [("Authorization", "Bearer s3cret")], body: body)
        #expect(right.status == 200)
        // Auth schemes are case-insensitive: `bearer` is Bearer.
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            let spelled = try RawHTTP.send(
                port: receiver.port, headers: Self.json + [("Authorization", "\(scheme) s3cret")], body: body)
            #expect(spelled.status == 200, "\(scheme)")
        }
        for wrongScheme in ["Basic s3cret", "s3cret", "Bearer", "Bearers3cret", "Bearer s3cre"] {
            let refused = try RawHTTP.send(
                port: receiver.port, headers: Self.json + [("Authorization", wrongScheme)], body: body)
            #expect(refused.status == 401, "\(wrongScheme)")
        }
    }

    @Test func saturatedIngestAnswers429WithRetryAfter() async throws {
        let gate = IngestGate(spanCapacity: 5, batchCapacity: 100)
        let receiver = try await ReceiverHarness.start(gate: gate)
        let body = OTLPEncoder.protobuf(Spans.sample(count: 4))
        #expect(try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: body).status == 200)
        let refused = try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: body)
        #expect(refused.status == 429)
        #expect(refused.headers["retry-after"] == "1")
        #expect(String(decoding: refused.body, as: UTF8.self).contains("ingest saturated"))
        // Once the consumer applies the first batch, there is room again.
        for batch in receiver.publishedBatches() { gate.release(spans: batch.spans.count) }
        #expect(try RawHTTP.send(port: receiver.port, headers: Self.protobuf, body: body).status == 200)
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        let receiver = try await ReceiverHarness.start()
        // Two pipelined requests on one connection, both answered.
        let body = OTLPEncoder.json(Spans.sample(count: 1))
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(receiver.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let request =
            Array(
                "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                    .utf8) + body
        let twice = request + request
        _ = twice.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
        var received = ""
        var buffer = [UInt8](repeating: 0, count: 8192)
        let deadline = Date().addingTimeInterval(5)
        while received.components(separatedBy: "HTTP/1.1 200").count < 3, Date() < deadline {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        #expect(received.components(separatedBy: "HTTP/1.1 200").count == 3)
        #expect(receiver.publishedBatches().count == 2)
    }

    @Test func aTakenPortIsReportedAndRetried() async throws {
        let first = try await ReceiverHarness.start()
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 100)
        let second = OTLPReceiverCollector(settings: OTLPReceiverSettings(port: first.port), gate: IngestGate())
        let task = Task { await second.run(publishingTo: bus, clock: SystemWallClock()) }
        var error: String?
        let deadline = Date().addingTimeInterval(60)
        while error == nil, Date() < deadline {
            for event in subscription.drain() {
                if case .collectorStatus(let report) = event { error = report.error }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        #expect(error?.contains("cannot listen on 127.0.0.1:\(first.port)") == true)
    }
}

extension OTLPReceiverCollector {
    /// The receiver's counters as last published (for tests).
    var statistics: ReceiverStatistics {
        // Statistics are published each second; ask the context directly through a fresh report.
        currentStatistics
    }
}
