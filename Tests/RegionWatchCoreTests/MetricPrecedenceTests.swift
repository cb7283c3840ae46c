import Testing
@testable import RegionWatchCore

/// OTLP metrics against spans: metric-derived figures are a source of their own, so the rule
/// for span-derived figures (they fill only a signal no fresher non-span source reports)
/// decides, and the metrics' staleness follows their exporters' interval.
@Suite("Metric and span precedence")
struct MetricPrecedenceTests {
    static func metricsSample(_ seconds: Double, p99: Double) -> DashboardEvent {
        .regionSample(
            RegionSample(
                region: "primary-1", source: "otlp/metrics", observedAt: Fixture.at(seconds), requestsPerSecond: 50,
                errorRate: 0.05, p50Milliseconds: 30, p99Milliseconds: p99))
    }

    static func metricsHeartbeat(_ seconds: Double, interval: Double) -> DashboardEvent {
        .collectorStatus(
            CollectorReport(
                collector: "otlp/metrics", kind: "otlp-metrics", observedAt: Fixture.at(seconds),
                intervalSeconds: interval, regions: []))
    }

    /// Fast entry spans in primary-1 (about 10 ms), received at `seconds`.
    static func spans(_ seconds: Double) -> DashboardEvent {
        let spans = (0..<20).map {
            Spans.span(trace: UInt64(seconds * 100) + UInt64($0), id: 1, kind: .server, start: 0, duration: 10)
        }
        var batch = Spans.batch(spans, resources: [Spans.resource("primary-1")])
        batch.receivedAt = Fixture.at(seconds)
        batch.source = "otlp"
        return .spans(batch)
    }

    @Test func freshMetricsWinOverSpansAndSpansTakeOverWhenTheyGoStale() {
        var state = DashboardState(topology: Fixture.topology, now: Fixture.at(0))
        state.apply(contentsOf: [Self.metricsHeartbeat(0, interval: 10), Self.metricsSample(0, p99: 700)])
        state.apply(contentsOf: [Self.spans(1), .tick(Fixture.at(2))])
        var region = state.region(named: "primary-1")!
        #expect(region.p99Milliseconds.latest == 700 && region.p99Milliseconds.source == "otlp/metrics")
        #expect(region.errorRate.latest == 0.05)
        // Three export intervals (30 s) without metrics: stale, and the spans' figures take over.
        state.apply(contentsOf: [Self.metricsHeartbeat(35, interval: 10), Self.spans(35), .tick(Fixture.at(36))])
        region = state.region(named: "primary-1")!
        #expect(region.p99Milliseconds.source == "otlp/spans")
        #expect((region.p99Milliseconds.latest ?? 0) < 20, "about the spans' 10 ms")
        // Metrics again: they win again.
        state.apply(contentsOf: [Self.metricsSample(37, p99: 650), Self.spans(37), .tick(Fixture.at(38))])
        #expect(state.region(named: "primary-1")!.p99Milliseconds.latest == 650)
    }

    @Test func metricsStayFreshForThreeOfTheirExportIntervals() {
        var state = DashboardState(topology: Fixture.topology, now: Fixture.at(0))
        state.apply(contentsOf: [Self.metricsHeartbeat(0, interval: 60), Self.metricsSample(0, p99: 700)])
        state.apply(.tick(Fixture.at(170)))
        #expect(state.staleAfter(source: "otlp/metrics") == 180)
        #expect(state.region(named: "primary-1")!.health != .stale)
        state.apply(.tick(Fixture.at(200)))
        #expect(state.region(named: "primary-1")!.health == .stale, "its only source stopped three intervals ago")
    }
}
