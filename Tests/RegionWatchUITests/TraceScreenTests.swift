import Testing
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

@Suite("Trace screens")
struct TraceScreenTests {
    /// The demo 130 s in: the primary's incident makes error traces; eu-west-1 writes cross regions.
    static let state = SeededState.demo(seconds: 130)

    static func render(_ view: ViewState, _ size: TerminalSize = TerminalSize(width: 120, height: 40)) -> Frame {
        DashboardView.render(state: state, view: view, size: size, theme: .fallback)
    }

    /// The newest trace served in eu-west-1 that writes to us-east-1 and failed somewhere.
    static var crossRegionTrace: TraceSummary {
        TraceSortOrder.time.sorted(state.traces.summaries()).first {
            $0.hasCrossRegionHop && $0.rootRegion == "eu-west-1"
        }!
    }

    @Test(arguments: ["120x40", "80x24", "60x15"])
    func traceListSnapshot(sizeName: String) {
        let size = ScreenSnapshotTests.sizes.first { $0.0 == sizeName }!.1
        var view = SeededState.view()
        _ = view.handle(.character("t"), state: Self.state)
        #expect(view.screen == .traces)
        Snapshot.assert(Self.render(view, size), named: "traces-\(sizeName)")
    }

    @Test func waterfallSnapshotMarksHopsCriticalPathAndErrors() {
        var view = SeededState.view()
        _ = view.execute("trace \(Self.crossRegionTrace.traceID.hex.prefix(10))", state: Self.state)
        #expect(view.screen == .waterfall(trace: Self.crossRegionTrace.traceID))
        let frame = Self.render(view)
        Snapshot.assert(frame, named: "waterfall-cross-region-120x40")
        #expect(frame.text.contains("⇢INSERT orders postgres·us-east-1"))
        let rows = frame.lines.filter { $0.contains("·eu-west-1") || $0.contains("·us-east-1") }
        #expect(rows.contains { $0.hasPrefix("┃◆") }, "critical path gutter, told apart from the frame's ┃")
        #expect(!rows.contains { $0.hasPrefix("┃┃") }, "no ┃ beside the border: \(frame.text)")
        #expect(
            frame.text.contains("◆ █ critical path") && frame.text.contains("▆ other span"),
            "the bar glyphs are explained")
    }

    /// Defect: span names were cut without an ellipsis in the waterfall.
    @Test func waterfallNamesCutEndInAnEllipsis() {
        var view = SeededState.view()
        view.openWaterfall(Self.crossRegionTrace.traceID)
        let frame = Self.render(view, TerminalSize(width: 80, height: 30))
        let cut = frame.lines.filter { $0.contains("orders.created process") }
        #expect(!cut.isEmpty)
        #expect(cut.allSatisfy { $0.contains("…") }, "\(cut)")
    }

    /// Defect: the span detail lacked the cross-region hop latency the README promises. The
    /// oracle: the parent's and the child's durations read from the trace store.
    @Test func spanDetailShowsTheCrossRegionHopLatency() throws {
        let trace = Self.crossRegionTrace.traceID
        let spans = try #require(Self.state.traces.trace(trace)).spans
        let (parent, child) = try #require(
            spans.lazy.compactMap { child in
                spans.first { $0.spanID == child.parentSpanID && $0.region != child.region }.map { ($0, child) }
            }.first)
        let expected = Double(parent.durationNanos - child.durationNanos) / 1e6
        var view = SeededState.view()
        view.openWaterfall(trace)
        for _ in 0..<spans.count
        where WaterfallModel(state: Self.state, trace: trace, waterfall: view.waterfall)?.selectedNode?.span.spanID
            != child.spanID
        {
            _ = view.handle(.down, state: Self.state)
        }
        _ = view.handle(.enter, state: Self.state)
        let text = Self.render(view).text
        #expect(text.contains("\(parent.region) ⇢ \(child.region)"), "\(text)")
        #expect(text.contains("hop latency             \(Format.milliseconds(expected))"), "\(text)")
    }

    @Test func errorTraceWaterfallShowsTheErrorAndHollowAncestors() throws {
        let failing = try #require(
            TraceSortOrder.time.sorted(Self.state.traces.summaries()).first { $0.errorCount > 0 && $0.spanCount > 4 })
        var view = SeededState.view()
        view.openWaterfall(failing.traceID)
        let text = Self.render(view).text
        #expect(text.contains("✖"))
        #expect(text.contains("○"))
    }

    @Test func spanDetailAndMatrixSnapshots() {
        var view = SeededState.view()
        view.openWaterfall(Self.crossRegionTrace.traceID)
        for _ in 0..<4 { _ = view.handle(.down, state: Self.state) }
        _ = view.handle(.enter, state: Self.state)
        guard case .spanDetail = view.screen else {
            Issue.record("expected the span detail, got \(view.screen)")
            return
        }
        let detail = Self.render(view)
        Snapshot.assert(detail, named: "span-detail-120x40")
        #expect(detail.text.contains("db.statement"))
        #expect(detail.text.contains("Resource"))
        _ = view.handle(.escape, state: Self.state)
        _ = view.handle(.escape, state: Self.state)
        _ = view.handle(.character("m"), state: Self.state)
        let matrix = Self.render(view)
        Snapshot.assert(matrix, named: "latency-matrix-120x40")
        #expect(matrix.text.contains("eu-west-1"))
        #expect(matrix.text.contains("n="))
    }

    @Test func selectionFollowsTheTraceThroughLiveUpdates() {
        var view = SeededState.view()
        _ = view.handle(.character("t"), state: Self.state)
        _ = view.handle(.down, state: Self.state)
        _ = view.handle(.down, state: Self.state)
        let selected = TraceListModel(state: Self.state, list: view.traceList).selected!.traceID
        // Newer traces arrive and push the row down; the selection stays on the same trace.
        let later = SeededState.demo(seconds: 132)
        #expect(TraceListModel(state: later, list: view.traceList).selected?.traceID == selected)
        #expect(TraceListModel(state: later, list: view.traceList).selectedIndex! > 2)
        _ = view.handle(.enter, state: later)
        #expect(view.screen == .waterfall(trace: selected))
    }

    @Test func sortAndFilterKeys() {
        var view = SeededState.view()
        _ = view.handle(.character("t"), state: Self.state)
        _ = view.handle(.character("s"), state: Self.state)
        #expect(view.traceList.sort == .duration)
        let slowest = TraceListModel(state: Self.state, list: view.traceList).rows.first!
        #expect(
            TraceListModel(state: Self.state, list: view.traceList).rows.allSatisfy {
                $0.durationNanos <= slowest.durationNanos
            })
        _ = view.handle(.character("/"), state: Self.state)
        for character in "region=ap-southeast-1" { _ = view.handle(.character(character), state: Self.state) }
        #expect(Self.render(view).lines.last?.hasPrefix("/region=ap-southeast-1█") == true)
        _ = view.handle(.enter, state: Self.state)
        #expect(TraceListModel(state: Self.state, list: view.traceList).rows.isEmpty, "no traffic in ap-southeast-1")
        #expect(Self.render(view).text.contains("no trace matches the filter"))
        _ = view.handle(.escape, state: Self.state)
        #expect(view.traceList.filter.isEmpty && view.screen == .traces, "Esc clears the filter first")
        _ = view.handle(.character("/"), state: Self.state)
        for character in ">fast" { _ = view.handle(.character(character), state: Self.state) }
        _ = view.handle(.enter, state: Self.state)
        #expect(view.message?.isError == true)
        _ = view.handle(.escape, state: Self.state)
        #expect(view.screen == .overview)
    }

    @Test func foldingAndNavigatingTheWaterfall() {
        var view = SeededState.view()
        view.openWaterfall(Self.crossRegionTrace.traceID)
        let all = WaterfallModel(state: Self.state, trace: Self.crossRegionTrace.traceID, waterfall: view.waterfall)!
            .visible.count
        _ = view.handle(.left, state: Self.state)
        #expect(
            WaterfallModel(state: Self.state, trace: Self.crossRegionTrace.traceID, waterfall: view.waterfall)!.visible
                .count == 1, "root collapsed")
        #expect(Self.render(view).text.contains("hidden)"))
        _ = view.handle(.right, state: Self.state)
        #expect(
            WaterfallModel(state: Self.state, trace: Self.crossRegionTrace.traceID, waterfall: view.waterfall)!.visible
                .count == all)
        _ = view.handle(.down, state: Self.state)
        _ = view.handle(.down, state: Self.state)
        _ = view.handle(.character("h"), state: Self.state)
        var model = WaterfallModel(state: Self.state, trace: Self.crossRegionTrace.traceID, waterfall: view.waterfall)!
        #expect(model.selectedNode?.depth == 1, "h on a leaf goes to its parent")
        _ = view.handle(.character("h"), state: Self.state)
        #expect(view.waterfall.collapsed.contains(model.selectedNode!.span.spanID), "h on an open parent folds it")
        _ = view.handle(.character("h"), state: Self.state)
        model = WaterfallModel(state: Self.state, trace: Self.crossRegionTrace.traceID, waterfall: view.waterfall)!
        #expect(model.selectedNode?.depth == 0, "h on a folded span goes to its parent")
        _ = view.handle(.character("c"), state: Self.state)
        #expect(view.waterfall.coloring == .service)
        #expect(Self.render(view).text.contains("■ api"))
        _ = view.handle(.end, state: Self.state)
        model = WaterfallModel(state: Self.state, trace: Self.crossRegionTrace.traceID, waterfall: view.waterfall)!
        #expect(model.selectedRow == model.visible.count - 1)
        #expect(model.visible.count == all - 1, "one span folded away")
        // The colouring chosen is kept when another waterfall opens; the folds are not.
        _ = view.handle(.escape, state: Self.state)
        view.openWaterfall(Self.crossRegionTrace.traceID)
        #expect(view.waterfall.coloring == .service, "c is a choice, not lost on the next waterfall")
        #expect(view.waterfall.collapsed.isEmpty)
    }

    @Test func regionDetailOpensAnErrorTrace() {
        var view = SeededState.view()
        _ = view.handle(.enter, state: Self.state)
        #expect(view.screen == .regionDetail(region: "us-east-1"))
        let errors = RegionErrorTraces.traces(in: Self.state, region: "us-east-1")
        #expect(!errors.isEmpty)
        #expect(Self.render(view).text.contains("Error traces"))
        _ = view.handle(.tab, state: Self.state)
        _ = view.handle(.down, state: Self.state)
        _ = view.handle(.enter, state: Self.state)
        #expect(view.screen == .waterfall(trace: errors[min(1, errors.count - 1)].traceID))
    }

    @Test func regionsGetDistinctSeriesColours() {
        let topology = Topology(
            name: "six", pattern: .routing, objectives: RecoveryObjectives(rpoSeconds: 1, rtoSeconds: 1),
            regions: (1...6).map {
                RegionConfiguration(name: "r\($0)", provider: "p", role: .active, trafficPercent: 1)
            })
        let context = ScreenContext(
            state: DashboardState(topology: topology, now: SeededState.start), view: SeededState.view(),
            theme: .fallback)
        #expect(Set((1...6).map { context.regionStyle("r\($0)") }).count == 6)
        #expect(context.regionStyle("unknown") == Theme.fallback[.muted])
    }

    @Test func evictedTraceScreensSayWhy() {
        var view = SeededState.view()
        view.openWaterfall(TraceID(high: 1, low: 2))
        #expect(Self.render(view).text.contains("no longer kept"))
        view.push(.spanDetail(trace: TraceID(high: 1, low: 2), span: SpanID(3)))
        #expect(Self.render(view).text.contains("no longer kept"))
    }

    @Test func emptyTraceListExplainsHowToSendTraces() {
        var state = DashboardState(topology: .demo, now: SeededState.start)
        state.apply(
            .receiverStatistics(
                ReceiverStatistics(receiver: "otlp", listenAddress: "127.0.0.1:4318", observedAt: SeededState.start)))
        var view = SeededState.view()
        _ = view.handle(.character("t"), state: state)
        #expect(
            DashboardView.render(state: state, view: view, size: TerminalSize(width: 120, height: 40), theme: .fallback)
                .text.contains("send OTLP/HTTP to http://127.0.0.1:4318/v1/traces"))
    }
}
