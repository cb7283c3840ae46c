import ArgumentParser
import Foundation
import RegionWatchCollectors
import RegionWatchCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `regionwatch loadgen`: sends OTLP exports (traces, metrics or logs; OTLP/HTTP or OTLP/gRPC)
/// of a chosen size over loopback, for ingest benchmarks. Request bodies are encoded once; every
/// trace request gets fresh trace ids by patching the id bytes, so the receiver does real work
/// and the generator stays cheap.
struct LoadGeneratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Send OTLP exports (traces, metrics or logs, over HTTP or gRPC) to a receiver, for benchmarks."
    )

    @Option(
        name: .long,
        help: ArgumentHelp("Receiver address (4318 for http, 4317 for grpc by convention).", valueName: "HOST:PORT"))
    var target = "127.0.0.1:4318"

    @Option(name: .customLong("protocol"), help: "Transport: http (OTLP/HTTP) or grpc (OTLP/gRPC).")
    var transport = "http"

    @Option(name: .long, help: "Signal: traces, metrics or logs.")
    var signal = "traces"

    @Option(name: .long, help: "Body encoding over http: protobuf or json (grpc is always protobuf).")
    var format = "protobuf"

    @Option(
        name: [.customLong("items-per-request"), .customLong("spans-per-request")],
        help: "Spans, data points or log records in each request.")
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
        guard ["http", "grpc"].contains(transport) else { throw ValidationError("--protocol must be http or grpc") }
        guard OTLPSignal(rawValue: signal) != nil else {
            throw ValidationError("--signal must be traces, metrics or logs")
        }
        if transport == "grpc", format == "json" { throw ValidationError("OTLP/gRPC is always protobuf") }
        if signal == "metrics", format == "json" {
            throw ValidationError("metrics are sent as protobuf only (--format json is for traces and logs)")
        }
        guard (1...100_000).contains(spansPerRequest) else {
            throw ValidationError("--spans-per-request must be 1...100000")
        }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be 1...64") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
    }

    func run() throws {
        let (host, port) = OTLPReceiverSettings.parseListenAddress(target)!
        let signal = OTLPSignal(rawValue: signal)!
        let templates = (0..<8).map {
            RequestTemplate(signal: signal, items: spansPerRequest, seed: UInt64(1000 + $0), json: format == "json")
        }
        let counters = LoadCounters()
        let deadline = MonotonicClock.seconds() + duration
        if transport == "grpc" {
            let token = token, connections = connections
            let finished = DispatchSemaphore(value: 0)
            Task {
                await OTLPGRPCLoadClient.run(
                    host: host, port: port, signal: signal, token: token, connections: connections,
                    deadline: deadline, body: { _, sequence in templates[Int(sequence % 8)].body(nonce: sequence) },
                    record: { outcome, bytes in
                        let status: Int? =
                            switch outcome {
                            case .accepted: 200
                            case .refused: 429
                            case .failed: nil
                            }
                        counters.record(status: status, bytes: bytes)
                    })
                finished.signal()
            }
            finished.wait()
        } else {
            sendOverHTTP(
                host: host, port: port, signal: signal, templates: templates, counters: counters, until: deadline)
        }
        let result = counters.snapshot(seconds: duration, itemsPerRequest: spansPerRequest)
        let noun = signal.itemNoun
        if json {
            print(
                #"{"signal":"\#(signal.rawValue)","protocol":"\#(transport)","requests":\#(result.requests),"accepted":\#(result.accepted),"refused429":\#(result.refused429),"otherStatus":\#(result.otherStatus),"failures":\#(result.failures),"itemsAccepted":\#(result.itemsAccepted),"itemsPerSecond":\#(Int(result.itemsPerSecond)),"bytesSent":\#(result.bytes)}"#
            )
        } else {
            let encoding = transport == "grpc" ? "gRPC" : "HTTP, \(format)"
            print(
                "sent \(result.requests) \(signal.rawValue) requests (\(encoding), \(spansPerRequest) \(noun) each) in \(Format.fixed(duration, decimals: 1)) s over \(connections) connection(s)"
            )
            print(
                "  accepted \(result.accepted), refused (429 / UNAVAILABLE) \(result.refused429), other status \(result.otherStatus), failures \(result.failures)"
            )
            print(
                "  \(result.itemsAccepted) \(noun) accepted = \(Int(result.itemsPerSecond)) \(noun)/s, \(Format.bytes(Double(result.bytes))) sent"
            )
        }
    }

    /// One keep-alive HTTP connection per worker thread, sending back to back.
    private func sendOverHTTP(
        host: String, port: Int, signal: OTLPSignal, templates: [RequestTemplate], counters: LoadCounters,
        until deadline: Double
    ) {
        let interval = rate > 0 ? Double(connections) / rate : 0
        let done = DispatchGroup()
        for worker in 0..<connections {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                LoadWorker(
                    host: host, port: port, path: signal.path, token: token, json: format == "json",
                    templates: templates, counters: counters, worker: worker
                )
                .run(until: deadline, interval: interval)
            }
            thread.start()
        }
        done.wait()
    }
}

/// An encoded request whose trace ids can be rewritten in place.
struct RequestTemplate: Sendable {
    let body: [UInt8]
    /// Where each trace id's bytes (protobuf) or hex digits (JSON) start, and which trace.
    let idOffsets: [(offset: Int, trace: Int)]
    let traceIDs: [TraceID]
    let isJSON: Bool

    /// A request of `items` spans, data points or log records.
    init(signal: OTLPSignal, items: Int, seed: UInt64, json: Bool) {
        switch signal {
        case .traces:
            self.init(spans: items, seed: seed, json: json)
        case .logs:
            let batch = LoadBatches.logs(items, seed: seed)
            self.init(fixed: json ? OTLPLogsEncoder.json(batch) : OTLPLogsEncoder.protobuf(batch), json: json)
        case .metrics:
            let (resources, metrics) = LoadBatches.metrics(items, seed: seed)
            self.init(fixed: OTLPMetricsEncoder.protobuf(resources: resources, metrics: metrics), json: json)
        }
    }

    /// A body sent as it is.
    init(fixed body: [UInt8], json: Bool) {
        self.body = body
        isJSON = json
        idOffsets = []
        traceIDs = []
    }

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
        var requests, accepted, refused429, otherStatus, failures, bytes, itemsAccepted: Int
        var itemsPerSecond: Double
    }

    func snapshot(seconds: Double, itemsPerRequest: Int) -> Result {
        values.withLock {
            Result(
                requests: $0.requests, accepted: $0.accepted, refused429: $0.refused429, otherStatus: $0.otherStatus,
                failures: $0.failures, bytes: $0.bytes, itemsAccepted: $0.accepted * itemsPerRequest,
                itemsPerSecond: Double($0.accepted * itemsPerRequest) / seconds)
        }
    }
}

/// One keep-alive connection sending requests back to back.
struct LoadWorker {
    let host: String
    let port: Int
    /// `/v1/traces`, `/v1/metrics` or `/v1/logs`.
    let path: String
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
                "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(json ? "application/json" : "application/x-protobuf")\r\nContent-Length: \(body.count)\r\n"
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

/// The load generator's metrics and logs: realistic shapes, spread over the demo's regions (the
/// log benchmarks use the same records).
public enum LoadBatches {
    /// `count` log records at `time`: mostly INFO request lines, 2 % ERROR, each in a trace.
    public static func logs(_ count: Int, seed: UInt64, at time: Timestamp = SystemWallClock().now()) -> LogBatch {
        var random = SeededGenerator(seed: seed)
        let regions = Topology.demo.regions.map(\.name)
        let resources = regions.flatMap { region in
            ["api", "worker"].map { service in
                SpanResource(
                    region: region, provider: nil, service: service, serviceVersion: "2.14.3",
                    attributes: [
                        Attribute("service.name", .string(service)), Attribute("cloud.region", .string(region)),
                        Attribute("service.version", .string("2.14.3")),
                    ])
            }
        }
        let now = time.unixNanoseconds
        let records = (0..<count).map { index -> IncomingLogRecord in
            let isError = random.next() % 50 == 0
            let milliseconds = random.next() % 400
            return IncomingLogRecord(
                timeUnixNano: now + UInt64(index), severityNumber: isError ? 17 : 9,
                severityText: isError ? "ERROR" : "INFO",
                body: isError
                    ? "POST /checkout failed after \(milliseconds) ms: upstream inventory timed out"
                    : "GET /orders/\(random.next() % 100_000) 200 in \(milliseconds) ms",
                attributes: [
                    Attribute("http.route", .string(isError ? "/checkout" : "/orders/{id}")),
                    Attribute("user.id", .string("u\(random.next() % 10_000)")),
                ],
                traceID: TraceID(high: random.next() | 1, low: random.next()), spanID: SpanID(random.next() | 1),
                resourceIndex: Int(random.next() % UInt64(resources.count)))
        }
        return LogBatch(source: "loadgen", receivedAt: time, resources: resources, records: records)
    }

    /// `count` cumulative `http.server.request.duration` points (one series each), over the
    /// demo's regions, with the SDK's default bucket layout for seconds.
    static func metrics(_ count: Int, seed: UInt64) -> (resources: [SpanResource], metrics: [IncomingMetric]) {
        var random = SeededGenerator(seed: seed)
        let regions = Topology.demo.regions.map(\.name)
        let resources = regions.map { region in
            SpanResource(
                region: region, provider: nil, service: "api", serviceVersion: nil,
                attributes: [Attribute("service.name", .string("api")), Attribute("cloud.region", .string(region))])
        }
        let bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
        let now = SystemWallClock().now().unixNanoseconds
        var metrics = resources.indices.map {
            IncomingMetric(
                name: "http.server.request.duration", unit: "s", kind: .histogram(temporality: .cumulative),
                resourceIndex: $0, points: [])
        }
        for index in 0..<count {
            let counts = (0...bounds.count).map { _ in Double(random.next() % 1000) }
            metrics[index % metrics.count].points.append(
                MetricPoint(
                    attributes: [
                        Attribute("http.route", .string("/route/\(index)")),
                        Attribute("http.response.status_code", .int(index % 20 == 0 ? 503 : 200)),
                    ], startUnixNano: now - 60_000_000_000, timeUnixNano: now,
                    value: .histogram(
                        count: counts.reduce(0, +), sum: nil, bounds: bounds, counts: counts, min: nil, max: nil)))
        }
        return (resources, metrics.filter { !$0.points.isEmpty })
    }
}
