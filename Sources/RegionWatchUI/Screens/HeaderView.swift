import RegionWatchCore
import RegionWatchTerminal

/// The header: topology, pattern, objectives, clock, ingest rate, dropped events, mode badges;
/// and (when there is room) a second line summarising health and roles.
struct HeaderView {
    let context: ScreenContext

    private struct Segment {
        var line: Line
        var priority: Int
    }

    func render(in area: Rect, into frame: inout Frame) {
        guard !area.isEmpty else { return }
        let theme = context.theme
        let state = context.state
        frame.fill(area.row(0), style: theme[.header])
        let objectives = state.topology.objectives
        let left: [Segment] = [
            Segment(line: Line(" regionwatch ", style: theme[.headerAccent]), priority: 60),
            Segment(line: Line(" \(state.topology.name) ", style: theme[.headerAccent]), priority: 100),
            Segment(line: Line(" \(state.topology.pattern.rawValue) ", style: theme[.header]), priority: 50),
            Segment(
                line: Line(
                    " RPO \(Format.duration(objectives.rpoSeconds)) · RTO \(Format.duration(objectives.rtoSeconds)) ",
                    style: theme[.header]), priority: 70),
        ]
        var right: [Segment] = []
        if context.view.isPaused {
            right.append(Segment(line: Line(" PAUSED ", style: theme[.badge]), priority: 110))
        }
        if context.view.isDemo {
            right.append(Segment(line: Line(" DEMO ", style: theme[.badge]), priority: 90))
        }
        if state.failover.isReadOnly {
            right.append(Segment(line: Line(" READ-ONLY ", style: theme[.badge]), priority: 105))
        }
        if state.primary.splitBrain != nil {
            right.append(
                Segment(
                    line: Line(" SPLIT BRAIN ", style: theme.style(for: .down).adding(.bold).adding(.reverse)),
                    priority: 130))
        }
        if !state.failover.history.interrupted.isEmpty {
            right.append(
                Segment(
                    line: Line(
                        " INTERRUPTED FAILOVER: press a ", style: theme.style(for: .down).adding(.bold).adding(.reverse)
                    ), priority: 120))
        }
        let dropped = state.bus.droppedEvents
        right.append(
            Segment(
                line: Line(" \(Format.rate(state.ingest.eventsPerSecond)) ev/s ", style: theme[.header]), priority: 40))
        if state.traces.spanCount > 0 {
            right.append(
                Segment(
                    line: Line(" \(Format.rate(state.spanIngest.eventsPerSecond)) spans/s ", style: theme[.header]),
                    priority: 35))
        }
        right.append(
            Segment(
                line: Line(" dropped \(dropped) ", style: dropped > 0 ? theme[.badge] : theme[.header]),
                priority: dropped > 0 ? 95 : 30))
        right.append(Segment(line: Line(" \(state.now.utcTimeOfDay) UTC ", style: theme[.headerAccent]), priority: 80))

        let chosen = choose(left + right, width: area.width)
        var x = area.x
        for (index, segment) in left.enumerated() where chosen.contains(index) {
            x = frame.write(segment.line, x: x, y: area.y, clip: area.row(0))
        }
        let rightLines = right.enumerated().filter { chosen.contains(left.count + $0.offset) }.map(\.element.line)
        let rightWidth = rightLines.reduce(0) { $0 + $1.width }
        var rightX = area.maxX - rightWidth
        for line in rightLines {
            rightX = frame.write(line, x: rightX, y: area.y, clip: area.row(0))
        }
        if area.height >= 2 {
            frame.write(summaryLine(width: area.width), x: area.x, y: area.y + 1, clip: area.row(1))
        }
    }

    /// Indices of the segments that fit, highest priority first.
    private func choose(_ segments: [Segment], width: Int) -> Set<Int> {
        PriorityFit.choose(widths: segments.map(\.line.width), priorities: segments.map(\.priority), available: width)
    }

    /// `3 regions  ● 2 ok  ▲ 1 degraded  ✖ 0 down  ◌ 0 stale │ primary us-east-1 │ failover: …`,
    /// cutting the least important parts when `width` is short.
    func summaryLine(width: Int) -> Line {
        let theme = context.theme
        let state = context.state
        var counts = Line(" \(state.regions.count) regions ", style: theme[.muted])
        var healthCounts: [Health: Int] = [:]
        for index in state.regions.indices { healthCounts[state.regions[index].health, default: 0] += 1 }
        for health in Health.allCases {
            let count = healthCounts[health] ?? 0
            let style = count == 0 ? theme[.muted] : theme.style(for: health)
            counts.append(" \(RegionText.glyph(health)) \(count) \(health.rawValue) ", style: style)
        }
        var primary = Line(" │ ", style: theme[.border])
        let isSplitBrain = state.primary.splitBrain != nil
        if let split = state.primary.splitBrain {
            primary.append(
                " \(split.message.uppercased()) ", style: theme.style(for: .down).adding(.bold).adding(.reverse))
        } else {
            primary.append("primary ", style: theme[.muted])
            if let current = state.primary.current {
                primary.append(current, style: theme[.text])
            } else {
                primary.append("none\(state.primary.lastKnown.map { " (was \($0))" } ?? "")", style: theme[.down])
            }
            for server in state.failover.notFenced {
                primary.append(" · \(server.region) NOT FENCED", style: theme.style(for: .down).adding(.bold))
            }
            let fenced = state.regions.indices.filter { state.regions[$0].role == .fenced }.map {
                state.regions[$0].name
            }
            if !fenced.isEmpty { primary.append(" · fenced \(fenced.joined(separator: ", "))", style: theme[.warning]) }
            let unknown = state.regions.indices.filter { state.regions[$0].role == .unknown }.count
            if unknown > 0 {
                primary.append(" · \(unknown) role\(unknown == 1 ? "" : "s") unknown", style: theme[.warning])
            }
        }
        var failover = Line(" │ ", style: theme[.border])
        failover.append("failover: ", style: theme[.muted])
        failover.append(
            state.failover.headerSummary,
            style: state.failover.machine.state == .steady ? theme[.text] : theme[.warning])
        var unknown = Line()
        if state.unknownRegionCount > 0 {
            unknown = Line(" │ ", style: theme[.border])
            let names = OverviewScreen.unknownRows(state)
            let more = state.unknownRegionCount > names.count ? " +\(state.unknownRegionCount - names.count)" : ""
            unknown.append("not in config: \(names.joined(separator: ", "))\(more)", style: theme[.warning])
        }
        // Shown in this order, given room in another: the failover state always (cut with …
        // only when nothing else fits), then the primary and the unlisted regions at least in
        // part, then the health counts; what is left widens the primary and the unlisted names.
        let parts = [counts, primary, failover, unknown]
        let minimums = [
            0, isSplitBrain ? primary.width : min(primary.width, 24), failover.width, min(unknown.width, 30),
        ]
        var widths = [0, 0, 0, 0]
        var left = width
        for index in [2, 1, 3, 0] {
            widths[index] = min(index == 0 ? parts[0].width : minimums[index], left)
            left -= widths[index]
        }
        for index in [1, 3] where left > 0 {
            let growth = min(left, parts[index].width - widths[index])
            widths[index] += growth
            left -= growth
        }
        return Line(parts.indices.flatMap { parts[$0].truncated(to: widths[$0]).spans })
    }
}

/// The footer: the line being typed, or a message followed by the key hints that fit.
struct FooterView {
    let context: ScreenContext

    /// A hint's text as it reads now: pause or resume, back or clear the applied filter.
    static func label(_ hint: KeyHint, of binding: KeyBinding, view: ViewState, state: DashboardState) -> String {
        switch binding.action {
        case .cancel where { if case .executing = state.failover.machine.state { true } else { false } }(): "abort"
        case .togglePause: view.isPaused ? "resume" : hint.text
        case .back where view.screen == .traces && !view.traceList.filterText.isEmpty: "clear filter"
        default: hint.text
        }
    }

    func render(in area: Rect, into frame: inout Frame) {
        guard !area.isEmpty else { return }
        let theme = context.theme
        let view = context.view
        if let input = view.commandLine ?? view.filterInput {
            let isFilter = view.commandLine == nil
            var line = Line(isFilter ? "/" : ":", style: theme[.key])
            line.append(input.text, style: theme[.commandLine])
            line.append("█", style: theme[.commandLine])
            // The line's keys from the key map (the filter has no completion or history).
            let keys = KeyMap.hints(for: .typedLine, isDemo: false).compactMap { binding, hint -> String? in
                guard isFilter else { return "\(hint.key) \(hint.text)" }
                switch binding.action {
                case .confirm: return "\(hint.key) apply"
                case .cancel: return "\(hint.key) \(hint.text)"
                default: return nil
                }
            }
            let syntax = isFilter ? "words region= service= error >500ms <2s · " : ""
            line.append("   " + syntax + keys.joined(separator: " · "), style: theme[.muted])
            frame.write(line, x: area.x, y: area.y, clip: area)
            return
        }
        var line = Line()
        if let message = view.message {
            line.append(" " + message.text + "  ", style: message.isError ? theme[.error] : theme[.info])
        }
        // Hints from the key map; a message goes first and the hints that still fit follow.
        // While a dialog or help is open, its keys: the screen's would be typed or ignored.
        let active = view.activeKeyContext(in: context.state)
        let contexts: [KeyContext] = active == .refusal ? [.refusal, .finishedAttempt] : [active]
        let machine = context.state.failover.machine.state
        let typing = machine == .awaitingConfirmation || active != .failoverDialog
        for (binding, hint) in contexts.flatMap({ KeyMap.hints(for: $0, isDemo: view.isDemo) })
        where (typing || binding.action == .cancel)
            && (context.state.unresolvedFailover != nil
                || !KeyMap.needsUnresolvedAttempt(binding.action))
        {
            let text = Self.label(hint, of: binding, view: view, state: context.state)
            let addition = CharacterWidth.of(hint.key) + CharacterWidth.of(text) + 3
            if line.width + addition > area.width { break }
            line.append(" " + hint.key, style: theme[.key])
            line.append(" " + text + " ", style: theme[.muted])
        }
        frame.write(line, x: area.x, y: area.y, clip: area)
    }
}
