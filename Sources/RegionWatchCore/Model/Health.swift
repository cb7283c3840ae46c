/// A region's health, derived from its signals and the configured thresholds.
public enum Health: String, Sendable, CaseIterable, Codable, Comparable {
    case ok
    case degraded
    case down
    /// What we know is too old to judge: the region may be fine, or not; telemetry is missing.
    case stale

    /// Severity order used to combine findings: ok < degraded < stale < down.
    var severity: Int {
        switch self {
        case .ok: 0
        case .degraded: 1
        case .stale: 2
        case .down: 3
        }
    }

    public static func < (lhs: Health, rhs: Health) -> Bool { lhs.severity < rhs.severity }

    /// Upper-case label for screens.
    public var label: String { rawValue.uppercased() }
}

/// A health verdict with every reason that contributed to it (empty when OK).
public struct HealthAssessment: Equatable, Sendable {
    public var health: Health
    public var reasons: [String]

    public init(health: Health, reasons: [String] = []) {
        self.health = health
        self.reasons = reasons
    }

    /// Before any data has arrived.
    public static let awaitingData = HealthAssessment(health: .stale, reasons: ["no data received yet"])
}
