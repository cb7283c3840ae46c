import ArgumentParser
import Foundation
import RegionWatchCollectors
import RegionWatchCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `regionwatch loadgen`: sends OTLP/HTTP trace exports of a chosen size over loopback, for
/// ingest benchmarks. Request bodies are encoded once; every request gets fresh trace ids by
/// patching the id bytes, so the receiver does real work and the generator stays cheap.
struct LoadGeneratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Send OTLP/HTTP trace exports to a receiver, for benchmarks."
    )

    @Option(name: .long, help: ArgumentHelp("Receiver address.", valueName: "HOST:PORT"))
    var target = "127.0.0.1:4318"

    @Option(name: .long, help: "Body encoding: protobuf or json.")
    var format = "protobuf"

    @Option(name: .customLong("spans-per-request"), help: "Spans in each request.")
    var spansPerRequest = 1000

    @Option(name: .long, help: "Seconds to send for.")
    var duration = 10.0

    @Option(name: .long, help: "Concurrent keep-alive connections.")
    var connections = 2

    @Option(name: .long, help: "Requests per second across all connections (0: as fast as the receiver answers).")
    var rate = 0.0

    @Option(name: .long, help: "Bearer token, when the receiver requires one.")
    var token: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard OTLPReceiverSettings.parseListenAddress(target) != nil else {
            throw ValidationError("--target must be HOST:PORT")
        }
        guard ["protobuf", "json"].contains(format) else { throw ValidationError("--format must be protobuf or json") }
        guard (1...100_000).contains(spansPerRequest) else {
            throw ValidationError("--spans-per-request must be 1...100000")
        }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be 1...64") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
    }

    func run() throws {
        let (host, port) = OTLPReceiverSettings.parseListenAddress(target)!
        let templates = (0..<8).map {
            RequestTemplate(spans: spansPerRequest, seed: UInt64(1000 + $0), json: format == "json")
        }
        let counters = LoadCounters()
        let deadline = MonotonicClock.seconds() + duration
        let interval = rate > 0 ? Double(connections) / rate : 0
        var threads: [Thread] = []
        let done = DispatchGroup()
        for worker in 0..<connections {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                LoadWorker(
                    host: host, port: port, token: token, json: format == "json", templates: templates,
                    counters: counters, worker: worker
                )
                .run(until: deadline, interval: interval)
            }
            thread.start()
            threads.append(thread)
        }
        done.wait()
        let result = counters.snapshot(seconds: duration, spansPerRequest: spansPerRequest)
        if json {
            print(
                #"{"requests":\#(result.requests),"accepted":\#(result.accepted),"refused429":\#(result.refused429),"otherStatus":\#(result.otherStatus),"failures":\#(result.failures),"spansAccepted":\#(result.spansAccepted),"spansPerSecond":\#(Int(result.spansPerSecond)),"bytesSent":\#(result.bytes)}"#
            )
        } else {
            print(
                "sent \(result.requests) requests (\(format), \(spansPerRequest) spans each) in \(Format.fixed(duration, decimals: 1)) s over \(connections) connection(s)"
            )
            print(
                "  accepted \(result.accepted), 429 \(result.refused429), other status \(result.otherStatus), connection failures \(result.failures)"
            )
            print(
                "  \(result.spansAccepted) spans accepted = \(Int(result.spansPerSecond)) spans/s, \(Format.bytes(Double(result.bytes))) sent"
            )
        }
    }
}

/// An encoded request whose trace ids can be rewritten in place.
struct RequestTemplate: Sendable {
    let body: [UInt8]
    /// Where each trace id's bytes (protobuf) or hex digits (JSON) start, and which trace.
    let idOffsets: [(offset: Int, trace: Int)]
    let traceIDs: [TraceID]
    let isJSON: Bool

    init(spans: Int, seed: UInt64, json: Bool) {
        var random = SeededGenerator(seed: seed)
        var builder = TraceGenerator.BatchBuilder()
        let regions = Topology.demo.regions
        let end = SystemWallClock().now()
        while builder.spans.count < spans {
            let region = regions[Int(random.next() % 2)]
            TraceGenerator.addTrace(
                to: &builder,
                conditions: .init(region: region, versions: ["api": "2.14.3"], latencyFactor: 1, errorRate: 0.01),
                primary: regions[0], end: end, random: &random)
        }
        var batch = builder.batch(source: "loadgen", at: end)
        batch.spans = Array(batch.spans.prefix(spans))
        body = json ? OTLPEncoder.json(batch) : OTLPEncoder.protobuf(batch)
        isJSON = json
        var ids: [TraceID] = []
        for span in batch.spans where !ids.contains(span.traceID) { ids.append(span.traceID) }
        traceIDs = ids
        // One pass over the body: protobuf carries ids as 16 raw bytes, JSON as 32 hex digits.
        var offsets: [(Int, Int)] = []
        let width = json ? 32 : 16
        var byPrefix: [UInt64: Int] = [:]
        for (index, id) in ids.enumerated() {
            let pattern = json ? Array(id.hex.utf8) : OTLPEncoder.bytes(of: id)
            byPrefix[Self.prefix(pattern, 0)] = index
        }
        let bytes = body
        var position = 0
        while position + width <= bytes.count {
            if let trace = byPrefix[Self.prefix(bytes, position)] {
                let pattern = json ? Array(ids[trace].hex.utf8) : OTLPEncoder.bytes(of: ids[trace])
                if bytes[position..<(position + width)].elementsEqual(pattern) {
                    offsets.append((position, trace))
                    position += width
                    continue
                }
            }
            position += 1
        }
        idOffsets = offsets
    }

    /// The first eight bytes at `offset`, as one number (a cheap key for matching ids).
    static func prefix(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[index]) }
        return value
    }

    /// The body with every trace id replaced by a fresh one derived from `nonce`.
    func body(nonce: UInt64) -> [UInt8] {
        var copy = body
        for (offset, trace) in idOffsets {
            let original = traceIDs[trace]
            let fresh = TraceID(high: original.high ^ (nonce &* 0x9E37_79B9_7F4A_7C15), low: original.low ^ nonce)
            let replacement = isJSON ? Array(fresh.hex.utf8) : OTLPEncoder.bytes(of: fresh)
            copy.replaceSubrange(offset..<(offset + replacement.count), with: replacement)
        }
        return copy
    }
}

/// Totals across workers.
final class LoadCounters: Sendable {
    private let values = Mutex((requests: 0, accepted: 0, refused429: 0, otherStatus: 0, failures: 0, bytes: 0))

    func record(status: Int?, bytes: Int) {
        values.withLock {
            $0.requests += 1
            $0.bytes += bytes
            switch status {
            case 200?: $0.accepted += 1
            case 429?: $0.refused429 += 1
            case nil: $0.failures += 1
            default: $0.otherStatus += 1
            }
        }
    }

    struct Result {
        var requests, accepted, refused429, otherStatus, failures, bytes, spansAccepted: Int
        var spansPerSecond: Double
    }

    func snapshot(seconds: Double, spansPerRequest: Int) -> Result {
        values.withLock {
            Result(
                requests: $0.requests, accepted: $0.accepted, refused429: $0.refused429, otherStatus: $0.otherStatus,
                failures: $0.failures, bytes: $0.bytes, spansAccepted: $0.accepted * spansPerRequest,
                spansPerSecond: Double($0.accepted * spansPerRequest) / seconds)
        }
    }
}

/// One keep-alive connection sending requests back to back.
struct LoadWorker {
    let host: String
    let port: Int
    let token: String?
    let json: Bool
    let templates: [RequestTemplate]
    let counters: LoadCounters
    let worker: Int

    func run(until deadline: Double, interval: Double) {
        var socket: Int32 = -1
        var sequence: UInt64 = UInt64(worker) << 40
        var next = MonotonicClock.seconds()
        while MonotonicClock.seconds() < deadline {
            if interval > 0 {
                let wait = next - MonotonicClock.seconds()
                if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
                next += interval
            }
            if socket < 0 { socket = connectSocket() }
            guard socket >= 0 else {
                counters.record(status: nil, bytes: 0)
                usleep(100_000)
                continue
            }
            sequence += 1
            let body = templates[Int(sequence % UInt64(templates.count))].body(nonce: sequence)
            var head =
                "POST /v1/traces HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(json ? "application/json" : "application/x-protobuf")\r\nContent-Length: \(body.count)\r\n"
            if let token { head += "Authorization: Bearer \(token)\r\n" }
            head += "\r\n"
            let status = exchange(socket, Array(head.utf8) + body)
            counters.record(status: status, bytes: body.count)
            if status == nil || status == 429 {
                close(socket)
                socket = -1
                if status == 429 { usleep(50_000) }
            }
        }
        if socket >= 0 { close(socket) }
    }

    private func connectSocket() -> Int32 {
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            close(descriptor)
            return -1
        }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return descriptor
    }

    /// Sends a request and reads the response; returns its status, or `nil` on failure.
    private func exchange(_ socket: Int32, _ request: [UInt8]) -> Int? {
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return nil }
            sent += count
        }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var received: [UInt8] = []
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            received += buffer[0..<count]
            guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
            let status = head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
            let length =
                head.lowercased().components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }.flatMap {
                    Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces))
                } ?? 0
            if received.count - end.upperBound >= length { return status }
        }
    }
}
