import RegionWatchCore
import RegionWatchTerminal

/// Region × region hop latency from spans (`m`): p50/p99 and counts per ordered pair, slow
/// pairs highlighted.
struct LatencyMatrixScreen {
    let context: ScreenContext

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        let matrix = state.hopLatencies
        var regions = state.regions.map(\.name)
        for pair in matrix.pairs.sorted(by: { ($0.from, $0.to) < ($1.from, $1.to) }) {
            for name in [pair.from, pair.to] where !regions.contains(name) { regions.append(name) }
        }
        let slow = state.topology.thresholds.hopSlowMilliseconds
        let block = context.block(
            "Cross-region latency (from → to)",
            note: Line("p50 / p99 · count · slow ≥ \(Format.milliseconds(slow))", style: theme[.muted]), focused: true)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !matrix.pairs.isEmpty else {
            Paragraph(
                context.wrap(
                    [
                        Line("no cross-region hops measured yet", style: theme[.muted]),
                        Line(
                            "A hop is a span in one region whose parent runs in another; its latency is the parent's duration minus the child's (time spent between the regions).",
                            style: theme[.muted]),
                    ], width: inner.width, indent: 0)
            ).render(in: inner, into: &frame)
            return
        }
        let cellWidth = 20
        var columns = [TableColumn("FROM \\ TO", width: 16, priority: 100)]
        columns += regions.map { TableColumn($0, width: cellWidth, alignment: .right, priority: 50) }
        let rows: [[Line]] = regions.map { from in
            var row = [Line(from, style: context.regionStyle(from).adding(.bold))]
            for to in regions {
                guard from != to, let statistics = matrix.statistics(from: from, to: to) else {
                    row.append(Line(from == to ? "—" : "·", style: theme[.muted]))
                    continue
                }
                let style =
                    statistics.p99Milliseconds >= slow * 4
                    ? theme[.down] : (statistics.p99Milliseconds >= slow ? theme[.degraded] : theme[.text])
                var cell = Line(
                    "\(Format.milliseconds(statistics.p50Milliseconds)) / \(Format.milliseconds(statistics.p99Milliseconds))",
                    style: style)
                cell.append(" n=\(statistics.count)", style: theme[.muted])
                row.append(cell)
            }
            return row
        }
        let tableHeight = min(inner.height, rows.count + 1)
        Table(columns: columns, rows: rows, headerStyle: theme[.tableHeader], columnSpacing: 2).render(
            in: Rect(x: inner.x, y: inner.y, width: inner.width, height: tableHeight), into: &frame)
        let notes = context.wrap(
            [
                Line(),
                Line(
                    "A hop is a parent span in one region with a child span in another; its latency is the parent's duration minus the child's: the time spent between the regions. Counts include hops no longer kept; p50/p99 cover the latest \(HopLatencyMatrix.samplesPerPair) per pair.",
                    style: theme[.muted]),
            ], width: inner.width, indent: 0)
        Paragraph(notes).render(
            in: Rect(x: inner.x, y: inner.y + tableHeight, width: inner.width, height: inner.height - tableHeight),
            into: &frame)
    }
}
