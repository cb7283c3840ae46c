import RegionWatchCore

/// The demo's logs and metrics, derived from what it already simulates, so the logs and metrics
/// screens are alive without configuration: a log line for every request a trace served (an
/// ERROR with the span's status message when it failed, in the trace), and each serving region's
/// request latency as a metric series.
enum DemoTelemetry {
    /// One record per entry span (SERVER or CONSUMER) of `batch`, in its trace and span.
    static func logs(from batch: SpanBatch) -> LogBatch? {
        var records: [IncomingLogRecord] = []
        for span in batch.spans where span.kind.isEntry {
            let milliseconds = Double(span.endUnixNano &- span.startUnixNano) / 1e6
            let failed = span.statusCode == .error
            records.append(
                IncomingLogRecord(
                    timeUnixNano: span.endUnixNano, severityNumber: failed ? 17 : 9,
                    severityText: failed ? "ERROR" : "INFO",
                    body: failed
                        ? "\(span.name) failed after \(Format.milliseconds(milliseconds)): \(span.statusMessage.isEmpty ? "error" : span.statusMessage)"
                        : "\(span.name) served in \(Format.milliseconds(milliseconds))",
                    traceID: span.traceID, spanID: span.spanID, resourceIndex: span.resourceIndex))
        }
        guard !records.isEmpty else { return nil }
        return LogBatch(
            source: batch.source, receivedAt: batch.receivedAt, resources: batch.resources, records: records)
    }

    /// The serving regions' request latency (p99 charted) as `http.server.request.duration`.
    static func metrics(from samples: [RegionSample], source: String) -> MetricBatch? {
        let updates = samples.compactMap { sample -> MetricSeriesUpdate? in
            guard let p99 = sample.p99Milliseconds, let rate = sample.requestsPerSecond, rate > 0 else { return nil }
            let p50 = sample.p50Milliseconds.map { "p50 \(Format.milliseconds($0)) · " } ?? ""
            return MetricSeriesUpdate(
                region: sample.region, service: "api", metric: "http.server.request.duration", kind: "histogram",
                unit: "ms", attributes: "http.route=/checkout", value: p99, valueUnit: "ms",
                summary: "\(p50)p99 \(Format.milliseconds(p99)) · \(Format.rate(rate))/s", observedAt: sample.observedAt
            )
        }
        return updates.isEmpty ? nil : MetricBatch(source: source, updates: updates)
    }
}
