/// The disaster-recovery pattern of a topology (DESIGN.md section 1).
public enum DisasterRecoveryPattern: String, Sendable, CaseIterable, Codable {
    case activePassive = "active-passive"
    case activeActive = "active-active"
    case routing
}

/// The role a region's data tier plays.
public enum RegionRole: String, Sendable, CaseIterable, Codable {
    /// Accepts writes.
    case primary
    /// Replays a primary's log (in recovery).
    case standby
    /// Serves traffic in an active/active topology (no database role observed).
    case active
    /// Not in recovery, but refusing writes: a former primary that was fenced.
    case fenced
    /// Its database cannot be reached (or its data is stale); the last known role is kept
    /// beside it.
    case unknown
}

/// Recovery objectives: how much data (RPO) and how much time (RTO) a failover may cost.
public struct RecoveryObjectives: Equatable, Sendable {
    /// Recovery point objective in seconds: the most data, measured in time, that may be lost.
    public var rpoSeconds: Double
    /// Recovery time objective in seconds: the longest a failover may take.
    public var rtoSeconds: Double

    public init(rpoSeconds: Double, rtoSeconds: Double) {
        self.rpoSeconds = rpoSeconds
        self.rtoSeconds = rtoSeconds
    }
}

/// Thresholds from which a region's health is derived. Every field has a default.
public struct HealthThresholds: Equatable, Sendable {
    /// Error rate (fraction) at or above which a region is degraded.
    public var errorRateDegraded: Double = 0.01
    /// Error rate (fraction) at or above which a region is down.
    public var errorRateDown: Double = 0.5
    /// p99 latency (ms) at or above which a region is degraded.
    public var p99DegradedMilliseconds: Double = 500
    /// Consecutive probe failures at which a region is degraded.
    public var probeFailuresDegraded: Int = 1
    /// Consecutive probe failures at which a region is down.
    public var probeFailuresDown: Int = 3
    /// Data older than this many collection intervals is stale.
    public var staleAfterIntervals: Double = 3
    /// A backup older than this (seconds) degrades the region; `nil` disables the check.
    public var backupMaxAgeSeconds: Double? = 2 * 3600
    /// Log records of level ERROR or above per second at or above which a region is degraded,
    /// and down; `nil` leaves log errors out of health.
    public var logErrorsPerSecondDegraded: Double?
    public var logErrorsPerSecondDown: Double?
    /// A cross-region hop whose p99 reaches this (ms) is shown as slow.
    public var hopSlowMilliseconds: Double = 250
    /// How long a threshold must be crossed before health (and a link's state) gets worse,
    /// and how long it must be back within before it gets better (`health.sustain`,
    /// `health.recover`).
    public var hysteresis = HysteresisTiming()

    public init() {}
}

/// One region as configured.
public struct RegionConfiguration: Equatable, Sendable {
    public var name: String
    public var provider: String
    public var role: RegionRole
    /// Configured share of traffic, 0...100.
    public var trafficPercent: Double

    public init(name: String, provider: String, role: RegionRole, trafficPercent: Double) {
        self.name = name
        self.provider = provider
        self.role = role
        self.trafficPercent = trafficPercent
    }
}

/// The whole watched system: regions, their objectives and the thresholds that judge them.
public struct Topology: Equatable, Sendable {
    public var name: String
    public var pattern: DisasterRecoveryPattern
    public var objectives: RecoveryObjectives
    public var regions: [RegionConfiguration]
    public var thresholds: HealthThresholds

    public init(
        name: String,
        pattern: DisasterRecoveryPattern,
        objectives: RecoveryObjectives,
        regions: [RegionConfiguration],
        thresholds: HealthThresholds = HealthThresholds()
    ) {
        self.name = name
        self.pattern = pattern
        self.objectives = objectives
        self.regions = regions
        self.thresholds = thresholds
    }

    /// The region configured as primary, if any.
    public var primaryRegion: RegionConfiguration? { regions.first { $0.role == .primary } }

    /// The built-in demo topology ("checkout", DESIGN.md and the README).
    public static let demo = Topology(
        name: "checkout",
        pattern: .activeActive,
        objectives: RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300),
        regions: [
            RegionConfiguration(name: "us-east-1", provider: "aws", role: .primary, trafficPercent: 70),
            RegionConfiguration(name: "eu-west-1", provider: "aws", role: .standby, trafficPercent: 30),
            RegionConfiguration(name: "ap-southeast-1", provider: "gcp", role: .standby, trafficPercent: 0),
        ]
    )
}
