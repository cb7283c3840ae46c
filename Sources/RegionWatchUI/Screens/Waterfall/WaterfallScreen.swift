import RegionWatchCore
import RegionWatchTerminal

/// One trace as a waterfall: a row per span, indented by parent, with a bar on a labelled time
/// axis coloured by region (or service), the critical path marked `◆` in the gutter (a `┃`
/// there merged with the frame) and drawn in full blocks, errors marked on the
/// span (✖) and hollow on its ancestors (○), cross-region hops marked (⇢), folding, and only the
/// visible rows drawn so traces of any size scroll smoothly.
struct WaterfallScreen {
    let context: ScreenContext
    let traceID: TraceID

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        guard let model = WaterfallModel(state: context.state, trace: traceID, waterfall: context.view.waterfall) else {
            frame.write(
                " trace \(traceID.hex) is no longer kept (evicted); Esc goes back", x: area.x, y: area.y,
                style: theme[.warning], clip: area)
            return
        }
        let (headerArea, rest) = area.splitTop(2)
        renderHeader(model, in: headerArea, into: &frame)
        let (body, detailArea) = rest.splitBottom(1)
        let block = context.block(
            "Waterfall",
            note: Line("\(model.visible.count) of \(model.tree.nodes.count) spans shown", style: theme[.muted]),
            focused: true)
        block.render(in: body, into: &frame)
        let inner = block.inner(body)
        renderRows(model, in: inner, into: &frame)
        if let node = model.selectedNode {
            frame.write(selectedLine(node, model: model), x: detailArea.x, y: detailArea.y, clip: detailArea)
        }
    }

    // MARK: Parts

    private func renderHeader(_ model: WaterfallModel, in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let summary = model.snapshot.summary
        var first = Line(" trace ", style: theme[.muted])
        first.append(summary.traceID.hex, style: theme[.text])
        first.append("  \(summary.rootName ?? "(root not received)")", style: theme[.title])
        first.append(
            "  \(Format.milliseconds(summary.durationMilliseconds)) · \(summary.spanCount) spans · \(summary.regions.count) region\(summary.regions.count == 1 ? "" : "s")",
            style: theme[.muted])
        if summary.errorCount > 0 {
            first.append(" · \(summary.errorCount) error\(summary.errorCount == 1 ? "" : "s")", style: theme[.down])
        }
        frame.write(first, x: area.x, y: area.y, clip: area.row(0))
        var legend = Line(" ", style: theme[.muted])
        for (name, style) in legendEntries(model) {
            legend.append("■ ", style: style)
            legend.append(name + "  ", style: theme[.text])
        }
        legend.append(Self.criticalPathMark + " " + Self.criticalBar, style: theme[.criticalPath])
        legend.append(" critical path  ", style: theme[.muted])
        legend.append(Self.otherBar, style: theme[.muted])
        legend.append(" other span  ", style: theme[.muted])
        legend.append("✖", style: theme[.down])
        legend.append(" error  ", style: theme[.muted])
        legend.append("○", style: theme[.degraded])
        legend.append(" error below  ", style: theme[.muted])
        legend.append("⇢", style: theme[.warning])
        legend.append(
            " cross-region  c: colour by \(context.view.waterfall.coloring == .region ? "service" : "region")",
            style: theme[.muted])
        frame.write(legend, x: area.x, y: area.y + 1, clip: area.row(1))
    }

    private func legendEntries(_ model: WaterfallModel) -> [(String, Style)] {
        switch context.view.waterfall.coloring {
        case .region: return model.snapshot.summary.regions.map { ($0, context.regionStyle($0)) }
        case .service: return services(model).enumerated().map { ($1, context.theme.series($0)) }
        }
    }

    private func services(_ model: WaterfallModel) -> [String] {
        var seen: [String] = []
        for node in model.tree.nodes where !seen.contains(node.span.service) { seen.append(node.span.service) }
        return seen
    }

    /// The gutter mark of a span on the critical path, and the bar glyphs on and off it.
    static let criticalPathMark = "◆"
    static let criticalBar = "█"
    static let otherBar = "▆"

    private func renderRows(_ model: WaterfallModel, in area: Rect, into frame: inout Frame) {
        guard area.height >= 3, area.width >= 20 else { return }
        let theme = context.theme
        let labelWidth = min(64, max(24, area.width * 2 / 5))
        let durationWidth = 9
        let barArea = Rect(
            x: area.x + 1 + labelWidth + 1, y: area.y, width: area.width - labelWidth - durationWidth - 3,
            height: area.height)
        let total = max(1, model.tree.endUnixNano - model.tree.startUnixNano)
        renderAxis(total: total, in: barArea, into: &frame)
        let rowsArea = Rect(x: area.x, y: area.y + 2, width: area.width, height: area.height - 2)
        let offset = Table.scrollOffset(
            selected: model.selectedRow, rowCount: model.visible.count, visibleRows: rowsArea.height)
        let serviceOrder = context.view.waterfall.coloring == .service ? services(model) : []
        for (position, nodeIndex) in model.visible[offset..<min(model.visible.count, offset + rowsArea.height)]
            .enumerated()
        {
            let node = model.tree.nodes[nodeIndex]
            let y = rowsArea.y + position
            if node.isOnCriticalPath {
                frame.write(Self.criticalPathMark, x: area.x, y: y, style: theme[.criticalPath])
            }
            let name = label(
                node, in: model.tree, collapsed: context.view.waterfall.collapsed.contains(node.span.spanID),
                width: labelWidth)
            frame.write(
                name.truncated(to: labelWidth), x: area.x + 1, y: y,
                clip: Rect(x: area.x + 1, y: y, width: labelWidth, height: 1))
            // The bar, scaled to the trace's duration.
            let startOffset = node.span.startUnixNano - model.tree.startUnixNano
            let first = Int(Double(startOffset) / Double(total) * Double(barArea.width))
            let last = max(
                first + 1,
                Int(
                    (Double(startOffset + node.span.durationNanos) / Double(total) * Double(barArea.width)).rounded(.up)
                ))
            let color: Style =
                switch context.view.waterfall.coloring {
                case .region: context.regionStyle(node.span.region)
                case .service: theme.series(serviceOrder.firstIndex(of: node.span.service) ?? 0)
                }
            let barStyle = node.isOnCriticalPath ? color.adding(.bold) : color
            let barText = String(
                repeating: node.isOnCriticalPath ? Self.criticalBar : Self.otherBar,
                count: max(1, min(last, barArea.width) - min(first, barArea.width - 1)))
            frame.write(
                barText, x: barArea.x + min(first, barArea.width - 1), y: y, style: barStyle,
                clip: Rect(x: barArea.x, y: y, width: barArea.width, height: 1))
            frame.write(
                TextFit.fit(
                    Format.milliseconds(Double(node.span.durationNanos) / 1e6), to: durationWidth, alignment: .right),
                x: area.maxX - durationWidth, y: y, style: node.isError ? theme[.down] : theme[.muted])
            if position + offset == model.selectedRow {
                frame.restyle(Rect(x: area.x, y: y, width: area.width, height: 1)) {
                    $0.selected(by: theme[.selection])
                }
            }
        }
    }

    /// Labels at 0, ¼, ½, ¾ and the end of the trace, and a ruler.
    private func renderAxis(total: UInt64, in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        guard area.width >= 8 else { return }
        var ruler = [Character](repeating: "─", count: area.width)
        var nextFree = area.x
        for quarter in 0...4 {
            let x = min(area.width - 1, area.width * quarter / 4)
            ruler[x] = quarter == 0 ? "├" : (quarter == 4 ? "┤" : "┼")
            let label = Format.milliseconds(Double(total) / 1e6 * Double(quarter) / 4)
            let width = CharacterWidth.of(label)
            let labelX = quarter == 4 ? area.maxX - width : (quarter == 0 ? area.x : area.x + x - width / 2)
            // Labels that would touch the previous one are left out (narrow screens).
            guard labelX >= nextFree else { continue }
            frame.write(label, x: labelX, y: area.y, style: theme[.muted], clip: area.row(0))
            nextFree = labelX + width + 1
        }
        frame.write(String(ruler), x: area.x, y: area.y + 1, style: theme[.border], clip: area.row(1))
    }

    private func label(_ node: TraceTree.Node, in tree: TraceTree, collapsed: Bool, width: Int) -> Line {
        let theme = context.theme
        let indent = min(node.depth, width / 3)
        var line = Line(String(repeating: " ", count: indent), style: theme[.text])
        line.append(node.children.isEmpty ? " " : (collapsed ? "▸" : "▾"), style: theme[.muted])
        if node.isError {
            line.append("✖", style: theme[.down])
        } else if node.hasErrorBelow {
            line.append("○", style: theme[.degraded])
        } else {
            line.append(" ", style: theme[.text])
        }
        line.append(node.isCrossRegion ? "⇢" : " ", style: theme[.warning])
        line.append(node.span.name, style: node.isError ? theme[.down] : theme[.text])
        line.append(" \(node.span.service)·\(node.span.region)", style: theme[.muted])
        if collapsed { line.append(" (+\(descendants(of: node, in: tree)) hidden)", style: theme[.muted]) }
        return line
    }

    private func descendants(of node: TraceTree.Node, in tree: TraceTree) -> Int {
        var count = 0
        var stack = node.children
        while let next = stack.popLast() {
            count += 1
            stack.append(contentsOf: tree.nodes[next].children)
        }
        return count
    }

    private func selectedLine(_ node: TraceTree.Node, model: WaterfallModel) -> Line {
        let theme = context.theme
        let offset = Double(node.span.startUnixNano - model.tree.startUnixNano) / 1e6
        var line = Line(" \(node.span.name)", style: theme[.text].adding(.bold))
        line.append("  \(node.span.kind) · \(node.span.service) · ", style: theme[.muted])
        line.append(node.span.region, style: context.regionStyle(node.span.region))
        line.append(
            " · +\(Format.milliseconds(offset)) · \(Format.milliseconds(Double(node.span.durationNanos) / 1e6))",
            style: theme[.muted])
        line.append(" · status \(node.span.status)", style: node.isError ? theme[.down] : theme[.muted])
        line.append("   Enter: detail", style: theme[.key])
        return line
    }
}
