import RegionWatchCore
import RegionWatchTerminal

/// The metrics screen (`M`): every received OTLP metric series by region and service (name,
/// type, unit, points, the last reading), and the selected series' chart with a time axis and
/// a labelled value axis.
struct MetricsScreen {
    let context: ScreenContext

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        let list = context.view.metricList
        let model = MetricListModel(state: state, list: list)
        let (summaryArea, rest) = area.splitTop(1)
        let bound = state.metrics.bound
        var summary = Line(" \(bound.count) series", style: theme[.text])
        summary.append(
            " · \(Format.rate(Double(state.metrics.pointsReceived))) points received\(bound.forgotten > 0 ? " · \(bound.forgotten) series forgotten (most \(bound.capacity))" : "")",
            style: theme[.muted])
        frame.write(summary, x: summaryArea.x, y: summaryArea.y, clip: summaryArea)
        let chartHeight = model.selected == nil ? 0 : max(0, min(12, rest.height / 2))
        let (listArea, chartArea) = rest.splitBottom(chartHeight)
        var note: Line?
        if !list.filterText.isEmpty {
            var filter = Line("filter: ", style: theme[.muted])
            filter.append(list.filterText, style: theme[.key])
            note = filter
        }
        ListPane(
            context: context, title: "Metrics (\(model.rows.count))", note: note, columns: Self.columns,
            rows: model.rows, selectedIndex: model.selectedIndex, emptyLines: emptyLines, cells: { $0.map(row) }
        ).render(in: listArea, into: &frame)
        if let series = model.selected, chartHeight >= 3 {
            let latest = series.latest
            let unit = latest.valueUnit
            let suffix = unit.isEmpty || unit == "1" || unit.hasPrefix("{") ? "" : (unit == "/s" ? "/s" : " " + unit)
            SignalChart(
                context: context,
                title:
                    "\(latest.metric)\(latest.attributes.isEmpty ? "" : " {\(latest.attributes)}") · \(latest.region)/\(latest.service)",
                current: latest.summary, signal: series.history, isStale: false,
                format: { Format.number($0) + suffix }
            ).render(in: chartArea, into: &frame)
        }
    }

    static let columns: [TableColumn] = [
        TableColumn("REGION", width: 12, priority: 90),
        TableColumn("SERVICE", width: 10, priority: 70),
        TableColumn("METRIC", width: 28, priority: 100, isFlexible: true),
        TableColumn("ATTRIBUTES", width: 20, priority: 85, isFlexible: true),
        TableColumn("TYPE", width: 9, priority: 60),
        TableColumn("UNIT", width: 5, priority: 30),
        TableColumn("POINTS", width: 6, alignment: .right, priority: 50),
        TableColumn("LAST", width: 26, priority: 95, isFlexible: true),
    ]

    private func row(_ series: MetricCatalog.Series) -> [Line] {
        let theme = context.theme
        let latest = series.latest
        return [
            Line(latest.region, style: context.regionStyle(latest.region)),
            Line(latest.service, style: theme[.text]),
            Line(latest.metric, style: theme[.text].adding(.bold)),
            Line(latest.attributes, style: theme[.muted]),
            Line(latest.kind, style: theme[.muted]),
            Line(latest.unit, style: theme[.muted]),
            Line(Format.rate(Double(series.points)), style: theme[.muted]),
            Line(latest.summary, style: theme[.text]),
        ]
    }

    private func emptyLines() -> [Line] {
        let theme = context.theme
        if !context.view.metricList.filterText.isEmpty {
            return [Line("no series matches the filter (Esc clears it)", style: theme[.muted])]
        }
        var lines = [Line("no OTLP metrics yet", style: theme[.muted])]
        for receiver in context.state.receivers.values.sorted(by: { $0.receiver < $1.receiver }) {
            let hint =
                receiver.transport == "grpc"
                ? "send OTLP/gRPC metrics to \(receiver.listenAddress) (MetricsService)"
                : "send OTLP/HTTP metrics to http://\(receiver.listenAddress)/v1/metrics (protobuf or JSON)"
            lines.append(Line(hint, style: theme[.muted]))
        }
        lines.append(
            Line(
                "http.server.request.duration feeds each region's requests/s, errors and p50/p99 (metricSignals maps others)",
                style: theme[.muted]))
        return lines
    }
}
