import RegionWatchCore

/// `status --check`: a verdict like a monitoring plugin's (Nagios, Icinga): one summary line and
/// an exit status, 0 all OK, 1 something degraded, 2 something down or split brain, 3 something
/// unknown or stale (when nothing is down).
public struct StatusCheck: Equatable, Sendable {
    /// The plugin states, with their exit statuses.
    public enum Verdict: Int32, Sendable {
        case ok = 0
        case warning = 1
        case critical = 2
        case unknown = 3

        public var label: String {
            switch self {
            case .ok: "OK"
            case .warning: "WARNING"
            case .critical: "CRITICAL"
            case .unknown: "UNKNOWN"
            }
        }
    }

    public var verdict: Verdict
    /// `CRITICAL: split brain: us-east-1 and eu-west-1 both accept writes · 2 down, 1 ok of 3 regions`.
    public var summary: String

    public init(state: DashboardState) {
        let counts = Dictionary(grouping: state.regions, by: \.health).mapValues(\.count)
        let down = state.regions.filter { $0.health == .down }
        let stale = state.regions.filter { $0.health == .stale }
        let degraded = state.regions.filter { $0.health == .degraded }
        var problems: [String] = []
        if let split = state.primary.splitBrain {
            verdict = .critical
            problems.append(split.message)
        } else if !down.isEmpty {
            verdict = .critical
        } else if !stale.isEmpty {
            verdict = .unknown
        } else if !degraded.isEmpty {
            verdict = .warning
        } else {
            verdict = .ok
        }
        for region in down + stale + degraded {
            problems.append(
                "\(region.name) \(region.health.label)\(region.assessment.reasons.first.map { ": \($0)" } ?? "")")
        }
        if state.primary.current == nil, state.primary.splitBrain == nil,
            state.regions.contains(where: { $0.server != nil })
        {
            problems.append(
                "no region accepts writes\(state.primary.lastKnown.map { " (last known primary \($0))" } ?? "")")
            verdict = .critical
        }
        let tally = Health.allCases.compactMap { health in counts[health].map { "\($0) \(health.rawValue)" } }.joined(
            separator: ", ")
        let details = problems.isEmpty ? "" : " · " + problems.joined(separator: "; ")
        summary = "\(verdict.label): \(state.topology.name) \(tally) of \(state.regions.count) regions\(details)"
    }
}
