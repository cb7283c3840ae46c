import Testing
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// What must stay on screen at every size: the failover state, roles, a broken link's state,
/// the failover panel's last attempt; and where spare width goes.
@Suite("Layout at every size")
struct LayoutTests {
    func render(_ state: DashboardState, width: Int, height: Int, view: ViewState = SeededState.view()) -> Frame {
        DashboardView.render(
            state: state, view: view, size: TerminalSize(width: width, height: height), theme: .fallback)
    }

    /// Defect: header line 2 dropped `failover: …` when another notice was added.
    @Test(arguments: [80, 100, 120, 200])
    func theHeaderAlwaysShowsTheFailoverState(width: Int) {
        var state = SeededState.demo(seconds: 20)
        let at = SeededState.start.adding(seconds: 20)
        for index in 0..<8 {
            state.apply(
                .regionSample(
                    RegionSample(
                        region: "unlisted-region-\(index)", source: "scrape", observedAt: at, requestsPerSecond: 1)))
        }
        let screens = FailoverScreenTests()
        let awaiting = screens.state { request in
            [
                .start(request, at: SeededState.start),
                .gatesEvaluated(screens.gates(SeededState.demo(seconds: 8)), dataLoss: .unknown, at: SeededState.start),
            ]
        }
        for shown in [state, awaiting] {
            let line = render(shown, width: width, height: 40).lines[1]
            #expect(line.contains("failover: "), "\(width): \(line)")
            #expect(line.contains("primary"), "\(width): \(line)")
        }
        let withNotice = render(state, width: width, height: 40).lines[1]
        #expect(withNotice.contains("not in config: unlisted"), "\(width): \(withNotice)")
        let attempt = render(awaiting, width: width, height: 40).lines[1]
        #expect(attempt.contains("failover: switchover to eu-"), "\(width): \(attempt)")
    }

    /// Defect: the compact view had no role or primary marker, no failover state, and cut
    /// events without an ellipsis.
    @Test func theCompactViewShowsRolesTheFailoverStateAndCutsWithAnEllipsis() {
        let state = SeededState.demo(seconds: 130)
        for (width, height) in [(60, 15), (50, 12), (79, 23)] {
            let frame = render(state, width: width, height: height)
            #expect(frame.lines[0].contains("failover: "), "\(width)×\(height): \(frame.lines[0])")
            #expect(frame.lines[0].contains("primary us-east-1"), "\(width)×\(height): \(frame.lines[0])")
            let primaryRow = frame.lines.first { $0.contains("us-east-1") && !$0.contains("primary us-east-1") } ?? ""
            #expect(primaryRow.contains("primary"), "\(width)×\(height): \(primaryRow)")
            let events = frame.lines.filter { $0.range(of: #"^\d\d:\d\d:\d\d "#, options: .regularExpression) != nil }
            #expect(!events.isEmpty)
            for event in events where CharacterWidth.of(event.trimmingTrailingSpaces) >= width {
                #expect(event.trimmingTrailingSpaces.hasSuffix("…"), "an event cut at \(width) ends in …: \(event)")
            }
        }
    }

    /// Defect: at 80×24 the replication panel dropped STATE; a broken link was only colour.
    @Test func at80x24TheReplicationPanelKeepsTheLinkState() {
        let state = SeededState.demo(seconds: 40, commands: [5: .takeDown(region: "ap-southeast-1")])
        let frame = render(state, width: 80, height: 24)
        let header = frame.lines.first { $0.contains("LINK") } ?? ""
        #expect(header.contains("STATE"), "\(frame.text)")
        let row = frame.lines.first { $0.contains("→ ap-southeast-1") } ?? ""
        let link = state.replicationLinks.first { $0.to == "ap-southeast-1" }
        #expect(link.map { row.contains($0.state.rawValue) } == true, "\(row) says \(link?.state.rawValue ?? "?")")
    }

    /// Defect: at 200 columns REGION took ~95 blank cells; the trend takes the spare width.
    @Test func spareWidthGoesToTheTrendsNotTheRegionName() {
        let frame = render(SeededState.demo(seconds: 60), width: 200, height: 50)
        let header = frame.lines.first { $0.contains("REGION") && $0.contains("LAG TREND") } ?? ""
        let region = header.range(of: "REGION")!
        let next = header.range(of: "PROV")!
        #expect(header.distance(from: region.lowerBound, to: next.lowerBound) <= 25, "\(header)")
        let trend = header.range(of: "LAG TREND")!
        let version = header.range(of: "VERSION")!
        #expect(header.distance(from: trend.lowerBound, to: version.lowerBound) > 40, "\(header)")
        let row = frame.lines.first { $0.contains("eu-west-1") && $0.contains("aws") } ?? ""
        #expect(row.filter { "▁▂▃▄▅▆▇█".contains($0) }.count > 40, "the trend draws in the width it got: \(row)")
    }

    /// Review finding: with interrupted attempts listed, the Last line was still pushed out.
    @Test func interruptedAttemptsFoldSoTheLastLineStays() {
        var state = SeededState.demo(seconds: 130)
        let interrupted = (1...3).map { index in
            FailoverRecordSummary(
                id: "i\(index)", at: SeededState.start, kind: "switchover", from: "us-east-1", to: "eu-west-1",
                state: "interrupted",
                measuredRTOSeconds: nil, dataLoss: nil, operatorName: "ops", reason: nil, failedGates: [], steps: [])
        }
        state.apply(
            .failoverHistory(
                FailoverHistorySummary(interrupted: interrupted, auditLogPath: "audit.jsonl"), isReadOnly: false))
        let frame = render(state, width: 80, height: 24)
        #expect(frame.lines.contains { $0.contains("Last") && $0.contains("no failover or drill") }, "\(frame.text)")
        #expect(frame.lines.contains { $0.contains("INTERRUPTED ×3") }, "\(frame.text)")
        #expect(
            render(state, width: 120, height: 40).lines.filter { $0.contains("INTERRUPTED switchover") }.count == 3,
            "room: each listed")
    }

    /// Defect: the failover panel's "Last" line was cut at 80×24.
    @Test func theFailoverPanelKeepsItsLastLine() {
        for (width, height) in [(80, 24), (100, 30), (120, 40)] {
            let frame = render(SeededState.demo(seconds: 130), width: width, height: height)
            #expect(
                frame.lines.contains { $0.contains("Last") && $0.contains("no failover or drill") },
                "\(width)×\(height): \(frame.text)")
        }
    }
}

extension LayoutTests {
    /// Defect: the detail charts had no time axis, a y-axis that did not say it starts at zero,
    /// unlabelled thresholds and about one minute of history.
    @Test func detailChartsHaveATimeAxisZeroAndLabelledThresholds() {
        let state = SeededState.demo(seconds: 300)
        var view = SeededState.view()
        _ = view.handle(.down, state: state)
        _ = view.handle(.enter, state: state)
        let frame = render(state, width: 120, height: 40, view: view)
        let text = frame.text
        #expect(
            frame.lines.contains { $0.contains("-5m") && $0.contains("now") },
            "five minutes of history on a labelled axis: \(text)")
        #expect(
            frame.lines.contains { $0.contains("┄") && $0.contains("limit 1.0%") },
            "the error limit is named on its line: \(text)")
        #expect(
            frame.lines.contains { $0.contains("┄") && $0.contains("RPO 30s") },
            "the RPO is named on the lag chart's line: \(text)")
        #expect(
            frame.lines.filter { $0.range(of: #"│ +0 "#, options: .regularExpression) != nil }.count >= 3,
            "every chart says it starts at zero: \(text)")
    }

    @Test func signalBucketsKeepTheLargestValuePerSlice() {
        var signal = Signal()
        let start = SeededState.start
        for second in 0..<120 {
            signal.record(second == 61 ? 900 : 100, at: start.adding(seconds: Double(second)), source: "t")
        }
        let buckets = signal.buckets(4, window: 120, endingAt: start.adding(seconds: 119))
        #expect(buckets.count == 4)
        #expect(buckets[2] == 900, "a spike is never averaged away: \(buckets)")
        #expect(buckets[0] == 100 && buckets[3] == 100)
        #expect(
            signal.buckets(4, window: 600, endingAt: start.adding(seconds: 119)).first! == nil,
            "no data before the history")
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
