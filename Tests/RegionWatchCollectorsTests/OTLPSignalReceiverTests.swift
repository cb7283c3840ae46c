import Foundation
import GRPCCore
import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore
@testable import RegionWatchOTLPProtocol

/// Metrics and logs through both receivers: the same limits, status codes and counters as
/// traces.
@Suite("OTLP metrics and logs receivers", .serialized)
struct OTLPSignalReceiverTests {
    static let protobuf = [("Content-Type", "application/x-protobuf")]
    static let json = [("Content-Type", "application/json")]

    static let logBatch = Signals.logs([
        IncomingLogRecord(
            timeUnixNano: Signals.base, severityNumber: 17, severityText: "ERROR", body: "card declined",
            traceID: TraceID(high: 9, low: 9), spanID: SpanID(9)),
        IncomingLogRecord(timeUnixNano: Signals.base, severityNumber: 9, body: "ok"),
        IncomingLogRecord(timeUnixNano: Signals.base, body: "bad span", spanID: SpanID(0)),
    ])

    /// Logs with one record whose span id is 3 bytes (rejected: partial success).
    static func logsWithABadSpanID() -> [UInt8] {
        var request = try! ExportLogsServiceRequest(serializedBytes: OTLPLogsEncoder.protobuf(logBatch))
        request.resourceLogs[0].scopeLogs[0].logRecords[2].spanID = Data([1, 2, 3])
        return try! request.serializedBytes()
    }

    static let metricsBody = OTLPMetricsEncoder.protobuf(
        resources: [Signals.resource("eu-west-1")],
        metrics: [
            IncomingMetric(
                name: "queue.depth", unit: "{item}", kind: .gauge,
                points: [MetricPoint(attributes: [], startUnixNano: 0, timeUnixNano: Signals.base, value: .number(7))]),
            IncomingMetric(
                name: "broken", unit: "", kind: .gauge,
                points: [MetricPoint(attributes: [], startUnixNano: 0, timeUnixNano: 0, value: .number(1))]),
        ])

    static func logs(_ events: [DashboardEvent]) -> [LogBatch] {
        events.compactMap { if case .logs(let batch) = $0 { batch } else { nil } }
    }

    static func metrics(_ events: [DashboardEvent]) -> [MetricBatch] {
        events.compactMap { if case .metrics(let batch) = $0 { batch } else { nil } }
    }

    @Test func httpTakesLogsAndMetricsInProtobufAndJSON() async throws {
        let receiver = try await ReceiverHarness.start()
        let logs = try RawHTTP.send(
            port: receiver.port, path: "/v1/logs", headers: Self.protobuf, body: Self.logsWithABadSpanID())
        #expect(logs.status == 200)
        let answer = try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse(serializedBytes: logs.body)
        #expect(answer.partialSuccess.rejectedLogRecords == 1)
        #expect(answer.partialSuccess.errorMessage == "rejected 1 of 3 log records: invalid span id (1)")
        let json = try RawHTTP.send(
            port: receiver.port, path: "/v1/logs", headers: Self.json + [("Content-Encoding", "gzip")],
            body: try RawHTTP.gzip(OTLPLogsEncoder.json(Self.logBatch)))
        #expect(json.status == 200 && json.text == "{}")
        let metrics = try RawHTTP.send(
            port: receiver.port, path: "/v1/metrics", headers: Self.protobuf, body: Self.metricsBody)
        #expect(metrics.status == 200)
        let metricsAnswer = try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse(
            serializedBytes: metrics.body)
        #expect(metricsAnswer.partialSuccess.rejectedDataPoints == 1)
        let events = receiver.subscription.drain()
        let published = Self.logs(events)
        #expect(published.map(\.records.count) == [2, 3])
        #expect(published.allSatisfy { $0.holdsIngestReservation })
        #expect(receiver.gate.spansInFlight == 5, "log records hold room on the ingest gate until applied")
        #expect(Self.metrics(events).first?.updates.map(\.metric) == ["queue.depth"])
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.signals["logs"]?.requests == 2 && statistics.signals["logs"]?.received == 5)
        #expect(statistics.signals["logs"]?.rejected == 1)
        #expect(statistics.signals["metrics"]?.received == 1 && statistics.signals["metrics"]?.rejected == 1)
        #expect(statistics.signals["metrics"]?.lastRejection?.contains("broken: missing time") == true)
    }

    @Test func httpRefusesBadLogsAndMetricsBodiesWithTheSameStatusesAsTraces() async throws {
        var settings = OTLPReceiverSettings(port: 0, maxBodyBytes: 4096)
        settings.bearerToken = nil
        let receiver = try await ReceiverHarness.start(settings: settings)
        let cases: [(String, [(String, String)], [UInt8], Int, String)] = [
            ("/v1/logs", Self.protobuf, Array(Self.logsWithABadSpanID().dropLast(3)), 400, "malformed protobuf body"),
            (
                "/v1/logs", Self.json, Array(#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":7}]}]}]}"#.utf8),
                400, "malformed JSON body"
            ),
            ("/v1/metrics", Self.json, Array(#"{"resourceMetrics":{}}"#.utf8), 400, "expected an array"),
            ("/v1/metrics", Self.protobuf, [UInt8](repeating: 0x0A, count: 5000), 413, "larger than 4096 bytes"),
            (
                "/v1/logs", Self.json + [("Content-Encoding", "gzip")], try RawHTTP.gzipBomb(megabytes: 1), 413,
                "after decompression"
            ),
            ("/v1/logs", [("Content-Type", "text/plain")], [1], 415, "unsupported content type"),
        ]
        for (path, headers, body, status, message) in cases {
            let response = try RawHTTP.send(port: receiver.port, path: path, headers: headers, body: body)
            #expect(response.status == status, "\(path) \(message): got \(response.status) \(response.text)")
            #expect(
                response.text.contains(message) || String(decoding: response.body, as: UTF8.self).contains(message),
                "\(response.text)")
        }
        let events = receiver.subscription.drain()
        #expect(Self.logs(events).isEmpty && Self.metrics(events).isEmpty, "nothing from a refused request")
        #expect(receiver.gate.spansInFlight == 0)
    }

    @Test func grpcServesMetricsServiceAndLogsService() async throws {
        let receiver = try await GRPCReceiverHarness.start()
        let logs = try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse(
            serializedBytes: try await receiver.export(Self.logsWithABadSpanID(), signal: .logs, gzip: true))
        #expect(logs.partialSuccess.rejectedLogRecords == 1)
        let metrics = try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse(
            serializedBytes: try await receiver.export(Self.metricsBody, signal: .metrics))
        #expect(metrics.partialSuccess.rejectedDataPoints == 1)
        let events = receiver.subscription.drain()
        #expect(Self.logs(events).map(\.records.count) == [2])
        #expect(Self.metrics(events).first?.updates.first?.value == 7)
        // Malformed: INVALID_ARGUMENT, nothing published.
        do {
            _ = try await receiver.export([0x0A, 0xFF], signal: .logs)
            Issue.record("a malformed message was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("malformed protobuf"))
        }
        #expect(Self.logs(receiver.subscription.drain()).isEmpty)
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.signals["logs"]?.received == 2 && statistics.signals["metrics"]?.received == 1)
    }

    @Test func grpcRefusesLogsWhileIngestIsSaturated() async throws {
        let gate = IngestGate(spanCapacity: 1, batchCapacity: 10)
        #expect(gate.tryReserve(spans: 1))
        let receiver = try await GRPCReceiverHarness.start(gate: gate)
        do {
            _ = try await receiver.export(OTLPLogsEncoder.protobuf(Self.logBatch), signal: .logs)
            Issue.record("accepted while saturated")
        } catch let error as RPCError {
            #expect(error.code == .unavailable && error.message.contains("ingest saturated"))
        }
        #expect(Self.logs(receiver.subscription.drain()).isEmpty)
    }
}
