import Foundation
import RegionWatchApp
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchFailover

/// Every parser and decoder that reads bytes from outside, as a fuzz target: each takes any
/// bytes and must return (an error is fine) without trapping, hanging or growing without bound.
enum FuzzTargets {
    /// Target name → what it runs on one input.
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "otlp-protobuf": { bytes in
            _ = try? OTLPProtobufDecoder.decode(bytes, attribution: attribution, source: "fuzz", receivedAt: now)
        },
        "otlp-json": { bytes in
            _ = try? OTLPJSONDecoder.decode(bytes, attribution: attribution, source: "fuzz", receivedAt: now)
        },
        "otlp-logs-protobuf": { bytes in
            _ = bytes.withUnsafeBytes {
                try? OTLPLogsDecoder.decodeProtobuf($0, attribution: attribution, source: "fuzz", receivedAt: now)
            }
        },
        "otlp-logs-json": { bytes in
            _ = bytes.withUnsafeBytes {
                try? OTLPLogsDecoder.decodeJSON($0, attribution: attribution, source: "fuzz", receivedAt: now)
            }
        },
        "otlp-metrics-protobuf": { bytes in
            guard let decoded = bytes.withUnsafeBytes({ try? OTLPMetricsDecoder.decodeProtobuf($0, attribution: attribution) })
            else { return }
            var interpreter = OTLPMetricInterpreter(source: "fuzz")
            _ = interpreter.events(for: decoded, at: now)
            _ = interpreter.events(for: decoded, at: now.adding(seconds: 5))
        },
        "otlp-metrics-json": { bytes in
            guard let decoded = bytes.withUnsafeBytes({ try? OTLPMetricsDecoder.decodeJSON($0, attribution: attribution) })
            else { return }
            var interpreter = OTLPMetricInterpreter(source: "fuzz")
            _ = interpreter.events(for: decoded, at: now)
            _ = interpreter.events(for: decoded, at: now.adding(seconds: 5))
        },
        "exposition": { bytes in
            let document = ExpositionParser().parse(bytes)
            var interpreter = ScrapeInterpreter(signals: signals)
            _ = SignalPublisher(source: "fuzz", replicationUpstream: "us-east-1").events(for: interpreter.readings(from: document, at: now), at: now)
        },
        "promql": { bytes in
            _ = try? PromQLResponse.parse(bytes, status: 200)
        },
        "config": { bytes in
            _ = try? ConfigurationParser.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        },
        "theme": { bytes in
            _ = try? ThemeParser.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        },
        "audit-log": { bytes in
            let history = AuditLog.parse(Data(bytes))
            _ = UnresolvedAttempts.find(in: history, settings: FailoverSettings(plan: FailoverSettings.demoPlan))
            _ = FailoverHistoryReader.summary(history, path: "fuzz.jsonl")
        },
    ]

    static let attribution = RegionAttribution()
    static let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let signals = [
        ScrapedSignal(signal: .requestsPerSecond, metric: "http_requests_total"),
        ScrapedSignal(signal: .p99Ms, metric: "http_request_duration_seconds"),
        ScrapedSignal(signal: .replicationLagSeconds, metric: "pg_replication_lag"),
    ]
}
