/// Everything known about one region. Changed only by `DashboardState.apply(_:)`.
public struct RegionState: Equatable, Sendable {
    public let configuration: RegionConfiguration
    /// Current role: what its database server says (primary, fenced, standby, or unknown when
    /// it cannot be reached), else what the configuration says.
    public internal(set) var role: RegionRole
    /// While the role is unknown: the role it had when last known.
    public internal(set) var lastKnownRole: RegionRole?
    /// The region's database server, when a database collector watches it.
    public internal(set) var server: ServerState?
    public internal(set) var requestsPerSecond = Signal()
    public internal(set) var errorRate = Signal()
    public internal(set) var p50Milliseconds = Signal()
    public internal(set) var p99Milliseconds = Signal()
    public internal(set) var trafficShare = Signal()
    /// Log records of level ERROR or above per second (over the log window), once the region
    /// has sent logs.
    public internal(set) var logErrorsPerSecond = Signal()
    /// Log records per second over the same window.
    public internal(set) var logRecordsPerSecond: Double?
    /// Probe results by source (an HTTP probe and a database check each count their own
    /// failures), in first-seen order.
    public internal(set) var probes: [ProbeState] = []
    public internal(set) var backup: BackupSample?
    /// Service versions by service name; services come from spans and collectors, so the map
    /// keeps the `serviceCapacity` most recently reported and counts the ones it forgets.
    public internal(set) var versions = RecencyBoundedMap<String, String>(capacity: RegionState.serviceCapacity)
    public internal(set) var versionsObservedAt: Timestamp?
    /// Newest observation of any kind about this region.
    public internal(set) var newestObservation: Timestamp?
    /// Collectors that have reported about this region.
    public internal(set) var sources: Set<String> = []
    /// The published health: changes only after a threshold has held (see `HysteresisTiming`).
    public internal(set) var assessment: HealthAssessment = .awaitingData
    /// The health the signals give right now, before hysteresis.
    public internal(set) var rawAssessment: HealthAssessment = .awaitingData
    var healthLevels = Hysteresis(levels: 3)
    /// WAL archiving as judged at the last assessment (primaries with archiving only).
    public internal(set) var archive: ArchiveStatus?
    /// When the region's own replication was judged to follow a server that is no longer the
    /// primary, why (shown and counted in health).
    public internal(set) var followingFormerPrimary: String?

    /// Most services whose versions a region keeps.
    public static let serviceCapacity = 256

    public init(configuration: RegionConfiguration) {
        self.configuration = configuration
        role = configuration.role
    }

    /// Replaces the versions with a collector's complete list (in service order, so which
    /// services a full map keeps does not depend on hashing).
    mutating func replaceVersions(with reported: [String: String]) {
        versions.replaceAll(with: reported.sorted { $0.key < $1.key })
    }

    /// Records versions seen (for example in span resources), keeping the others.
    mutating func recordVersions(_ seen: [String: String]) {
        for (service, version) in seen.sorted(by: { $0.key < $1.key }) { versions.set(service, to: version) }
    }

    public var name: String { configuration.name }

    /// The probe that matters most: the one failing longest, else the most recent.
    public var probe: ProbeState {
        probes.max { lhs, rhs in
            (lhs.consecutiveFailures, lhs.lastResult?.observedAt.secondsSinceEpoch ?? 0) < (
                rhs.consecutiveFailures, rhs.lastResult?.observedAt.secondsSinceEpoch ?? 0
            )
        } ?? ProbeState()
    }

    mutating func recordProbe(_ result: ProbeResult) {
        if let index = probes.firstIndex(where: { $0.lastResult?.source == result.source }) {
            probes[index].record(result)
        } else {
            var probe = ProbeState()
            probe.record(result)
            probes.append(probe)
        }
    }
    public var health: Health { assessment.health }

    /// Published health changes in the last `window` seconds (a region that still flaps).
    public func healthChanges(within window: Double = RegionState.flapWindowSeconds, at now: Timestamp) -> Int {
        healthLevels.changeCount(within: window, at: now)
    }

    /// The window the flap count covers.
    public static let flapWindowSeconds = 600.0
    /// Changes within the window from which a region is shown as flapping.
    public static let flapThreshold = 4

    /// The server's timeline, when a database collector reports one.
    public var timeline: Int? { server?.facts?.timeline }

    /// The role to show: `primary`, or `unknown (was primary)`.
    public var roleDescription: String {
        guard role == .unknown, let lastKnownRole, lastKnownRole != .unknown else { return role.rawValue }
        return "unknown (was \(lastKnownRole.rawValue))"
    }

    /// Seconds since the newest observation about this region, or `nil` before any.
    public func dataAge(at now: Timestamp) -> Double? {
        newestObservation.map { max(0, now.seconds(since: $0)) }
    }

    /// The version shown in the overview: the `api` service's, else the most common one.
    public var primaryVersion: String? {
        if let api = versions["api"] { return api }
        var counts: [String: Int] = [:]
        for version in versions.values { counts[version, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    mutating func noteObservation(at timestamp: Timestamp, source: String) {
        if newestObservation.map({ timestamp > $0 }) ?? true { newestObservation = timestamp }
        sources.insert(source)
    }
}

/// Health-probe results of a region.
public struct ProbeState: Equatable, Sendable {
    public internal(set) var lastResult: ProbeResult?
    public internal(set) var consecutiveFailures = 0
    public internal(set) var latencyMilliseconds = Signal()
    /// Outcomes of the most recent probes (`true` = success), for a rolling availability.
    public internal(set) var recentOutcomes = RingBuffer<Bool>(capacity: ProbeState.availabilityWindow)
    private var recentSuccesses = 0

    /// Probes the availability figure covers.
    public static let availabilityWindow = 300

    public init() {}

    /// Fraction of successful probes among the last `availabilityWindow`, or `nil` before any.
    public var availability: Double? {
        recentOutcomes.isEmpty ? nil : Double(recentSuccesses) / Double(recentOutcomes.count)
    }

    mutating func record(_ result: ProbeResult) {
        if let last = lastResult, result.observedAt < last.observedAt { return }
        lastResult = result
        consecutiveFailures = result.isSuccess ? 0 : consecutiveFailures + 1
        if result.isSuccess { recentSuccesses += 1 }
        if let evicted = recentOutcomes.append(result.isSuccess), evicted { recentSuccesses -= 1 }
        latencyMilliseconds.record(result.latencyMilliseconds, at: result.observedAt, source: result.source)
    }
}
