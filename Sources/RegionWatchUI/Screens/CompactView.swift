import RegionWatchCore
import RegionWatchTerminal

/// The layout below 80×24: a one-line header, one line per region, then recent events.
struct CompactView {
    let context: ScreenContext

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        guard !area.isEmpty else { return }
        frame.fill(area.row(0), style: theme[.header])
        var header = Line(" \(state.topology.name) ", style: theme[.headerAccent])
        if state.primary.splitBrain != nil {
            header = Line(" SPLIT BRAIN ", style: theme.style(for: .down).adding(.bold).adding(.reverse))
            header.append(" \(state.topology.name) ", style: theme[.headerAccent])
        }
        header.append(" RPO \(Format.duration(state.topology.objectives.rpoSeconds)) ", style: theme[.header])
        header.append(" \(state.now.utcTimeOfDay) ", style: theme[.header])
        if context.view.isPaused { header.append(" PAUSED ", style: theme[.badge]) }
        if context.view.isDemo { header.append(" DEMO ", style: theme[.badge]) }
        if state.bus.droppedEvents > 0 { header.append(" dropped \(state.bus.droppedEvents) ", style: theme[.badge]) }
        frame.write(header, x: area.x, y: area.y, clip: area.row(0))

        let hasFooter = area.height >= 3
        let (body, footer) = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1).splitBottom(hasFooter ? 1 : 0)
        if case .regionDetail(let name) = context.view.screen, let region = state.region(named: name) {
            let detail = RegionDetailScreen(context: context, region: region)
            let lines = context.wrap(detail.detailLines(width: body.width), width: body.width)
            let scroll = min(context.view.detailScroll, max(0, lines.count - body.height))
            var title = Line("\(RegionText.glyph(region.health)) \(region.name) ", style: theme.style(for: region.health))
            title.append(region.health.label, style: theme.style(for: region.health))
            frame.write(title, x: body.x, y: body.y, clip: body)
            Paragraph(lines, scroll: scroll).render(in: Rect(x: body.x, y: body.y + 1, width: body.width, height: body.height - 1), into: &frame)
        } else {
            let regionRows = min(state.regions.count, body.height)
            let offset = Table.scrollOffset(selected: context.view.selectedRegion, rowCount: state.regions.count, visibleRows: regionRows)
            for (row, index) in (offset..<(offset + regionRows)).enumerated() {
                let region = state.regions[index]
                frame.write(summary(region, width: body.width), x: body.x, y: body.y + row, clip: body)
                if index == context.view.selectedRegion {
                    frame.restyle(body.row(row)) { $0.selected(by: theme[.selection]) }
                }
            }
            let events = Rect(x: body.x, y: body.y + regionRows, width: body.width, height: body.height - regionRows)
            Paragraph(EventLines.lines(context, limit: events.height)).render(in: events, into: &frame)
        }
        if hasFooter {
            FooterView(context: context).render(in: footer, into: &frame)
        }
    }

    /// `● us-east-1 OK err 0.1% p99 182ms lag —  age 1s`, dropping the least important
    /// fields first so the line fits `width`.
    func summary(_ region: RegionState, width: Int) -> Line {
        let theme = context.theme
        let state = context.state
        let isStale = region.health == .stale
        let base = isStale ? theme[.stale] : theme[.text]
        let lag = state.replicationLag(of: region.name)
        let lagText = state.inboundLinks(of: region.name).isEmpty ? RegionText.unknown() : RegionText.lag(lag)
        let fields: [(priority: Int, span: Span)] = [
            (100, Span(RegionText.glyph(region.health) + " ", style: theme.style(for: region.health))),
            (99, Span(TextFit.fit(region.name, to: min(14, max(6, width / 4))) + " ", style: base.adding(.bold))),
            (98, Span(TextFit.fit(region.health.label, to: 8) + " ", style: theme.style(for: region.health))),
            (95, Span(TextFit.fit(RegionText.role(region), to: 8) + " ", style: theme.style(for: region.role, isStale: isStale))),
            (90, Span("lag " + TextFit.fit(lagText, to: 6, alignment: .right) + " ", style: isStale ? base : theme.lagStyle(lag, rpo: context.rpo))),
            (80, Span("age " + TextFit.fit(RegionText.age(region, now: context.now), to: 4) + " ", style: isStale ? theme[.stale].adding(.bold) : theme[.muted])),
            (70, Span("err " + TextFit.fit(RegionText.errorRate(region, thresholds: state.topology.thresholds), to: 5, alignment: .right) + " ", style: base)),
            (60, Span("p99 " + TextFit.fit(RegionText.p99(region, thresholds: state.topology.thresholds), to: 6, alignment: .right) + " ", style: base)),
        ]
        let chosen = PriorityFit.choose(widths: fields.map(\.span.width), priorities: fields.map(\.priority), available: width)
        return Line(fields.indices.filter(chosen.contains).map { fields[$0].span })
    }
}
