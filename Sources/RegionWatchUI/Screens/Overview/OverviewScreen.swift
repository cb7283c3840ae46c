import RegionWatchCore
import RegionWatchTerminal

/// The start screen: regions table, replication links, failover panel, recent events.
struct OverviewScreen {
    let context: ScreenContext

    func render(in area: Rect, into frame: inout Frame) {
        let state = context.state
        let regionsHeight = min(state.regions.count + Self.unknownRows(state).count + 3, max(6, area.height * 45 / 100))
        let linksHeight = min(max(state.replicationLinks.count, 5) + 3, max(6, (area.height - regionsHeight) / 2))
        let parts = Layout.split(area, .vertical, [.length(regionsHeight), .length(linksHeight), .fill(1)])
        renderRegions(in: parts[0], into: &frame)
        let middle = Layout.split(parts[1], .horizontal, [.percentage(area.width >= 100 ? 58 : 50), .fill(1)])
        renderReplication(in: middle[0], into: &frame)
        renderFailover(in: middle[1], into: &frame)
        renderEvents(in: parts[2], into: &frame)
    }

    // MARK: Regions

    static let regionColumns: [TableColumn] = [
        TableColumn("", width: 1, priority: 100),
        TableColumn("REGION", width: 14, priority: 99, isFlexible: true, maximumWidth: 24),
        TableColumn("PROV", width: 5, priority: 30),
        TableColumn("ROLE", width: 8, priority: 80),
        TableColumn("HEALTH", width: 8, priority: 95),
        TableColumn("AVAIL", width: 6, alignment: .right, priority: 20),
        TableColumn("ERR", width: 6, alignment: .right, priority: 70),
        TableColumn("P99", width: 7, alignment: .right, priority: 75),
        TableColumn("REQ/S", width: 6, alignment: .right, priority: 55),
        TableColumn("TRAFFIC", width: 7, alignment: .right, priority: 50),
        TableColumn("LAG", width: 7, alignment: .right, priority: 90),
        TableColumn("%RPO", width: 5, alignment: .right, priority: 65),
        TableColumn("LAG TREND", width: 10, priority: 35, isFlexible: true),
        TableColumn("VERSION", width: 7, priority: 45),
        TableColumn("AGE", width: 5, alignment: .right, priority: 85),
    ]

    /// Index of the LAG TREND column, which takes the width a wide terminal has to spare.
    static let trendColumn = 12

    /// The regions table widget for `context`.
    static func regionsTable(_ context: ScreenContext, trendWidth: Int = 10) -> Table {
        let theme = context.theme
        let state = context.state
        let versions = state.regions.compactMap(\.primaryVersion)
        let newestVersion = versions.max { VersionOrder.isOlder($0, than: $1) }
        let rows: [[Line]] = state.regions.map { region in
            let isStale = region.health == .stale
            let base = isStale ? theme[.stale] : theme[.text]
            let healthStyle = theme.style(for: region.health)
            let lag = state.replicationLag(of: region.name)
            let isSource = state.inboundLinks(of: region.name).isEmpty
            let isWriter = region.role == .primary || region.role == .fenced || region.lastKnownRole == .primary
            let lagText = isSource ? (isWriter ? "source" : RegionText.unknown()) : RegionText.lag(lag)
            let history = state.inboundLinks(of: region.name).first?.lagSeconds.recentValues(trendWidth) ?? []
            let version = region.primaryVersion ?? RegionText.unknown()
            let isBehind = newestVersion.map { region.primaryVersion != nil && region.primaryVersion != $0 } ?? false
            let trend = Sparkline(
                values: history, maximum: max(context.rpo * 1.2, history.max() ?? 0), threshold: context.rpo,
                style: isStale ? theme[.stale] : theme[.sparkline],
                alertStyle: isStale ? theme[.stale] : theme[.sparklineAlert]
            )
            .line(width: trendWidth)
            return [
                Line(RegionText.glyph(region.health), style: healthStyle),
                Line(region.name, style: isStale ? theme[.stale] : theme[.text].adding(.bold)),
                Line(region.configuration.provider, style: base),
                Line(RegionText.role(region), style: theme.style(for: region.role, isStale: isStale)),
                Line(region.health.label, style: healthStyle),
                Line(RegionText.availability(region), style: base),
                Line(
                    RegionText.errorRate(region, thresholds: state.topology.thresholds),
                    style: isStale
                        ? base
                        : metricStyle(
                            region.errorRate.latest, degradedAt: state.topology.thresholds.errorRateDegraded,
                            theme: theme)),
                Line(
                    RegionText.p99(region, thresholds: state.topology.thresholds),
                    style: isStale
                        ? base
                        : metricStyle(
                            region.p99Milliseconds.latest,
                            degradedAt: state.topology.thresholds.p99DegradedMilliseconds, theme: theme)),
                Line(RegionText.requests(region), style: base),
                Line(RegionText.traffic(region), style: base),
                Line(lagText, style: isStale || isSource ? base : theme.lagStyle(lag, rpo: context.rpo)),
                Line(
                    isSource ? "" : RegionText.rpoShare(lag, rpo: context.rpo),
                    style: isStale ? base : theme.lagStyle(lag, rpo: context.rpo)),
                trend,
                Line(version, style: isBehind && !isStale ? theme[.warning] : base),
                Line(
                    RegionText.age(region, now: context.now),
                    style: isStale ? theme[.stale].adding(.bold) : theme[.muted]),
            ]
        }
        return Table(
            columns: regionColumns, rows: rows + unknownRows(state).map { unknownRow($0, context: context) },
            headerStyle: theme[.tableHeader],
            selectedRow: state.regions.isEmpty ? nil : context.view.selectedRegion,
            selectionStyle: theme[.selection]
        )
    }

    /// Most regions outside the configuration listed below the configured ones.
    static let unknownRowLimit = 5

    /// Regions outside the configuration that reported (spans, samples, probes), most
    /// observed first: listed, marked, below the configured regions (not selectable).
    static func unknownRows(_ state: DashboardState) -> [String] {
        state.unknownRegionObservations.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(unknownRowLimit).map(
            \.key)
    }

    /// A region outside the configuration: its name, marked, with what its spans say.
    private static func unknownRow(_ name: String, context: ScreenContext) -> [Line] {
        let muted = context.theme[.muted]
        let figures = context.state.spanSignals.figures(for: name, at: context.now)
        let unknown = RegionText.unknown()
        return [
            Line("?", style: context.theme[.warning]),
            Line(name, style: muted),
            Line(unknown, style: muted),
            Line(unknown, style: muted),
            Line("UNLISTED", style: context.theme[.warning]),
            Line(unknown, style: muted),
            Line(figures?.errorRate.map(Format.percent) ?? unknown, style: muted),
            Line(figures?.p99Milliseconds.map(Format.milliseconds) ?? unknown, style: muted),
            Line(figures.map { Format.rate($0.requestsPerSecond) } ?? unknown, style: muted),
            Line(unknown, style: muted), Line(unknown, style: muted), Line("", style: muted), Line(),
            Line(unknown, style: muted),
            Line(
                figures.map { Format.age(max(0, context.now.seconds(since: $0.observedAt))) } ?? unknown, style: muted),
        ]
    }

    private static func metricStyle(_ value: Double?, degradedAt threshold: Double, theme: Theme) -> Style {
        guard let value else { return theme[.muted] }
        return value >= threshold ? theme[.degraded] : theme[.text]
    }

    private func renderRegions(in area: Rect, into frame: inout Frame) {
        let focused = context.view.focusedPane == .regions
        let block = context.block(
            "Regions", note: Line("Enter: detail", style: context.theme[.muted]), focused: focused)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        let trendWidth =
            Table(columns: Self.regionColumns, rows: []).width(ofColumn: Self.trendColumn, forWidth: inner.width) ?? 10
        Self.regionsTable(context, trendWidth: trendWidth).render(in: inner, into: &frame)
    }

    // MARK: Replication

    private func renderReplication(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        let focused = context.view.focusedPane == .replication
        // One source for every link (the usual case): it goes in the title, the rows name only
        // the standby, so a narrow panel keeps whole names.
        let sources = Set(state.replicationLinks.map(\.from))
        let oneSource = sources.count == 1 ? sources.first : nil
        let title = oneSource.map { "Replication from \($0)" } ?? "Replication"
        let block = context.block(
            title, note: Line("RPO \(Format.duration(context.rpo))", style: theme[.threshold]), focused: focused)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !state.replicationLinks.isEmpty else {
            frame.write("no replication links reported yet", x: inner.x, y: inner.y, style: theme[.muted], clip: inner)
            return
        }
        // A broken link must never be only a colour: STATE outranks everything but the link's
        // name, which is cut (with …) before STATE is dropped.
        let columns = [
            TableColumn("LINK", width: 14, priority: 100, isFlexible: true, maximumWidth: 30),
            TableColumn("STATE", width: 11, priority: 97),
            TableColumn("LAG", width: 7, alignment: .right, priority: 95),
            TableColumn("BYTES", width: 7, alignment: .right, priority: 40),
            TableColumn("TREND", width: 10, priority: 30, isFlexible: true, maximumWidth: 40),
        ]
        let trendWidth = Table(columns: columns, rows: []).width(ofColumn: 4, forWidth: inner.width) ?? 10
        let rows: [[Line]] = state.replicationLinks.map { link in
            let lag = link.reading
            let values = link.lagSeconds.recentValues(trendWidth)
            let trend = Sparkline(
                values: values, maximum: max(context.rpo * 1.2, values.max() ?? 0), threshold: context.rpo,
                style: theme[.sparkline], alertStyle: theme[.sparklineAlert]
            )
            .line(width: trendWidth)
            return [
                Line(oneSource == nil ? "\(link.from) → \(link.to)" : "→ \(link.to)", style: theme[.text]),
                Line(link.state.rawValue, style: theme.style(for: link.state)),
                Line(
                    RegionText.lag(lag),
                    style: link.state == .stale ? theme[.stale] : theme.lagStyle(lag, rpo: context.rpo)),
                Line(link.reading.bytesBehind.map(Format.bytes) ?? RegionText.unknown(), style: theme[.muted]),
                trend,
            ]
        }
        let scroll = min(context.view.replicationScroll, max(0, rows.count - 1))
        Table(columns: columns, rows: Array(rows.dropFirst(scroll)), headerStyle: theme[.tableHeader]).render(
            in: inner, into: &frame)
    }

    // MARK: Failover

    private func renderFailover(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let state = context.state
        let block = context.block(
            "Failover",
            note: Line("RTO \(Format.duration(state.topology.objectives.rtoSeconds))", style: theme[.threshold]))
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        let machineState = state.failover.machine.state
        let stateStyle: Style =
            switch machineState {
            case .steady, .completed: theme[.ok]
            case .failed, .refused: theme[.down]
            default: theme[.warning]
            }
        var lines: [Line] = [context.fact("State", state.failover.summary, width: 9, valueStyle: stateStyle)]
        if let unresolved = state.unresolvedFailover {
            lines.append(
                context.fact(
                    "", "UNRESOLVED \(unresolved.summary)", width: 9, valueStyle: theme.style(for: .down).adding(.bold))
            )
        }
        let history = state.failover.history
        let interruptedStart = lines.count
        for interrupted in history.interrupted.suffix(3) {
            lines.append(
                context.fact(
                    "",
                    "INTERRUPTED \(interrupted.kind) \(interrupted.from) → \(interrupted.to) at \(interrupted.at.utcTimeOfDay) UTC: started, never finished (a: audit)",
                    width: 9, valueStyle: theme.style(for: .down).adding(.bold)))
        }
        if history.interruptedCount > 3 {
            lines.append(
                context.fact(
                    "", "… \(history.interruptedCount - 3) more interrupted (a: audit)", width: 9,
                    valueStyle: theme.style(for: .down)))
        }
        let interruptedLines = interruptedStart..<lines.count
        // When rows are short, the interrupted attempts fold into one line (the header's badge
        // and the audit screen say the rest).
        let interruptedSummary =
            history.interruptedCount == 0
            ? nil
            : context.fact(
                "", "INTERRUPTED ×\(history.interruptedCount): started, never finished (a: audit)", width: 9,
                valueStyle: theme.style(for: .down).adding(.bold))
        if let split = state.primary.splitBrain {
            lines.append(
                context.fact(
                    "Primary", "SPLIT BRAIN: \(split.regions.joined(separator: ", ")) accept writes", width: 9,
                    valueStyle: theme[.down].adding(.bold)))
        } else if let primary = state.primary.current.flatMap(state.region(named:)) {
            lines.append(
                context.fact(
                    "Primary",
                    "\(primary.name) (\(primary.configuration.provider))\(primary.timeline.map { ", timeline \($0)" } ?? "")",
                    width: 9))
        } else {
            let last = state.primary.lastKnown.map { " (last known \($0))" } ?? ""
            lines.append(context.fact("Primary", "none accepts writes\(last)", width: 9, valueStyle: theme[.down]))
        }
        let primaryName = state.primary.current ?? state.primary.lastKnown
        let standbysStart = lines.count
        for (index, standby) in state.regions.filter({ $0.role != .primary && $0.name != primaryName }).enumerated() {
            let lag = state.replicationLag(of: standby.name)
            var line = Line(TextFit.fit(index == 0 ? "Standbys" : "", to: 9), style: theme[.muted])
            line.append("\(RegionText.glyph(standby.health)) ", style: theme.style(for: standby.health))
            line.append(standby.name, style: theme[.text])
            if standby.role != .standby {
                line.append(" \(standby.roleDescription)", style: theme.style(for: standby.role))
            }
            if lag != nil {
                line.append(" lag ", style: theme[.muted])
                line.append(RegionText.lag(lag), style: theme.lagStyle(lag, rpo: context.rpo))
            }
            lines.append(line)
        }
        let standbys = standbysStart..<lines.count
        let rto = state.topology.objectives.rtoSeconds
        func describe(_ record: FailoverRecordSummary) -> (String, Style) {
            let measured =
                "RTO \(FailoverFormat.measuredRTO(record.measuredRTOSeconds))"
                + (record.measuredRTOSeconds == nil ? "" : " of \(Format.duration(rto))")
            let within = record.measuredRTOSeconds.map { $0 <= rto } ?? false
            return (
                "\(record.kind) \(record.from) → \(record.to) \(record.state), \(record.at.utcDate) \(record.at.utcTimeOfDay) UTC, \(measured)",
                record.state == "completed" && within ? theme[.text] : theme[.warning]
            )
        }
        if let last = history.lastFailover {
            let (text, style) = describe(last)
            lines.append(context.fact("Last", text, width: 9, valueStyle: style))
        }
        if let unfinished = history.lastUnfinished {
            let (text, _) = describe(unfinished)
            lines.append(context.fact("Latest", text, width: 9, valueStyle: theme[.warning]))
        }
        if let drill = history.lastDrill {
            let (text, style) = describe(drill)
            lines.append(context.fact("Drill", text, width: 9, valueStyle: style))
        }
        if history.lastFailover == nil, history.lastDrill == nil {
            lines.append(context.fact("Last", "no failover or drill recorded", width: 9, valueStyle: theme[.muted]))
        }
        let fitted = Self.fit(
            lines, droppable: standbys, folding: interruptedLines, into: interruptedSummary, in: inner, context: context
        )
        Paragraph(fitted).render(in: inner, into: &frame)
    }

    /// The failover panel's lines for `area`: wrapped when they fit; else one row each, cut
    /// with …; else without the standbys (the replication panel lists them), so the state, the
    /// primary and the last attempt are never pushed out.
    /// (The standbys come after the interrupted lines, so dropping them first keeps `folding`
    /// valid.)
    static func fit(
        _ lines: [Line], droppable: Range<Int>, folding: Range<Int>, into summary: Line?, in area: Rect,
        context: ScreenContext
    ) -> [Line] {
        let wrapped = context.wrap(lines, width: area.width, indent: 9)
        if wrapped.count <= area.height { return wrapped }
        var kept = lines
        if kept.count > area.height {
            let excess = min(droppable.count, kept.count - area.height)
            kept.removeSubrange(droppable.upperBound - excess..<droppable.upperBound)
        }
        if kept.count > area.height, folding.count > 1, let summary {
            kept.replaceSubrange(folding, with: [summary])
        }
        return kept.map { $0.truncated(to: area.width) }
    }

    // MARK: Events

    private func renderEvents(in area: Rect, into frame: inout Frame) {
        let focused = context.view.focusedPane == .events
        let block = context.block(
            "Recent events", note: Line("\(context.state.recentNotices.count) kept", style: context.theme[.muted]),
            focused: focused)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        Paragraph(
            EventLines.lines(context, limit: inner.height + context.view.eventsScroll),
            scroll: context.view.eventsScroll
        )
        .render(in: inner, into: &frame)
    }
}

/// Recent notices as lines, newest first.
enum EventLines {
    static func lines(_ context: ScreenContext, limit: Int, region: String? = nil) -> [Line] {
        let theme = context.theme
        var lines: [Line] = []
        for notice in context.state.recentNotices.elements.reversed() {
            if let region, notice.region != region { continue }
            if lines.count >= limit { break }
            var line = Line(notice.at.utcTimeOfDay + " ", style: theme[.muted])
            line.append(RegionText.severityGlyph(notice.severity) + " ", style: theme.style(for: notice.severity))
            line.append(
                notice.message, style: notice.severity == .info ? theme[.text] : theme.style(for: notice.severity))
            lines.append(line)
        }
        if lines.isEmpty { lines.append(Line("no events yet", style: theme[.muted])) }
        return lines
    }
}

/// Orders dotted version strings numerically (`2.14.10` is newer than `2.14.9`).
enum VersionOrder {
    static func isOlder(_ lhs: String, than rhs: String) -> Bool {
        let left = lhs.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let right = rhs.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        for (a, b) in zip(left, right) where a != b { return a < b }
        return left.count != right.count ? left.count < right.count : lhs < rhs
    }
}
