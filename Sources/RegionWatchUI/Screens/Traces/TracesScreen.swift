import RegionWatchCore
import RegionWatchTerminal

/// The trace list (`t`): recent traces with root service and operation, regions touched,
/// duration, span count and errors; sorted and filtered as the view says.
struct TracesScreen {
    let context: ScreenContext

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        let list = context.view.traceList
        let model = TraceListModel(state: state, list: list)
        let (summaryArea, body) = area.splitTop(1)
        let counters = state.traces.counters
        var summary = Line(
            " \(Format.rate(Double(state.traces.traceCount))) traces · \(Format.rate(Double(state.traces.spanCount))) spans kept",
            style: theme[.text])
        summary.append(
            " · \(Format.rate(state.spanIngest.eventsPerSecond)) spans/s · received \(counters.receivedSpans) · rejected \(counters.rejectedSpans + state.receivers.values.reduce(0) { $0 + $1.spansRejected }) · evicted \(counters.evictedSpans)",
            style: theme[.muted])
        frame.write(summary, x: summaryArea.x, y: summaryArea.y, clip: summaryArea)

        var note = Line("sort: \(list.sort.rawValue)", style: theme[.muted])
        if !list.filterText.isEmpty {
            note.append("  filter: ", style: theme[.muted])
            note.append(list.filterText, style: theme[.key])
        }
        ListPane(
            context: context, title: "Traces (\(model.rows.count))", note: note, columns: Self.columns,
            rows: model.rows, selectedIndex: model.selectedIndex, emptyLines: emptyLines,
            cells: { $0.compactMap { state.traces.summary(of: $0.traceID) }.map(row) }
        ).render(in: body, into: &frame)
    }

    static let columns: [TableColumn] = [
        TableColumn("START", width: 12, priority: 70),
        TableColumn("TRACE", width: 8, priority: 40),
        TableColumn("ERR", width: 3, priority: 95),
        TableColumn("SERVICE", width: 12, priority: 80),
        TableColumn("OPERATION", width: 20, priority: 100, isFlexible: true),
        TableColumn("REGIONS", width: 24, priority: 85),
        TableColumn("DURATION", width: 9, alignment: .right, priority: 90),
        TableColumn("SPANS", width: 6, alignment: .right, priority: 60),
    ]

    private func row(_ trace: TraceSummary) -> [Line] {
        let theme = context.theme
        let start = Timestamp(secondsSinceEpoch: Double(trace.startUnixNano) / 1e9)
        let milliseconds = Int(Double(trace.startUnixNano % 1_000_000_000) / 1e6)
        var errors = Line()
        if trace.errorCount > 0 {
            errors.append("✖\(trace.errorCount > 9 ? "+" : String(trace.errorCount))", style: theme[.down])
        }
        return [
            Line(
                "\(start.utcTimeOfDay).\(milliseconds < 10 ? "00" : (milliseconds < 100 ? "0" : ""))\(milliseconds)",
                style: theme[.muted]),
            Line(String(trace.traceID.hex.prefix(8)), style: theme[.muted]),
            errors,
            Line(trace.rootService ?? "?", style: theme[.text]),
            Line(
                trace.rootName ?? "(root not received)",
                style: trace.rootName == nil ? theme[.muted] : theme[.text].adding(.bold)),
            regions(trace),
            Line(Format.milliseconds(trace.durationMilliseconds), style: theme[.text]),
            Line(String(trace.spanCount), style: theme[.muted]),
        ]
    }

    /// Regions touched, each in its series colour; regions not in the configuration marked `?`.
    private func regions(_ trace: TraceSummary) -> Line {
        var line = Line()
        for (index, region) in trace.regions.enumerated() {
            if index > 0 { line.append(trace.hasCrossRegionHop ? "⇢" : ",", style: context.theme[.muted]) }
            line.append(region, style: context.regionStyle(region))
            if !context.state.isConfigured(region: region) { line.append("?", style: context.theme[.warning]) }
        }
        return line
    }

    private func emptyLines() -> [Line] {
        let theme = context.theme
        let state = context.state
        if !context.view.traceList.filterText.isEmpty {
            return [Line("no trace matches the filter (Esc clears it)", style: theme[.muted])]
        }
        var lines = [Line("no traces yet", style: theme[.muted])]
        for receiver in state.receivers.values.sorted(by: { $0.receiver < $1.receiver }) {
            let hint =
                receiver.transport == "grpc"
                ? "send OTLP/gRPC to \(receiver.listenAddress) (exporter protocol grpc)"
                : "send OTLP/HTTP to http://\(receiver.listenAddress)/v1/traces (protobuf or JSON)"
            lines.append(Line(hint, style: theme[.muted]))
        }
        if state.receivers.isEmpty {
            lines.append(
                Line(
                    "no OTLP receiver runs: add a collector of kind otlp, or start without --otlp-listen off",
                    style: theme[.muted]))
        }
        return lines
    }
}

extension ScreenContext {
    /// The series colour of a region: configured regions in order, then others by first sight.
    func regionStyle(_ region: String) -> Style {
        if let index = state.regions.firstIndex(where: { $0.name == region }) { return theme.series(index) }
        if region == SpanResource.unknownRegion { return theme[.muted] }
        let index = state.traces.regionNames.firstIndex(of: region) ?? 0
        return theme.series(state.regions.count + index)
    }
}
