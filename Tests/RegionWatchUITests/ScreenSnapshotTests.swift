import Foundation
import Testing
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

@Suite("Screen snapshots")
struct ScreenSnapshotTests {
    static let sizes: [(String, TerminalSize)] = [
        ("120x40", TerminalSize(width: 120, height: 40)),
        ("80x24", TerminalSize(width: 80, height: 24)),
        ("60x15", TerminalSize(width: 60, height: 15)),
    ]

    func render(_ state: DashboardState, _ view: ViewState, _ size: TerminalSize) -> Frame {
        DashboardView.render(state: state, view: view, size: size, theme: .fallback)
    }

    @Test(arguments: sizes.map(\.0))
    func overviewDuringTheScriptedIncident(sizeName: String) {
        let size = Self.sizes.first { $0.0 == sizeName }!.1
        // Past the RPO since about 58 s, degraded once that has held for the sustain time (10 s).
        let state = SeededState.demo(seconds: 72)
        Snapshot.assert(render(state, SeededState.view(), size), named: "overview-incident-\(sizeName)")
    }

    @Test(arguments: sizes.map(\.0))
    func regionDetailOfADegradedPrimary(sizeName: String) {
        let size = Self.sizes.first { $0.0 == sizeName }!.1
        let state = SeededState.demo(seconds: 130)
        var view = SeededState.view()
        _ = view.handle(.enter, state: state)
        #expect(view.screen == .regionDetail(region: "us-east-1"))
        Snapshot.assert(render(state, view, size), named: "detail-us-east-1-\(sizeName)")
    }

    /// One marker for a value that is not known: never "n/a" in one place and "—" in another.
    @Test func everyScreenSaysUnknownTheSameWay() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Snapshot.directory.path).filter {
            $0.hasSuffix(".txt")
        }
        #expect(files.count > 10)
        for file in files {
            let text = try String(contentsOf: Snapshot.directory.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("n/a"), "\(file) says n/a")
        }
    }

    @Test func overviewWithARegionDownAndOneStale() {
        var state = SeededState.demo(seconds: 20, commands: [10: .takeDown(region: "eu-west-1")])
        // Telemetry for everything stops; only time moves on: all regions go STALE.
        state.apply(.tick(SeededState.start.adding(seconds: 40)))
        let frame = render(state, SeededState.view(), TerminalSize(width: 120, height: 40))
        Snapshot.assert(frame, named: "overview-all-stale-120x40")
        let row = frame.lines.firstIndex { $0.contains("ap-southeast-1") && $0.contains("STALE") }
        #expect(row != nil)
        if let row {
            let column = frame.lines[row].distance(
                from: frame.lines[row].startIndex, to: frame.lines[row].range(of: "STALE")!.lowerBound)
            #expect(frame[column, row].style == Theme.fallback[.stale], "stale regions are grey, not their last colour")
        }
    }

    @Test func overviewWithARegionDown() {
        let state = SeededState.demo(seconds: 20, commands: [10: .takeDown(region: "eu-west-1")])
        let frame = render(state, SeededState.view(), TerminalSize(width: 120, height: 40))
        Snapshot.assert(frame, named: "overview-region-down-120x40")
        #expect(frame.text.contains("✖ eu-west-1"))
        #expect(frame.text.contains("DOWN"))
    }

    @Test func helpOverlayListsEveryKey() {
        let state = SeededState.demo(seconds: 5)
        var view = SeededState.view()
        _ = view.handle(.character("?"), state: state)
        let frame = render(state, view, TerminalSize(width: 120, height: 40))
        Snapshot.assert(frame, named: "help-120x40")
        let text = HelpOverlay(context: ScreenContext(state: state, view: view, theme: .fallback)).lines().map(\.text)
            .joined(separator: "\n")
        for binding in KeyMap.bindings {
            #expect(text.contains(binding.description), "help shows \(binding.label)")
        }
        #expect(text.contains("Demo only"))
        // Scrolling reaches the end of the help.
        for _ in 0..<120 { _ = view.handle(.down, state: state) }
        #expect(render(state, view, TerminalSize(width: 120, height: 40)).text.contains("Health: ● ok"))
    }

    @Test func helpMarksDemoKeysInactiveOutsideTheDemo() {
        let state = SeededState.demo(seconds: 5)
        var view = SeededState.view(demo: false)
        _ = view.handle(.character("?"), state: state)
        let text = HelpOverlay(context: ScreenContext(state: state, view: view, theme: .fallback)).lines().map(\.text)
            .joined(separator: "\n")
        #expect(text.contains("inactive: the simulator is not running"))
    }

    @Test func commandLineAndMessagesShowInTheFooter() {
        let state = SeededState.demo(seconds: 5)
        var view = SeededState.view()
        _ = view.handle(.character(":"), state: state)
        for character in "regi" { _ = view.handle(.character(character), state: state) }
        let frame = render(state, view, TerminalSize(width: 80, height: 24))
        #expect(frame.lines.last?.hasPrefix(":regi█") == true)
        _ = view.handle(.escape, state: state)
        _ = view.execute("nonsense", state: state)
        #expect(
            render(state, view, TerminalSize(width: 80, height: 24)).lines.last?.contains("unknown command 'nonsense'")
                == true)
    }

    @Test func pausedAndDroppedAreVisibleInTheHeader() {
        var state = SeededState.demo(seconds: 5)
        state.apply(.busStatistics(BusStatistics(droppedEvents: 12, publishedEvents: 500)))
        var view = SeededState.view()
        _ = view.handle(.character("p"), state: state)
        let header = render(state, view, TerminalSize(width: 120, height: 40)).lines[0]
        #expect(header.contains("PAUSED"))
        #expect(header.contains("dropped 12"))
    }

    @Test func fiftyRegionsFitAndScrollToTheSelection() {
        let topology = Topology(
            name: "fleet", pattern: .routing, objectives: RecoveryObjectives(rpoSeconds: 15, rtoSeconds: 120),
            regions: (0..<50).map {
                RegionConfiguration(
                    name: "region-\($0)", provider: ["aws", "gcp", "azure"][$0 % 3], role: $0 == 0 ? .primary : .active,
                    trafficPercent: 2)
            }
        )
        let state = SeededState.demo(seconds: 3, topology: topology)
        var view = SeededState.view()
        for _ in 0..<40 { _ = view.handle(.down, state: state) }
        let frame = render(state, view, TerminalSize(width: 120, height: 40))
        let table = frame.lines[3..<20].joined(separator: "\n")
        #expect(table.contains("region-40"))
        #expect(!table.contains("● region-0 "), "scrolled past the first rows")
    }

    @Test(arguments: [(1, 1), (10, 3), (20, 5), (79, 23), (200, 60), (0, 0)])
    func anySizeRendersWithoutCrashing(width: Int, height: Int) {
        let state = SeededState.demo(seconds: 3)
        var view = SeededState.view()
        let size = TerminalSize(width: width, height: height)
        #expect(render(state, view, size).size == size)
        _ = view.handle(.enter, state: state)
        #expect(render(state, view, size).size == size)
        _ = view.handle(.character("?"), state: state)
        #expect(render(state, view, size).size == size)
    }

    @Test func everyThemeRoleIsUsedSomewhere() {
        // Not a snapshot: guards against roles that themes style but nothing renders.
        var view = SeededState.view()
        _ = view.handle(.character("p"), state: SeededState.demo(seconds: 1))
        let theme = Theme(
            name: "probe",
            styles: Dictionary(
                uniqueKeysWithValues: ThemeRole.allCases.enumerated().map {
                    ($1, Style(foreground: .indexed(UInt8($0 + 16))))
                }))
        var used = Set<Style>()
        var stale = SeededState.demo(seconds: 20, commands: [10: .takeDown(region: "eu-west-1")])
        used.formUnion(
            DashboardView.render(state: stale, view: view, size: TerminalSize(width: 120, height: 40), theme: theme)
                .cells.map(\.style))
        stale.apply(.tick(SeededState.start.adding(seconds: 60)))
        used.formUnion(
            DashboardView.render(state: stale, view: view, size: TerminalSize(width: 120, height: 40), theme: theme)
                .cells.map(\.style))
        let state = SeededState.demo(seconds: 130)
        for size in [TerminalSize(width: 120, height: 40), TerminalSize(width: 60, height: 15)] {
            used.formUnion(DashboardView.render(state: state, view: view, size: size, theme: theme).cells.map(\.style))
            var detail = view
            _ = detail.handle(.enter, state: state)
            used.formUnion(
                DashboardView.render(state: state, view: detail, size: size, theme: theme).cells.map(\.style))
        }
        var withCommand = view
        _ = withCommand.handle(.character(":"), state: state)
        used.formUnion(
            DashboardView.render(
                state: state, view: withCommand, size: TerminalSize(width: 120, height: 40), theme: theme
            ).cells.map(\.style))
        var traces = view
        _ = traces.handle(.character("t"), state: state)
        used.formUnion(
            DashboardView.render(state: state, view: traces, size: TerminalSize(width: 120, height: 40), theme: theme)
                .cells.map(\.style))
        _ = traces.handle(.enter, state: state)
        used.formUnion(
            DashboardView.render(state: state, view: traces, size: TerminalSize(width: 120, height: 40), theme: theme)
                .cells.map(\.style))
        var withError = view
        _ = withError.execute("bogus", state: state)
        used.formUnion(
            DashboardView.render(
                state: state, view: withError, size: TerminalSize(width: 120, height: 40), theme: theme
            ).cells.map(\.style))
        let usedColors = Set(used.map(\.foreground))
        // Series colours beyond the first two appear with more regions or services than the
        // demo has; `regionsGetDistinctSeriesColours` covers them.
        let unused = ThemeRole.allCases.filter {
            !usedColors.contains(theme[$0].foreground) && !ThemeRole.series.dropFirst(2).contains($0)
        }
        #expect(unused.isEmpty, "roles never rendered: \(unused)")
    }
}
