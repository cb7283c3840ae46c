import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RegionWatchCore
import Testing
@testable import RegionWatchCollectors

/// A local HTTP(S) server with fixed routes: `/ok`, `/slow` (never answers), `/fail` (503),
/// `/metrics` (an exposition whose value changes per request), `/api/v1/query` (PromQL JSON),
/// `/big` (a body larger than clients allow).
final class FixtureServer: @unchecked Sendable {
    let channel: Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init(tls: NIOSSLContext? = nil) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FixtureHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }

    /// A self-signed certificate valid for `days`, made by openssl.
    static func temporaryTLS(days: Int) throws -> NIOSSLContext {
        let directory = NSTemporaryDirectory() + "regionwatch-tls-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "\(days)", "-subj", "/CN=localhost", "-keyout",
            directory + "/key.pem", "-out", directory + "/cert.pem",
        ]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(directory + "/cert.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory + "/key.pem", format: .pem))
        )
        return try NIOSSLContext(configuration: configuration)
    }
}

private final class FixtureHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    nonisolated(unsafe) static var scrapes = 0
    private var path = "/"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): path = head.uri
        case .body: break
        case .end: respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        let (status, body): (HTTPResponseStatus, String)
        switch path {
        case "/ok": (status, body) = (.ok, "status: ok")
        case "/slow": return
        case "/fail": (status, body) = (.serviceUnavailable, "maintenance")
        case "/big": (status, body) = (.ok, String(repeating: "x", count: 2 << 20))
        case "/absurd":
            (status, body) = (
                .ok,
                "pg_replication_lag{region=\"eu-west-1\"} 1e300\npg_replication_lag{region=\"ap-southeast-1\"} 4.5\nbackup_age{region=\"eu-west-1\"} -5\nbackup_age{region=\"ap-southeast-1\"} 9.3e18\n"
            )
        case "/metrics":
            Self.scrapes += 1
            (status, body) = (
                .ok,
                "# TYPE pg_replication_lag gauge\npg_replication_lag{region=\"eu-west-1\"} \(Self.scrapes)\npg_replication_lag{region=\"ap\"} notanumber\npg_up 1\n"
            )
        default:
            if path.hasPrefix("/api/v1/query?query=absurd") {
                let series = [
                    ("eu-west-1", "1e300"), ("ap-southeast-1", "NaN"), ("us-east-1", "+Inf"), ("sa-east-1", "-3"),
                    ("af-south-1", "12"),
                ]
                let result = series.map { #"{"metric":{"region":"\#($0.0)"},"value":[1700000000,"\#($0.1)"]}"# }.joined(
                    separator: ",")
                (status, body) = (.ok, #"{"status":"success","data":{"resultType":"vector","result":[\#(result)]}}"#)
            } else if path.hasPrefix("/api/v1/query?query=bad") {
                (status, body) = (
                    .badRequest, #"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#
                )
            } else if path.hasPrefix("/api/v1/query") {
                (status, body) = (
                    .ok,
                    #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"region":"eu-west-1"},"value":[1700000000,"0.25"]}]}}"#
                )
            } else {
                (status, body) = (.notFound, "no such path")
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

@Suite("HTTP collectors against a local server", .serialized)
struct HTTPCollectorTests {
    static let now = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func probe(
        _ url: String, timeout: Double = 10, expect: Set<Int> = Set(200...399), body: String? = nil, verify: Bool = true
    ) async throws -> ProbeResult {
        let settings = HTTPProbeSettings(
            name: "probe", targets: [.init(region: "eu-west-1", target: try HTTPTarget(parsing: url))],
            expectedStatus: expect, bodyContains: body, timeoutSeconds: timeout, verifiesCertificates: verify)
        let round = await HTTPProbeSource(settings: settings).collect(at: Self.now)
        guard case .probe(let result) = round.events.first else { throw RawHTTP.Failure("no probe result") }
        return result
    }

    @Test func probeOutcomes() async throws {
        let server = try await FixtureServer()
        defer { Task { await server.close() } }
        let base = "http://127.0.0.1:\(server.port)"

        let up = try await probe(base + "/ok", body: "ok")
        #expect(up.isSuccess)
        #expect(up.message.hasPrefix("HTTP 200 in "))
        #expect(up.latencyMilliseconds != nil)

        let slow = try await probe(base + "/slow", timeout: 0.3)
        #expect(!slow.isSuccess)
        #expect(slow.message == "timed out after 0.3s")

        let wrong = try await probe(base + "/fail")
        #expect(!wrong.isSuccess)
        #expect(wrong.message == "HTTP 503, expected 200–399")

        let missingText = try await probe(base + "/ok", body: "healthy")
        #expect(missingText.message == "HTTP 200 but the body lacks \"healthy\"")

        let closedPort = LoopbackPortForTests.unused()
        let refused = try await probe("http://127.0.0.1:\(closedPort)/ok")
        #expect(!refused.isSuccess)
        #expect(refused.message == "connection refused by 127.0.0.1:\(closedPort)")
    }

    @Test func bodiesAreBounded() async throws {
        let server = try await FixtureServer()
        defer { Task { await server.close() } }
        let request = HTTPFetchRequest(
            target: try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)/big"), timeoutSeconds: 5,
            maxBodyBytes: 1 << 20)
        await #expect(throws: HTTPFetchError.bodyTooLarge(limit: 1 << 20)) { try await HTTPFetcher().fetch(request) }
    }

    @Test func httpsProbeReportsCertificateExpiry() async throws {
        let server = try await FixtureServer(tls: try FixtureServer.temporaryTLS(days: 3))
        defer { Task { await server.close() } }
        let url = "https://127.0.0.1:\(server.port)/ok"
        let verified = try await probe(url)
        #expect(!verified.isSuccess, "a self-signed certificate fails verification")
        #expect(verified.message.hasPrefix("TLS: "))
        let unverified = try await probe(url, verify: false)
        #expect(unverified.isSuccess, "\(unverified.message)")
        let expiry = try #require(unverified.certificateExpiry)
        let days = expiry.seconds(since: SystemWallClock().now()) / 86_400
        #expect(days > 2.9 && days <= 3.01)
        // Fewer than seven days left degrades the region.
        var result = unverified
        result.observedAt = SystemWallClock().now()
        var state = DashboardState(topology: .demo, now: result.observedAt)
        state.apply(.probe(result))
        #expect(
            state.region(named: "eu-west-1")?.assessment.reasons.contains {
                $0.hasPrefix("TLS certificate expires in ")
            } == true, "\(String(describing: state.region(named: "eu-west-1")?.assessment))")
    }

    @Test func scrapeReadsSignalsAndCountsRejectedLines() async throws {
        let server = try await FixtureServer()
        defer { Task { await server.close() } }
        let settings = PrometheusScrapeSettings(
            name: "exporter", target: try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)/metrics"),
            signals: [ScrapedSignal(signal: .replicationLagSeconds, metric: "pg_replication_lag")],
            replicationUpstream: "us-east-1"
        )
        let round = await PrometheusScrapeSource(settings: settings).collect(at: Self.now)
        guard case .replication(let sample) = round.events.first else {
            throw RawHTTP.Failure("no replication sample: \(round)")
        }
        #expect(sample.from == "us-east-1" && sample.to == "eu-west-1")
        #expect((sample.lagSeconds ?? 0) >= 1)
        #expect(round.errors.isEmpty, "the rest was used: the scrape succeeded")
        #expect(round.rejected == ["1 line rejected (first: line 3: value of pg_replication_lag is not a number)"])

        var failing = settings
        failing.endpoint.target = try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)/fail")
        let failed = await PrometheusScrapeSource(settings: failing).collect(at: Self.now)
        #expect(failed.events.isEmpty, "no data is better than a made-up zero")
        #expect(failed.errors == ["scrape http://127.0.0.1:\(server.port)/fail: HTTP 503: maintenance"])
    }

    @Test func absurdScrapedValuesAreRejectedNamedAndNeverReachTheScreen() async throws {
        let server = try await FixtureServer()
        defer { Task { await server.close() } }
        let settings = PrometheusScrapeSettings(
            name: "exporter", target: try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)/absurd"),
            signals: [
                ScrapedSignal(signal: .replicationLagSeconds, metric: "pg_replication_lag"),
                ScrapedSignal(signal: .backupAgeSeconds, metric: "backup_age"),
            ],
            replicationUpstream: "us-east-1"
        )
        let round = await PrometheusScrapeSource(settings: settings).collect(at: Self.now)
        #expect(round.errors.isEmpty)
        #expect(
            round.rejected == [
                "replicationLagSeconds of eu-west-1: 1e+300 s (beyond 100 years)",
                "backupAgeSeconds of eu-west-1: -5.0 is negative",
                "backupAgeSeconds of ap-southeast-1: 9.3e+18 s (beyond 100 years)",
            ])
        #expect(round.events.count == 1, "only the plausible value is used: \(round.events)")
        guard case .replication(let sample) = round.events.first else {
            throw RawHTTP.Failure("no replication sample: \(round)")
        }
        #expect(sample.to == "ap-southeast-1" && sample.lagSeconds == 4.5)

        let promQL = PromQLSettings(
            name: "prom", target: try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)"),
            queries: [(.requestsPerSecond, "absurd")])
        let queried = await PromQLSource(settings: promQL).collect(at: Self.now)
        // NaN in a query result is PromQL's "no data" (0/0): skipped, as before; the rest rejected.
        #expect(
            queried.rejected == [
                "requestsPerSecond of eu-west-1: 1e+300 requests/s (beyond 10^12)",
                "requestsPerSecond of us-east-1: inf is not a number",
                "requestsPerSecond of sa-east-1: -3.0 is negative",
            ])
        #expect(
            queried.events == [
                .regionSample(
                    RegionSample(region: "af-south-1", source: "prom", observedAt: Self.now, requestsPerSecond: 12))
            ])

        // The state counts them per collector and says why, once.
        var state = DashboardState(topology: .demo, now: Self.now)
        state.apply(
            contentsOf: round.events + [
                .collectorStatus(
                    CollectorReport(
                        collector: "exporter", kind: "prometheus-scrape", observedAt: Self.now, intervalSeconds: 1,
                        regions: [],
                        rejectedCount: round.rejected.count, rejection: round.rejected.last
                    ))
            ])
        let collector = state.collectors.first { $0.name == "exporter" }
        #expect(collector?.rejectedCount == 3)
        #expect(collector?.lastSuccessAt == Self.now, "a round with rejected values still succeeded")
        #expect(
            state.recentNotices.contains {
                $0.message
                    == "collector exporter rejected: backupAgeSeconds of ap-southeast-1: 9.3e+18 s (beyond 100 years)"
            })
    }

    @Test func promQLErrorsArePerSignal() async throws {
        let server = try await FixtureServer()
        defer { Task { await server.close() } }
        let settings = PromQLSettings(
            name: "prom", target: try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)"),
            queries: [(.errorRate, "sum by (region) (rate(errors[1m]))"), (.p99Ms, "bad((")]
        )
        let round = await PromQLSource(settings: settings).collect(at: Self.now)
        #expect(
            round.events == [
                .regionSample(RegionSample(region: "eu-west-1", source: "prom", observedAt: Self.now, errorRate: 0.25))
            ])
        #expect(round.errors == ["p99Ms: HTTP 400: bad_data: parse error at char 4"])
    }

    @Test func pollingLoopReportsEveryRoundAndAbandonsOverruns() async throws {
        let server = try await FixtureServer()
        defer { Task { await server.close() } }
        let settings = HTTPProbeSettings(
            name: "probe",
            targets: [
                .init(region: "eu-west-1", target: try HTTPTarget(parsing: "http://127.0.0.1:\(server.port)/slow"))
            ], intervalSeconds: 0.3, timeoutSeconds: 0.1)
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 100)
        let task = Task {
            await PollingCollector(source: HTTPProbeSource(settings: settings)).run(
                publishingTo: bus, clock: SystemWallClock())
        }
        defer { task.cancel() }
        var reports: [CollectorReport] = []
        let deadline = MonotonicClock.seconds() + 30
        while reports.count < 2, MonotonicClock.seconds() < deadline {
            for event in subscription.drain() {
                if case .collectorStatus(let report) = event { reports.append(report) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(reports.count >= 2)
        #expect(reports.first?.error == "eu-west-1: timed out after 0.1s")
        #expect(reports.first?.regions == ["eu-west-1"])
    }
}

/// A loopback port with nothing listening.
enum LoopbackPortForTests {
    static func unused() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

@Suite("Label churn stays bounded")
struct LabelChurnTests {
    /// A scrape target that names 5,000 new region label values every scrape (the attack that
    /// took the dashboard from 74 MB to 1.05 GB in 60 s, never released).
    @Test func newRegionLabelsEveryScrapeKeepEveryStoreBounded() {
        var interpreter = ScrapeInterpreter(signals: [
            ScrapedSignal(signal: .requestsPerSecond, metric: "http_requests_total"),
            ScrapedSignal(signal: .replicationLagSeconds, metric: "pg_replication_lag"),
        ])
        let publisher = SignalPublisher(source: "churn", replicationUpstream: "us-east-1")
        let parser = ExpositionParser(families: interpreter.families)
        let start = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var state = DashboardState(topology: .demo, now: start)
        for scrape in 0..<30 {
            var text = "# TYPE http_requests_total counter\n"
            for label in 0..<5000 {
                let region = "r\(scrape)-\(label)"
                text +=
                    "http_requests_total{region=\"\(region)\"} \(scrape * 10)\npg_replication_lag{region=\"\(region)\"} 1\n"
            }
            let now = start.adding(seconds: Double(scrape))
            let document = parser.parse(Array(text.utf8))
            let round = publisher.events(for: interpreter.readings(from: document, at: now), at: now)
            state.apply(contentsOf: round.events)
            #expect(interpreter.rememberedSeries <= 5000, "only the last scrape's counters are remembered")
        }
        #expect(state.unknownRegionCount == 64, "unknown regions share one cap")
        #expect(state.unknownRegions.forgottenCount == 30 * 5000 - 64, "the stalest names are forgotten and counted")
        #expect(state.unknownRegionObservations["r29-4999"] != nil, "the newest names are kept")
        #expect(state.replicationLinks.isEmpty, "no link to a region not in the configuration")
        #expect(state.recentNotices.count <= 200)
    }

    @Test func counterSeriesBeyondTheLimitAreNotRememberedAndCounted() {
        var interpreter = ScrapeInterpreter(signals: [
            ScrapedSignal(signal: .requestsPerSecond, metric: "http_requests_total")
        ])
        interpreter.maximumRememberedSeries = 100
        let parser = ExpositionParser(families: interpreter.families)
        let start = Timestamp(secondsSinceEpoch: 1_800_000_000)
        func scrape(_ value: Int) -> ExpositionDocument {
            let lines = (0..<500).map { "http_requests_total{region=\"r\($0)\"} \(value)" }
            return parser.parse(
                Array(("# TYPE http_requests_total counter\n" + lines.joined(separator: "\n") + "\n").utf8))
        }
        #expect(interpreter.readings(from: scrape(0), at: start).isEmpty, "a rate needs two scrapes")
        #expect(interpreter.rememberedSeries == 100)
        #expect(interpreter.seriesNotRemembered == 400)
        let readings = interpreter.readings(from: scrape(10), at: start.adding(seconds: 10))
        #expect(readings.count == 100, "rates only for the remembered series")
        #expect(readings.allSatisfy { $0.value == 1 })
        #expect(interpreter.rememberedSeries == 100 && interpreter.seriesNotRemembered == 400)
    }
}
