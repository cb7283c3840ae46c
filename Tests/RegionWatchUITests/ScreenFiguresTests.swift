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
            state.apply(.regionSample(RegionSample(region: "churn-\(index)", source: "scrape", observedAt: at, requestsPerSecond: 1)))
        }
        var view = SeededState.view()
        _ = view.handle(.enter, state: state)
        view.detailScroll = 500
        let frame = DashboardView.render(state: state, view: view, size: TerminalSize(width: 120, height: 40), theme: .fallback)
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
        state.apply(.regionSample(RegionSample(region: "us-east-1", source: "sim", observedAt: at, requestsPerSecond: 1000, errorRate: 0.00996, p99Milliseconds: 499.8)))
        let frame = DashboardView.render(state: state, view: SeededState.view(), size: TerminalSize(width: 120, height: 40), theme: .fallback)
        let row = frame.lines.first { $0.contains("us-east-1") && $0.contains("aws") } ?? ""
        #expect(row.contains("<1.0%") && row.contains("<500ms"), "\(row)")
    }
}
