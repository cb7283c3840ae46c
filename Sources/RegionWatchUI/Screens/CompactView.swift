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
        frame.write(header(width: area.width), x: area.x, y: area.y, clip: area.row(0))

        let hasFooter = area.height >= 3
        let (body, footer) = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1).splitBottom(
            hasFooter ? 1 : 0)
        if case .regionDetail(let name) = context.view.screen, let region = state.region(named: name) {
            let detail = RegionDetailScreen(context: context, region: region)
            let lines = context.wrap(detail.detailLines(width: body.width), width: body.width)
            let scroll = min(context.view.detailScroll, max(0, lines.count - body.height))
            var title = Line(
                "\(RegionText.glyph(region.health)) \(region.name) ", style: theme.style(for: region.health))
            title.append(region.health.label, style: theme.style(for: region.health))
            frame.write(title, x: body.x, y: body.y, clip: body)
            Paragraph(lines, scroll: scroll).render(
                in: Rect(x: body.x, y: body.y + 1, width: body.width, height: body.height - 1), into: &frame)
        } else {
            let regionRows = min(state.regions.count, body.height)
            let offset = Table.scrollOffset(
                selected: context.view.selectedRegion, rowCount: state.regions.count, visibleRows: regionRows)
            for (row, index) in (offset..<(offset + regionRows)).enumerated() {
                let region = state.regions[index]
                frame.write(summary(region, width: body.width), x: body.x, y: body.y + row, clip: body)
                if index == context.view.selectedRegion {
                    frame.restyle(body.row(row)) { $0.selected(by: theme[.selection]) }
                }
            }
            let events = Rect(x: body.x, y: body.y + regionRows, width: body.width, height: body.height - regionRows)
            Paragraph(EventLines.lines(context, limit: events.height).map { $0.truncated(to: events.width) }).render(
                in: events, into: &frame)
        }
        if hasFooter {
            FooterView(context: context).render(in: footer, into: &frame)
        }
    }

    /// The one header line: split brain, topology, primary and failover state first (cut with
    /// … when nothing else fits), then badges, the clock and the RPO as room allows.
    func header(width: Int) -> Line {
        let theme = context.theme
        let state = context.state
        var segments: [(priority: Int, line: Line)] = []
        if state.primary.splitBrain != nil {
            segments.append((130, Line(" SPLIT BRAIN ", style: theme.style(for: .down).adding(.bold).adding(.reverse))))
        }
        segments.append((100, Line(" \(state.topology.name) ", style: theme[.headerAccent])))
        let primary = state.primary.current.map { "primary \($0)" } ?? "no primary"
        segments.append(
            (95, Line(" \(primary) ", style: state.primary.current == nil ? theme.style(for: .down) : theme[.header])))
        if context.view.isPaused { segments.append((90, Line(" PAUSED ", style: theme[.badge]))) }
        if state.bus.droppedEvents > 0 {
            segments.append((85, Line(" dropped \(state.bus.droppedEvents) ", style: theme[.badge])))
        }
        segments.append((80, Line(" \(state.now.utcTimeOfDay) ", style: theme[.header])))
        if context.view.isDemo { segments.append((40, Line(" DEMO ", style: theme[.badge]))) }
        segments.append(
            (30, Line(" RPO \(Format.duration(state.topology.objectives.rpoSeconds)) ", style: theme[.header])))
        // The failover state is never dropped: it takes what is left after the topology name.
        let isSteady = state.failover.machine.state == .steady
        let failover = Line(
            " failover: \(state.failover.headerSummary) ", style: isSteady ? theme[.header] : theme[.badge])
        let reserved = min(
            failover.width, max(12, width - segments.filter { $0.priority >= 95 }.reduce(0) { $0 + $1.line.width }))
        let chosen = PriorityFit.choose(
            widths: segments.map(\.line.width), priorities: segments.map(\.priority), available: width - reserved)
        var line = Line(segments.indices.filter(chosen.contains).flatMap { segments[$0].line.spans })
        line.spans.append(contentsOf: failover.truncated(to: width - line.width).spans)
        return line
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
            (97, Span(TextFit.fit(region.health.label, to: 8) + " ", style: theme.style(for: region.health))),
            (
                98,
                Span(
                    TextFit.fit(RegionText.role(region), to: 8) + " ",
                    style: theme.style(for: region.role, isStale: isStale))
            ),
            (
                90,
                Span(
                    "lag " + TextFit.fit(lagText, to: 6, alignment: .right) + " ",
                    style: isStale ? base : theme.lagStyle(lag, rpo: context.rpo))
            ),
            (
                80,
                Span(
                    "age " + TextFit.fit(RegionText.age(region, now: context.now), to: 4) + " ",
                    style: isStale ? theme[.stale].adding(.bold) : theme[.muted])
            ),
            (
                70,
                Span(
                    "err "
                        + TextFit.fit(
                            RegionText.errorRate(region, thresholds: state.topology.thresholds), to: 5,
                            alignment: .right) + " ", style: base)
            ),
            (
                60,
                Span(
                    "p99 "
                        + TextFit.fit(
                            RegionText.p99(region, thresholds: state.topology.thresholds), to: 6, alignment: .right)
                        + " ", style: base)
            ),
        ]
        let chosen = PriorityFit.choose(
            widths: fields.map(\.span.width), priorities: fields.map(\.priority), available: width)
        return Line(fields.indices.filter(chosen.contains).map { fields[$0].span })
    }
}
