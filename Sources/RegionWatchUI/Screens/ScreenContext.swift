import RegionWatchCore
import RegionWatchTerminal

/// What every screen renders from: domain state, view state and theme.
struct ScreenContext {
    let state: DashboardState
    let view: ViewState
    let theme: Theme

    var now: Timestamp { state.now }
    var rpo: Double { state.topology.objectives.rpoSeconds }

    /// A bordered block, with the focus style when `focused`.
    func block(_ title: String, note: Line? = nil, focused: Bool = false) -> Block {
        Block(
            title: Line(title, style: theme[.title]),
            note: note,
            borders: focused ? .heavy : .rounded,
            borderStyle: focused ? theme[.focusBorder] : theme[.border]
        )
    }

    /// `label value` pair line for fact lists.
    func fact(_ label: String, _ value: String, width: Int = 11, valueStyle: Style? = nil) -> Line {
        Line([
            Span(TextFit.fit(TextFit.truncate(label, to: width - 1), to: width), style: theme[.muted]),
            Span(value, style: valueStyle ?? theme[.text]),
        ])
    }

    /// `lines` wrapped to `width`, continuation lines indented by `indent`.
    func wrap(_ lines: [Line], width: Int, indent: Int = 11) -> [Line] {
        lines.flatMap { $0.wrapped(to: width, indent: indent) }
    }
}

/// Formatting of region facts, shared by every screen and the compact view.
enum RegionText {
    static func glyph(_ health: Health) -> String {
        switch health {
        case .ok: "●"
        case .degraded: "▲"
        case .down: "✖"
        case .stale: "◌"
        }
    }

    static func severityGlyph(_ severity: NoticeSeverity) -> String {
        switch severity {
        case .info: "·"
        case .warning: "▲"
        case .critical: "✖"
        }
    }

    static func unknown() -> String { Format.unknown }

    /// The error rate, never shown as reaching the degraded rule when below it.
    static func errorRate(_ region: RegionState, thresholds: HealthThresholds) -> String {
        guard let rate = region.errorRate.latest else { return unknown() }
        return Format.keepingBelow(
            rate < thresholds.errorRateDegraded ? thresholds.errorRateDegraded : thresholds.errorRateDown, rate,
            Format.percent)
    }

    /// The p99 latency, never shown as reaching the degraded rule when below it.
    static func p99(_ region: RegionState, thresholds: HealthThresholds) -> String {
        guard let p99 = region.p99Milliseconds.latest else { return unknown() }
        return Format.keepingBelow(thresholds.p99DegradedMilliseconds, p99, Format.milliseconds)
    }

    static func requests(_ region: RegionState) -> String {
        region.requestsPerSecond.latest.map(Format.rate) ?? unknown()
    }

    static func traffic(_ region: RegionState) -> String {
        region.trafficShare.latest.map { Format.fixed($0 * 100, decimals: 0) + "%" } ?? unknown()
    }

    static func availability(_ region: RegionState) -> String {
        availability(region.probe)
    }

    static func availability(_ probe: ProbeState) -> String {
        guard let availability = probe.availability else { return unknown() }
        return availability >= 1 ? "100%" : Format.fixed(availability * 100, decimals: 2) + "%"
    }

    /// A lag for a table cell: `3.2s`, `≥3.2s`, `≤15s`, `0s+?` (primary not observed).
    static func lag(_ reading: ReplicationReading?) -> String {
        reading?.compactText ?? unknown()
    }

    /// A lag with its full interval, for detail lines: `3.2s–15s`.
    static func lagInFull(_ reading: ReplicationReading?) -> String {
        guard let reading else { return unknown() }
        let time = reading.time?.text ?? unknown()
        return reading.unknownAfter == nil ? time : "\(time) known, later writes unknown"
    }

    /// The lag as a share of the RPO, bounded like the lag: `42%`, `≥42%`, `≤90%`.
    static func rpoShare(_ reading: ReplicationReading?, rpo: Double) -> String {
        guard let time = reading?.time, rpo > 0 else { return "" }
        func share(_ seconds: Double) -> String { Format.fixed(seconds / rpo * 100, decimals: 0) + "%" }
        switch time.bound {
        case .exact: return share(time.seconds)
        case .lower: return "≥" + share(time.atLeast)
        case .upper, .range: return "≤" + share(time.atMost ?? time.atLeast)
        }
    }

    /// The role to show in a narrow column: `primary`, `fenced`, `primary?` when its server
    /// cannot be observed and it was last known as primary.
    static func role(_ region: RegionState) -> String {
        guard region.role == .unknown else { return region.role.rawValue }
        return region.lastKnownRole.map { "\($0.rawValue)?" } ?? "unknown"
    }

    static func age(_ region: RegionState, now: Timestamp) -> String {
        region.dataAge(at: now).map(Format.age) ?? "never"
    }
}

extension Theme {
    /// The style of a lag reading against the RPO.
    func lagStyle(_ reading: ReplicationReading?, rpo: Double) -> Style {
        guard let time = reading?.time else { return reading?.unknownAfter == nil ? self[.muted] : self[.degraded] }
        if time.certainlyExceeds(rpo) { return self[.down] }
        if !time.certainlyWithin(rpo * 0.5) || reading?.unknownAfter != nil { return self[.degraded] }
        return self[.text]
    }

    /// The style of a role: fenced and unknown stand out.
    func style(for role: RegionRole, isStale: Bool = false) -> Style {
        if isStale { return self[.stale] }
        switch role {
        case .primary: return self[.title]
        case .fenced, .unknown: return self[.warning].adding(.bold)
        case .standby, .active: return self[.text]
        }
    }

    /// The style of a replication link state.
    func style(for replication: ReplicationState) -> Style {
        switch replication {
        case .streaming: self[.ok]
        case .catchingUp, .paused: self[.degraded]
        case .broken: self[.down]
        case .unknown, .stale: self[.stale]
        }
    }
}
