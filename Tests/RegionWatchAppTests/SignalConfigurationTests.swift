import Foundation
import Testing
@testable import RegionWatchApp
@testable import RegionWatchCollectors
@testable import RegionWatchCore

/// Configuration of OTLP metrics mappings, the log store and log-error health thresholds.
@Suite("Metrics and logs configuration")
struct SignalConfigurationTests {
    func otlp(_ entry: String) throws -> OTLPReceiverSettings? {
        let (configuration, _) = try ConfigurationParser.parse(
            minimal().replacingOccurrences(of: "  - kind: simulator", with: entry), file: "c.yaml")
        guard case .otlp(let settings) = configuration.collectors.first else { return nil }
        return settings
    }

    @Test func metricSignalsComeBeforeTheSemanticConventions() throws {
        let settings = try #require(
            try otlp(
                """
                  - kind: otlp
                    metricSignals:
                      p99Ms: rpc.server.duration
                      errorRate: { metric: rpc.server.duration, where: { rpc.system: grpc }, errorWhen: { rpc.grpc.status_code: '*' } }
                      trafficShare: { metric: lb.share, scale: 0.01 }
                """))
        let configured = Array(settings.metricMappings.prefix(3))
        #expect(configured[0] == OTLPMetricMapping(signal: .p99Ms, metric: "rpc.server.duration"))
        #expect(configured[1].matchers == [AttributeMatcher(key: "rpc.system", pattern: "grpc")])
        #expect(configured[1].errorWhen == [[AttributeMatcher(key: "rpc.grpc.status_code", pattern: "*")]])
        #expect(configured[2].scale == 0.01)
        #expect(Array(settings.metricMappings.dropFirst(3)) == OTLPMetricMapping.httpSemanticConventions)
        #expect(try otlp("  - { kind: otlp }")?.metricMappings == OTLPMetricMapping.httpSemanticConventions)
    }

    @Test(arguments: [
        ("metricSignals: { p99: x }", "unknown signal 'p99' (did you mean 'p99Ms'?)"),
        ("metricSignals: { errorRate: { metric: m } }", "errorWhen: missing: which series are errors"),
        ("metricSignals: { replicationLagSeconds: lag }", "cannot come from OTLP metrics"),
        ("metricSignals: { p50Ms: { metric: m, errorWhen: { a: b } } }", "only errorRate counts errors"),
        ("metricSignals: [a]", "expected a mapping of signal to OTLP metric"),
    ])
    func badMetricSignalsSayWhatIsWrong(entry: String, expected: String) {
        let errors = parseErrors(
            minimal().replacingOccurrences(of: "  - kind: simulator", with: "  - { kind: otlp, \(entry) }"))
        #expect(errors.contains { $0.contains(expected) }, "\(errors)")
    }

    @Test func logLimitsAndLogErrorThresholds() throws {
        let (configuration, _) = try ConfigurationParser.parse(
            minimal(
                """
                logs: { maxRecords: 5000, maxMemory: 8MiB }
                health: { logErrorsPerSecondDegraded: 0.5, logErrorsPerSecondDown: 10 }
                """), file: "c.yaml")
        #expect(configuration.logLimits.maxRecords == 5000 && configuration.logLimits.maxBytes == 8 << 20)
        #expect(configuration.topology.thresholds.logErrorsPerSecondDegraded == 0.5)
        #expect(configuration.topology.thresholds.logErrorsPerSecondDown == 10)
        let errors = parseErrors(minimal("health: { logErrorsPerSecondDegraded: 5, logErrorsPerSecondDown: 1 }"))
        #expect(errors.contains { $0.contains("health.logErrorsPerSecondDown: must be above") }, "\(errors)")
        #expect(parseErrors(minimal("logs: { maxRecords: 1 }")).contains { $0.contains("logs.maxRecords") })
    }

    @Test func statusJSONReportsLogsMetricsAndEachSignalOfEachReceiver() throws {
        var state = DashboardState(topology: .demo, now: Timestamp(secondsSinceEpoch: 1_800_000_000))
        let region = Topology.demo.regions[0].name
        let resource = SpanResource(
            region: region, provider: nil, service: "api", serviceVersion: nil, attributes: [])
        let records = (0..<6).map {
            IncomingLogRecord(timeUnixNano: 1, severityNumber: $0 < 3 ? 17 : 9, body: "r\($0)")
        }
        state.apply(.logs(LogBatch(source: "otlp", receivedAt: state.now, resources: [resource], records: records)))
        state.apply(
            .metrics(
                MetricBatch(
                    source: "otlp/metrics",
                    updates: [
                        MetricSeriesUpdate(
                            region: region, service: "api", metric: "m", kind: "gauge", unit: "", attributes: "",
                            value: 1, valueUnit: "", summary: "1", observedAt: state.now)
                    ])))
        var statistics = ReceiverStatistics(receiver: "otlp", listenAddress: "127.0.0.1:4318", observedAt: state.now)
        statistics.signals["logs"] = {
            var counts = ReceiverStatistics.SignalCounts()
            counts.record(received: 6, rejected: 1, message: "rejected 1 of 7 log records: invalid span id (1)")
            return counts
        }()
        state.apply(.receiverStatistics(statistics))
        state.apply(.tick(state.now.adding(seconds: 1)))
        let json =
            try JSONSerialization.jsonObject(with: Data(try StatusReport(state: state).json().utf8)) as? [String: Any]
        let logs = try #require(json?["logs"] as? [String: Any])
        #expect(logs["records"] as? Int == 6 && logs["received"] as? Int == 6)
        #expect((json?["metrics"] as? [String: Any])?["series"] as? Int == 1)
        let regions = try #require(json?["regions"] as? [[String: Any]])
        #expect(regions[0]["logErrorsPerSecond"] as? Double == 3.0 / 60)
        #expect(regions[0]["logRecordsPerSecond"] as? Double == 6.0 / 60)
        #expect(regions[1]["logErrorsPerSecond"] is NSNull, "no logs from that region: null, not 0")
        let receiver = try #require((json?["receivers"] as? [[String: Any]])?.first)
        let signal = try #require((receiver["signals"] as? [String: Any])?["logs"] as? [String: Any])
        #expect(signal["received"] as? Int == 6 && signal["rejected"] as? Int == 1)
        #expect((signal["lastRejection"] as? String)?.contains("invalid span id") == true)
    }

    /// Review: `loadgen --signal metrics --format json` sent protobuf bodies labelled JSON (every
    /// request answered 400); the combination is refused with the reason.
    @Test func loadgenRefusesWhatItCannotSend() {
        #expect(throws: (any Error).self) {
            try LoadGeneratorCommand.parse(["--signal", "metrics", "--format", "json"])
        }
        #expect(throws: (any Error).self) {
            try LoadGeneratorCommand.parse(["--protocol", "grpc", "--format", "json"])
        }
        #expect(throws: (any Error).self) { try LoadGeneratorCommand.parse(["--signal", "profiles"]) }
        #expect((try? LoadGeneratorCommand.parse(["--signal", "logs", "--format", "json"])) != nil)
    }
}
