import Testing
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// The logs and metrics screens, and the links between logs and traces.
@Suite("Logs and metrics screens")
struct SignalScreenTests {
    static let trace = TraceScreenTests.crossRegionTrace

    /// The demo 130 s in (with its own logs and metrics), and the tests' logs (two of them in a
    /// kept trace) and metric series, from services of their own.
    static let state: DashboardState = {
        var state = TraceScreenTests.state
        let now = state.now
        let resources = [
            SpanResource(
                region: "us-east-1", provider: "aws", service: "test-checkout", serviceVersion: nil, attributes: []),
            SpanResource(
                region: "eu-west-1", provider: "gcp", service: "test-payments", serviceVersion: nil, attributes: []),
        ]
        let spanID = TraceScreenTests.state.traces.trace(trace.traceID)!.spans[0].spanID
        let base = now.unixNanoseconds - 20_000_000_000
        var records = (0..<30).map { index in
            IncomingLogRecord(
                timeUnixNano: base + UInt64(index) * 500_000_000,
                severityNumber: index % 10 == 9 ? 17 : (index % 4 == 3 ? 13 : 9),
                body: index % 10 == 9 ? "payment declined: card expired" : "request \(index) served",
                attributes: [Attribute("http.route", .string("/pay"))], resourceIndex: index % 2)
        }
        records.append(
            IncomingLogRecord(
                timeUnixNano: base + 16_000_000_000, severityNumber: 17, body: "insert into orders failed\nretrying",
                traceID: trace.traceID, spanID: spanID, resourceIndex: 1))
        records.append(
            IncomingLogRecord(
                timeUnixNano: base + 16_500_000_000, severityNumber: 9, body: "order saved on retry",
                traceID: trace.traceID, spanID: SpanID(77), resourceIndex: 0))
        state.apply(.logs(LogBatch(source: "otlp", receivedAt: now, resources: resources, records: records)))
        for step in 0..<20 {
            let at = now.adding(seconds: Double(step - 19) * 15)
            state.apply(
                .metrics(
                    MetricBatch(
                        source: "otlp/metrics",
                        updates: [
                            MetricSeriesUpdate(
                                region: "us-east-1", service: "test-checkout", metric: "http.server.request.duration",
                                kind: "histogram", unit: "s", attributes: "http.response.status_code=200",
                                value: 0.05 + Double(step % 5) * 0.01, valueUnit: "s",
                                summary: "p50 0.030 s · p99 \(Format.number(0.05 + Double(step % 5) * 0.01)) s · 40/s",
                                observedAt: at),
                            MetricSeriesUpdate(
                                region: "eu-west-1", service: "test-payments", metric: "queue.depth", kind: "gauge",
                                unit: "{item}", attributes: "", value: Double(step), valueUnit: "{item}",
                                summary: "\(step)", observedAt: at),
                        ])))
        }
        state.apply(.tick(now))
        return state
    }()

    static func render(_ view: ViewState, _ size: TerminalSize = TerminalSize(width: 120, height: 40)) -> Frame {
        DashboardView.render(state: state, view: view, size: size, theme: .fallback)
    }

    @Test(arguments: ["120x40", "80x24"])
    func logsScreenFollowsTheNewest(sizeName: String) {
        let size = ScreenSnapshotTests.sizes.first { $0.0 == sizeName }!.1
        var view = SeededState.view()
        _ = view.handle(.character("L"), state: Self.state)
        #expect(view.screen == .logs && view.logList.isFollowing)
        let frame = Self.render(view, size)
        Snapshot.assert(frame, named: "logs-\(sizeName)")
        #expect(frame.text.contains("following newest"))
        Self.filter("service=test-payments", &view)
        #expect(Self.render(view, size).text.contains("insert into orders failed re"), "a line break is a space")
    }

    /// Types `/text` Enter on the logs screen.
    static func filter(_ text: String, _ view: inout ViewState) {
        _ = view.handle(.character("/"), state: state)
        _ = view.handle(.control("u"), state: state)
        for character in text { _ = view.handle(.character(character), state: state) }
        _ = view.handle(.enter, state: state)
    }

    @Test func arrowsPickARecordEndFollowsAgainAndVPicksTheLevel() {
        var view = SeededState.view()
        _ = view.handle(.character("L"), state: Self.state)
        Self.filter("service=test-payments", &view)
        _ = view.handle(.up, state: Self.state)
        #expect(!view.logList.isFollowing)
        let model = LogListModel(state: Self.state, list: view.logList)
        #expect(model.selectedIndex == model.rows.count - 2)
        #expect(Self.render(view).text.contains("paused on selection (End follows)"))
        _ = view.handle(.end, state: Self.state)
        #expect(view.logList.isFollowing)
        for _ in 0..<4 { _ = view.handle(.character("v"), state: Self.state) }
        #expect(view.logList.minimumSeverity == .error)
        #expect(view.message?.text == "level: ERROR and above")
        let rows = LogListModel(state: Self.state, list: view.logList).rows
        #expect(rows.count == 4 && rows.allSatisfy { $0.severity == .error })
        _ = view.handle(.character("v"), state: Self.state)
        _ = view.handle(.character("v"), state: Self.state)
        #expect(view.logList.minimumSeverity == nil, "after fatal: all levels again")
    }

    @Test func theFilterNarrowsAndABadOneSaysWhy() {
        var view = SeededState.view()
        _ = view.handle(.character("L"), state: Self.state)
        _ = view.handle(.character("/"), state: Self.state)
        for character in "region=eu-west-1 declined" { _ = view.handle(.character(character), state: Self.state) }
        #expect(view.activeKeyContext(in: Self.state) == .typedLine)
        _ = view.handle(.enter, state: Self.state)
        let rows = LogListModel(state: Self.state, list: view.logList).rows
        #expect(rows.count >= 3 && rows.allSatisfy { $0.region == "eu-west-1" && $0.body.contains("declined") })
        #expect(rows.filter { $0.service == "test-payments" }.count == 3)
        _ = view.handle(.escape, state: Self.state)
        #expect(view.logList.filterText.isEmpty && view.screen == .logs, "Esc clears the filter first")
        _ = view.handle(.character("/"), state: Self.state)
        for character in "trace=nothex" { _ = view.handle(.character(character), state: Self.state) }
        _ = view.handle(.enter, state: Self.state)
        #expect(view.message == StatusMessage("trace= needs a 32-digit hex trace id", isError: true))
    }

    @Test func aSpansLogsAndBackToTheTraceFromALog() throws {
        var view = SeededState.view()
        view.openWaterfall(Self.trace.traceID)
        _ = view.handle(.enter, state: Self.state)
        guard case .spanDetail(let traceID, let spanID) = view.screen else {
            Issue.record("expected the span detail, got \(view.screen)")
            return
        }
        let count = Self.state.logs.recordCount(ofTrace: traceID, span: spanID)
        #expect(Self.render(view).text.contains("\(count) records (L shows them)"), "the demo's and the test's")
        _ = view.handle(.character("L"), state: Self.state)
        #expect(view.screen == .logs)
        #expect(view.logList.filter == LogQuery(traceID: traceID, spanID: spanID))
        let rows = LogListModel(state: Self.state, list: view.logList).rows
        #expect(rows.count == count && rows.allSatisfy { $0.spanID == spanID })
        #expect(rows.last?.body == "insert into orders failed\nretrying")
        // Enter on the record opens its trace's waterfall.
        _ = view.handle(.enter, state: Self.state)
        #expect(view.screen == .waterfall(trace: Self.trace.traceID))
        // From the waterfall, L shows the whole trace's logs.
        _ = view.handle(.character("L"), state: Self.state)
        let traceRows = LogListModel(state: Self.state, list: view.logList).rows
        #expect(traceRows.count == Self.state.logs.recordCount(ofTrace: traceID) && traceRows.count > count)
        #expect(traceRows.allSatisfy { $0.traceID == traceID })
        // A record without a trace says so.
        var plain = SeededState.view()
        _ = plain.handle(.character("L"), state: Self.state)
        Self.filter("service=test-checkout", &plain)
        _ = plain.handle(.home, state: Self.state)
        _ = plain.handle(.enter, state: Self.state)
        #expect(plain.screen == .logs && plain.message?.text == "this record carries no trace id")
    }

    @Test func theRegionDetailShowsItsLogErrorsAndLOpensItsLogs() {
        var view = SeededState.view()
        _ = view.execute("region eu-west-1", state: Self.state)
        let text = Self.render(view).text
        #expect(text.contains("log errors"), "\(text)")
        _ = view.handle(.character("L"), state: Self.state)
        #expect(view.logList.filterText == "region=eu-west-1")
        #expect(LogListModel(state: Self.state, list: view.logList).rows.allSatisfy { $0.region == "eu-west-1" })
    }

    @Test func metricsScreenListsSeriesAndChartsTheSelectedOne() {
        var view = SeededState.view()
        _ = view.handle(.character("M"), state: Self.state)
        #expect(view.screen == .metrics)
        let frame = Self.render(view)
        Snapshot.assert(frame, named: "metrics-120x40")
        #expect(frame.text.contains("queue.depth") && frame.text.contains("http.server.request.duration"))
        #expect(frame.text.contains("now"), "the chart has a time axis")
        let rows = MetricListModel(state: Self.state, list: view.metricList).rows
        _ = view.handle(.down, state: Self.state)
        #expect(view.metricList.selected == rows[1].key)
        _ = view.handle(.character("/"), state: Self.state)
        for character in "queue" { _ = view.handle(.character(character), state: Self.state) }
        _ = view.handle(.enter, state: Self.state)
        #expect(MetricListModel(state: Self.state, list: view.metricList).rows.map(\.latest.metric) == ["queue.depth"])
    }

    /// Review: a picked record was replaced by the newest one once a thousand newer records
    /// had arrived (the window was always the newest thousand).
    @Test func aPickedRecordStaysPickedHoweverManyArriveAfterIt() throws {
        var view = SeededState.view()
        _ = view.handle(.character("L"), state: Self.state)
        _ = view.handle(.up, state: Self.state)
        let picked = try #require(view.logList.selected)
        var later = Self.state
        let resource = SpanResource(
            region: "us-east-1", provider: nil, service: "flood", serviceVersion: nil, attributes: [])
        later.apply(
            .logs(
                LogBatch(
                    source: "otlp", receivedAt: later.now, resources: [resource],
                    records: (0..<3000).map { IncomingLogRecord(timeUnixNano: 1, body: "flood \($0)") })))
        let model = LogListModel(state: later, list: view.logList)
        #expect(model.selected?.sequence == picked)
        #expect(model.rows.count > 500, "rows after it too: \(model.rows.count)")
        _ = view.handle(.enter, state: later)
        #expect(view.logList.selected == picked)
    }

    /// Review: after L from a span, L from the overview still showed only that span's logs.
    @Test func logsOpenedFromElsewhereDropAContextsFilter() {
        var view = SeededState.view()
        view.openWaterfall(Self.trace.traceID)
        _ = view.handle(.character("L"), state: Self.state)
        #expect(view.logList.filter.traceID == Self.trace.traceID)
        view.screens = [.overview]
        _ = view.handle(.character("L"), state: Self.state)
        #expect(view.logList.filter == LogQuery() && view.logList.filterText.isEmpty)
        // A filter the operator typed stays.
        Self.filter("timeout", &view)
        view.screens = [.overview]
        _ = view.handle(.character("L"), state: Self.state)
        #expect(view.logList.filterText == "timeout")
    }

    /// Review: a huge negative value in a sparkline (a small metrics chart) trapped.
    @Test func aSparklineOfHugeNegativeValuesDoesNotTrap() {
        let line = Sparkline(values: [-1e300, -5, nil, 3], threshold: nil, style: Style(), alertStyle: Style()).line(
            width: 4)
        #expect(line.text.count == 4)
    }
}
