/// Everything known about one region. Changed only by `DashboardState.apply(_:)`.
public struct RegionState: Equatable, Sendable {
    public let configuration: RegionConfiguration
    /// Current role: configured, then as observed by collectors.
    public internal(set) var role: RegionRole
    public internal(set) var requestsPerSecond = Signal()
    public internal(set) var errorRate = Signal()
    public internal(set) var p50Milliseconds = Signal()
    public internal(set) var p99Milliseconds = Signal()
    public internal(set) var trafficShare = Signal()
    /// Probe results by source (an HTTP probe and a database check each count their own
    /// failures), in first-seen order.
    public internal(set) var probes: [ProbeState] = []
    public internal(set) var backup: BackupSample?
    public internal(set) var versions: [String: String] = [:]
    public internal(set) var versionsObservedAt: Timestamp?
    /// Newest observation of any kind about this region.
    public internal(set) var newestObservation: Timestamp?
    /// Collectors that have reported about this region.
    public internal(set) var sources: Set<String> = []
    public internal(set) var assessment: HealthAssessment = .awaitingData

    public init(configuration: RegionConfiguration) {
        self.configuration = configuration
        role = configuration.role
    }

    public var name: String { configuration.name }

    /// The probe that matters most: the one failing longest, else the most recent.
    public var probe: ProbeState {
        probes.max { lhs, rhs in
            (lhs.consecutiveFailures, lhs.lastResult?.observedAt.secondsSinceEpoch ?? 0) < (rhs.consecutiveFailures, rhs.lastResult?.observedAt.secondsSinceEpoch ?? 0)
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

/// One replication link `from` → `to`, combined from every source that observes it (for
/// example the primary's `pg_stat_replication` and the standby's own WAL receiver).
public struct ReplicationLinkState: Equatable, Sendable {
    public let from: String
    public let to: String
    /// Combined lag history: the worst fresh view at each observation.
    public internal(set) var lagSeconds = Signal()
    public internal(set) var lagBytes = Signal()
    /// The most severe state among fresh views.
    public internal(set) var state: ReplicationState = .unknown
    public internal(set) var observedAt: Timestamp?
    /// The source whose view decided the combined figures.
    public internal(set) var source: String?
    /// The latest observation from each source, in first-seen order.
    public internal(set) var views: [ReplicationSample] = []
    /// The last time the link was seen working, and its lag then: a broken link's lag is at
    /// least that lag plus the time since.
    public internal(set) var lastWorkingAt: Timestamp?
    public internal(set) var lastWorkingLagSeconds: Double?

    /// Sources kept per link (a link has two ends and perhaps a metrics source).
    static let viewLimit = 8

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// The lag to show at `now`. When the link is broken or its data is stale, the last known
    /// lag is only a lower bound that grows with time, never a frozen old value.
    public func effectiveLag(at now: Timestamp, staleAfter: Double) -> ReplicationLag? {
        guard let observedAt else { return nil }
        let age = max(0, now.seconds(since: observedAt))
        if state == .broken {
            // At least the lag when it was last seen working plus the time since, and at least
            // any lag the broken view itself reported plus the time since that.
            var bound = age
            if let since = lastWorkingAt {
                bound = max(bound, (lastWorkingLagSeconds ?? 0) + max(0, now.seconds(since: since)))
            }
            if let reported = lagSeconds.latest {
                bound = max(bound, reported + age)
            }
            return ReplicationLag(seconds: bound, bytes: lagBytes.latest, isLowerBound: true)
        }
        guard age > staleAfter else {
            return lagSeconds.latest.map { ReplicationLag(seconds: $0, bytes: lagBytes.latest, isLowerBound: false) }
        }
        let known = lagSeconds.latest ?? 0
        return ReplicationLag(seconds: known + age, bytes: lagBytes.latest, isLowerBound: true)
    }

    /// Records `sample` as its source's view and recombines the fresh views.
    mutating func record(_ sample: ReplicationSample, now: Timestamp, staleAfter: (String) -> Double) {
        if let index = views.firstIndex(where: { $0.source == sample.source }) {
            guard sample.observedAt >= views[index].observedAt else { return }
            views[index] = sample
        } else {
            if views.count >= Self.viewLimit, let oldest = views.indices.min(by: { views[$0].observedAt < views[$1].observedAt }) {
                views.remove(at: oldest)
            }
            views.append(sample)
        }
        let reference = max(now, sample.observedAt)
        let fresh = views.filter { reference.seconds(since: $0.observedAt) <= staleAfter($0.source) }
        let considered = fresh.isEmpty ? [sample] : fresh
        let worst = considered.max { lhs, rhs in
            (lhs.state.severity, lhs.lagSeconds ?? -1, lhs.lagBytes ?? -1) < (rhs.state.severity, rhs.lagSeconds ?? -1, rhs.lagBytes ?? -1)
        } ?? sample
        let combinedSeconds = considered.compactMap(\.lagSeconds).max()
        let combinedBytes = considered.compactMap(\.lagBytes).max()
        state = worst.state
        source = worst.source
        observedAt = max(observedAt ?? sample.observedAt, sample.observedAt)
        lagSeconds.record(combinedSeconds, at: sample.observedAt, source: worst.source)
        lagBytes.record(combinedBytes, at: sample.observedAt, source: worst.source)
        if state != .broken, state != .unknown || combinedSeconds != nil {
            lastWorkingAt = sample.observedAt
            lastWorkingLagSeconds = combinedSeconds
        }
    }
}

extension ReplicationState {
    /// How bad a state is when views disagree: unknown < streaming < catching-up < paused < broken.
    var severity: Int {
        switch self {
        case .unknown: 0
        case .streaming: 1
        case .catchingUp: 2
        case .paused: 3
        case .broken: 4
        }
    }
}

/// A replication lag reading, possibly only a lower bound.
public struct ReplicationLag: Equatable, Sendable {
    public var seconds: Double
    public var bytes: Double?
    /// `true` when the real lag is at least `seconds` (link broken or data stale).
    public var isLowerBound: Bool

    public init(seconds: Double, bytes: Double?, isLowerBound: Bool) {
        self.seconds = seconds
        self.bytes = bytes
        self.isLowerBound = isLowerBound
    }
}

/// What the dashboard knows about one collector.
public struct CollectorState: Equatable, Sendable {
    public let name: String
    public internal(set) var kind: String
    public internal(set) var intervalSeconds: Double
    public internal(set) var regions: [String]
    public internal(set) var lastSuccessAt: Timestamp?
    public internal(set) var lastErrorAt: Timestamp?
    public internal(set) var lastError: String?
    public internal(set) var consecutiveFailures = 0

    init(report: CollectorReport) {
        name = report.collector
        kind = report.kind
        intervalSeconds = report.intervalSeconds
        regions = report.regions
    }

    /// Seconds since the last successful round, or `nil` before any.
    public func age(at now: Timestamp) -> Double? {
        lastSuccessAt.map { max(0, now.seconds(since: $0)) }
    }

    mutating func record(_ report: CollectorReport) {
        kind = report.kind
        intervalSeconds = report.intervalSeconds
        regions = report.regions
        if let error = report.error {
            lastError = error
            lastErrorAt = report.observedAt
            consecutiveFailures += 1
        } else {
            lastSuccessAt = report.observedAt
            consecutiveFailures = 0
        }
    }
}
