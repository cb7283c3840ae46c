import Testing
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// The region detail screen shows every bounded store: how full, its capacity, what it forgot.
@Suite("Bounds on the detail screen")
struct BoundsDisplayTests {
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
}
