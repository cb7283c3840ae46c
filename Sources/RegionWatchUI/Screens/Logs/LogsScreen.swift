import RegionWatchCore
import RegionWatchTerminal

/// The logs screen (`L`): recent log records of every region, newest at the bottom and
/// followed until a row is picked; filtered by level, words, region, service, trace or span;
/// the selected record's attributes and trace below the list.
struct LogsScreen {
    let context: ScreenContext

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        let list = context.view.logList
        let model = LogListModel(state: state, list: list)
        let (summaryArea, rest) = area.splitTop(1)
        let counters = state.logs.counters
        var summary = Line(" \(Format.rate(Double(state.logs.recordCount))) records kept", style: theme[.text])
        summary.append(
            " · \(Format.rate(state.logIngest.eventsPerSecond)) records/s · received \(counters.received) · rejected \(counters.rejected + receiverRejections) · evicted \(counters.evicted)",
            style: theme[.muted])
        frame.write(summary, x: summaryArea.x, y: summaryArea.y, clip: summaryArea)

        let detailHeight = model.selected == nil ? 0 : min(6, max(0, rest.height / 4))
        let (listArea, detailArea) = rest.splitBottom(detailHeight)
        var note = Line(
            list.isFollowing ? "following newest" : "paused on selection (End follows)", style: theme[.muted])
        if let minimum = list.query.minimumSeverity {
            note.append("  level ≥ ", style: theme[.muted])
            note.append(minimum.name, style: theme[.key])
        }
        if !list.filterText.isEmpty {
            note.append("  filter: ", style: theme[.muted])
            note.append(list.filterText, style: theme[.key])
        }
        let count =
            model.rows.count == LogListModel.window
            ? "newest \(model.rows.count)" : model.isComplete ? String(model.rows.count) : "\(model.rows.count)+"
        ListPane(
            context: context, title: "Logs (\(count))", note: note, columns: Self.columns, rows: model.rows,
            selectedIndex: model.selectedIndex, highlightsSelection: !list.isFollowing, emptyLines: emptyLines,
            cells: { $0.map(row) }
        ).render(in: listArea, into: &frame)
        if let record = model.selected, detailHeight > 0 {
            renderDetail(of: record, in: detailArea, into: &frame)
        }
    }

    /// Records refused inside accepted requests, by every receiver.
    private var receiverRejections: Int {
        context.state.receivers.values.reduce(0) { $0 + ($1.signals["logs"]?.rejected ?? 0) }
    }

    static let columns: [TableColumn] = [
        TableColumn("TIME", width: 12, priority: 70),
        TableColumn("LEVEL", width: 5, priority: 95),
        TableColumn("REGION", width: 14, priority: 85),
        TableColumn("SERVICE", width: 12, priority: 75),
        TableColumn("TRACE", width: 8, priority: 40),
        TableColumn("MESSAGE", width: 24, priority: 100, isFlexible: true),
    ]

    private func row(_ record: LogView) -> [Line] {
        let theme = context.theme
        let time = Timestamp(secondsSinceEpoch: Double(record.timeUnixNano / 1_000_000) / 1000)
        let milliseconds = Int(record.timeUnixNano / 1_000_000 % 1000)
        let padded =
            milliseconds < 10 ? "00\(milliseconds)" : (milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)")
        return [
            Line("\(time.utcTimeOfDay).\(padded)", style: theme[.muted]),
            Line(record.severityLabel, style: levelStyle(record.severity)),
            Line(record.region, style: context.regionStyle(record.region)),
            Line(record.service, style: theme[.text]),
            Line(record.traceID.map { String($0.hex.prefix(8)) } ?? "", style: theme[.muted]),
            Line(Self.oneLine(record.body), style: theme[.text]),
        ]
    }

    private func levelStyle(_ severity: LogSeverity?) -> Style {
        let theme = context.theme
        switch severity {
        case .fatal?, .error?: return theme[.down]
        case .warn?: return theme[.degraded]
        case .info?: return theme[.text]
        default: return theme[.muted]
        }
    }

    /// A body on one row: line breaks and tabs shown as spaces.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }

    private func renderDetail(of record: LogView, in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let block = context.block("Record")
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        var lines: [Line] = []
        if let trace = record.traceID {
            var line = context.fact("trace", trace.hex)
            if let span = record.spanID { line.append("  span \(span.hex)", style: theme[.muted]) }
            let kept = context.state.traces.summary(of: trace) != nil
            line.append(kept ? "  Enter: waterfall" : "  (trace not kept)", style: theme[.muted])
            lines.append(line)
        }
        if !record.attributes.isEmpty {
            lines.append(context.fact("attributes", record.attributes.joined(separator: "  ")))
        }
        lines.append(context.fact("message", Self.oneLine(record.body)))
        Paragraph(context.wrap(lines, width: inner.width)).render(in: inner, into: &frame)
    }

    private func emptyLines() -> [Line] {
        let theme = context.theme
        let state = context.state
        if !context.view.logList.filterText.isEmpty || context.view.logList.minimumSeverity != nil {
            return [
                Line(
                    "no record matches the level and filter (Esc clears the filter, v the level)", style: theme[.muted])
            ]
        }
        var lines = [Line("no logs yet", style: theme[.muted])]
        for receiver in state.receivers.values.sorted(by: { $0.receiver < $1.receiver }) {
            let hint =
                receiver.transport == "grpc"
                ? "send OTLP/gRPC logs to \(receiver.listenAddress) (LogsService)"
                : "send OTLP/HTTP logs to http://\(receiver.listenAddress)/v1/logs (protobuf or JSON)"
            lines.append(Line(hint, style: theme[.muted]))
        }
        return lines
    }
}
