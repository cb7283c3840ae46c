import Testing
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// Figures on screen tell the truth: bounded stores and what they forgot, values near a rule.
@Suite("Figures on screen")
struct ScreenFiguresTests {
    @Test func theDetailScreenShowsEachBoundAndWhatWasForgotten() {
        var state = SeededState.demo(seconds: 20)
        let at = SeededState.start.adding(seconds: 20)
        for index in 0..<100 {
            state.apply(
                .regionSample(
                    RegionSample(region: "churn-\(index)", source: "scrape", observedAt: at, requestsPerSecond: 1)))
        }
        var view = SeededState.view()
        _ = view.handle(.enter, state: state)
        view.detailScroll = 500
        let frame = DashboardView.render(
            state: state, view: view, size: TerminalSize(width: 120, height: 40), theme: .fallback)
        let text = frame.text
        #expect(text.contains("Bounds"))
        #expect(text.contains("unknown region names  64 of 64 · 36 forgotten"), "\(text)")
        #expect(text.contains("region hop pairs"))
        #expect(text.contains("trace store spans"))
        #expect(text.contains("services"))
        let row = frame.lines.firstIndex { $0.contains("36 forgotten") }!
        let characters = Array(frame.lines[row])
        let needle = Array("36 forgotten")
        let column = characters.indices.first { Array(characters[$0...].prefix(needle.count)) == needle }!
        #expect(frame[column, row].style == Theme.fallback[.warning], "what was forgotten is shown as a warning")
    }

    /// "1.0%" beside the rule "≥ 1.0%" on an OK region read as a contradiction.
    @Test func aRateJustBelowTheRuleIsShownBelowIt() {
        var state = SeededState.demo(seconds: 20)
        let at = SeededState.start.adding(seconds: 20.5)
        state.apply(
            .regionSample(
                RegionSample(
                    region: "us-east-1", source: "sim", observedAt: at, requestsPerSecond: 1000, errorRate: 0.00996,
                    p99Milliseconds: 499.8)))
        let frame = DashboardView.render(
            state: state, view: SeededState.view(), size: TerminalSize(width: 120, height: 40), theme: .fallback)
        let row = frame.lines.first { $0.contains("us-east-1") && $0.contains("aws") } ?? ""
        #expect(row.contains("<1.0%") && row.contains("<500ms"), "\(row)")
    }

    /// Regions seen only in spans were counted but not shown, although the README said so.
    @Test func regionsOutsideTheConfigurationAreListedMarkedAndNamed() {
        var state = SeededState.demo(seconds: 20)
        let at = SeededState.start.adding(seconds: 20)
        let spans = (0..<30).map { index in
            IncomingSpan(
                traceID: TraceID(high: 7, low: UInt64(index + 1)), spanID: SpanID(1), parentSpanID: SpanID(0),
                name: "GET /", kind: .server,
                startUnixNano: 1_000_000_000, endUnixNano: 1_050_000_000, statusCode: index < 3 ? .error : .unset,
                attributes: [], resourceIndex: 0, scopeIndex: 0
            )
        }
        let resource = SpanResource(
            region: "mars-1", provider: "aws", service: "api", serviceVersion: nil, attributes: [])
        state.apply(
            .spans(
                SpanBatch(
                    source: "otlp", receivedAt: at, resources: [resource], scopes: [SpanScope(name: "t", version: "1")],
                    spans: spans)))
        state.apply(.tick(at))
        let frame = DashboardView.render(
            state: state, view: SeededState.view(), size: TerminalSize(width: 120, height: 40), theme: .fallback)
        let row = frame.lines.first { $0.contains("mars-1") && $0.contains("UNLISTED") } ?? ""
        #expect(
            row.contains("? mars-1") && row.contains("10%"), "listed, marked, with what its spans say: \(frame.text)")
        #expect(frame.lines[1].contains("not in config: mars-1"), "the header names it: \(frame.lines[1])")
    }
}
