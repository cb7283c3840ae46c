import RegionWatchCore

/// What one round of queries saw on a PostgreSQL server.
public enum PostgresReading: Equatable, Sendable {
    case primary(PrimaryReading)
    case standby(StandbyReading)
}

/// A primary's view: its WAL position and `pg_stat_replication`.
public struct PrimaryReading: Equatable, Sendable {
    public var timeline: Int?
    /// `pg_current_wal_lsn()` in bytes.
    public var currentLSN: Double
    public var standbys: [StandbyRow]
    /// `default_transaction_read_only` is on: the primary has been fenced.
    public var isFenced: Bool

    public init(timeline: Int?, currentLSN: Double, standbys: [StandbyRow], isFenced: Bool = false) {
        self.timeline = timeline
        self.currentLSN = currentLSN
        self.standbys = standbys
        self.isFenced = isFenced
    }
}

/// One row of `pg_stat_replication`.
public struct StandbyRow: Equatable, Sendable {
    public var applicationName: String?
    public var clientAddress: String?
    /// `startup`, `catchup`, `streaming`, `backup` or `stopping`.
    public var state: String?
    public var writeLagSeconds: Double?
    public var flushLagSeconds: Double?
    /// NULL after about ten seconds without writes.
    public var replayLagSeconds: Double?
    /// `pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)`.
    public var replayBytesBehind: Double?
    /// `replay_lsn` in bytes.
    public var replayLSN: Double?

    public init(applicationName: String?, clientAddress: String?, state: String?, writeLagSeconds: Double? = nil, flushLagSeconds: Double? = nil, replayLagSeconds: Double?, replayBytesBehind: Double?, replayLSN: Double?) {
        self.applicationName = applicationName
        self.clientAddress = clientAddress
        self.state = state
        self.writeLagSeconds = writeLagSeconds
        self.flushLagSeconds = flushLagSeconds
        self.replayLagSeconds = replayLagSeconds
        self.replayBytesBehind = replayBytesBehind
        self.replayLSN = replayLSN
    }
}

/// A standby's own view: receive and replay positions and its WAL receiver.
public struct StandbyReading: Equatable, Sendable {
    public var timeline: Int?
    public var isReplayPaused: Bool
    /// `pg_wal_lsn_diff(receive, replay)`.
    public var receivedNotReplayedBytes: Double?
    /// `now() - pg_last_xact_replay_timestamp()`: grows on an idle primary, so it is lag only
    /// while something received is not yet replayed.
    public var secondsSinceLastReplayedTransaction: Double?
    /// `pg_stat_wal_receiver.status`; `nil` when the receiver has no row (disconnected).
    public var receiverStatus: String?
    public var senderHost: String?
    public var receiveLSN: String?
    public var replayLSN: String?

    public init(timeline: Int?, isReplayPaused: Bool, receivedNotReplayedBytes: Double?, secondsSinceLastReplayedTransaction: Double?, receiverStatus: String?, senderHost: String? = nil, receiveLSN: String? = nil, replayLSN: String? = nil) {
        self.timeline = timeline
        self.isReplayPaused = isReplayPaused
        self.receivedNotReplayedBytes = receivedNotReplayedBytes
        self.secondsSinceLastReplayedTransaction = secondsSinceLastReplayedTransaction
        self.receiverStatus = receiverStatus
        self.senderHost = senderHost
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
    }
}

/// How a PostgreSQL server's readings map onto regions.
public struct PostgresTopologyMapping: Equatable, Sendable {
    /// The region this server is in.
    public var region: String
    /// `application_name` → region of standbys connected to this server.
    public var standbysByApplicationName: [String: String]
    /// `client_addr` → region.
    public var standbysByHost: [String: String]
    /// Regions known in the configuration (an `application_name` equal to one maps to it).
    public var knownRegions: Set<String>
    /// For a standby: the region it replicates from.
    public var upstream: String?

    public init(region: String, standbysByApplicationName: [String: String] = [:], standbysByHost: [String: String] = [:], knownRegions: Set<String> = [], upstream: String? = nil) {
        self.region = region
        self.standbysByApplicationName = standbysByApplicationName
        self.standbysByHost = standbysByHost
        self.knownRegions = knownRegions
        self.upstream = upstream
    }

    /// Regions this server should see as standbys (those named by the mappings).
    public var expectedStandbys: [String] {
        Array(Set(standbysByApplicationName.values).union(standbysByHost.values)).sorted()
    }

    func region(of row: StandbyRow) -> String? {
        if let name = row.applicationName {
            if let region = standbysByApplicationName[name] { return region }
            if knownRegions.contains(name), name != region { return name }
        }
        if let host = row.clientAddress, let region = standbysByHost[host] { return region }
        return nil
    }
}

/// Primary WAL positions over time, to tell how long ago a standby's replay position was the
/// primary's current position: a truthful time lag even when `replay_lag` is NULL (idle) or
/// frozen (replay paused, no new confirmations).
public struct WALPositionHistory: Equatable, Sendable {
    private var points = RingBuffer<Point>(capacity: 1024)

    struct Point: Equatable, Sendable {
        var lsn: Double
        var at: Timestamp
    }

    public init() {}

    public mutating func record(lsn: Double, at time: Timestamp) {
        if let last = points.last, last.lsn == lsn { return }
        _ = points.append(Point(lsn: lsn, at: time))
    }

    /// Seconds since the primary's position first passed `replayed`: the age of the oldest
    /// write the standby has not replayed. `nil` when history does not reach back that far
    /// beyond its oldest point (then the age of that point is a lower bound, returned).
    public func secondsBehind(replayed: Double, now: Timestamp) -> Double? {
        var firstAfter: Point?
        for point in points.reversed() {
            if point.lsn > replayed { firstAfter = point } else { break }
        }
        guard let firstAfter else { return 0 }
        return max(0, now.seconds(since: firstAfter.at))
    }
}

/// Turns readings into dashboard events. Pure: the known traps of PostgreSQL's lag columns are
/// handled here, where tests can reach them.
public enum PostgresReplicationInterpreter {
    /// Events for a successful round.
    public static func events(for reading: PostgresReading, mapping: PostgresTopologyMapping, history: WALPositionHistory, source: String, at now: Timestamp, roundMilliseconds: Double) -> CollectionRound {
        var round = CollectionRound()
        round.events.append(.probe(ProbeResult(region: mapping.region, source: source, observedAt: now, isSuccess: true, latencyMilliseconds: roundMilliseconds, message: describe(reading))))
        switch reading {
        case .primary(let primary):
            round.events.append(.regionSample(RegionSample(region: mapping.region, source: source, observedAt: now, role: .primary)))
            var seen: Set<String> = []
            for row in primary.standbys {
                guard let standby = mapping.region(of: row) else {
                    round.errors.append("standby \(row.applicationName.map { "'\($0)'" } ?? "without application_name") from \(row.clientAddress ?? "a local socket") is not mapped to a region (set standbys: or hosts:)")
                    continue
                }
                seen.insert(standby)
                round.events.append(.replication(sample(for: row, standby: standby, primary: primary, history: history, mapping: mapping, source: source, at: now)))
            }
            for missing in mapping.expectedStandbys where !seen.contains(missing) {
                round.events.append(.replication(ReplicationSample(from: mapping.region, to: missing, source: source, observedAt: now, lagSeconds: nil, lagBytes: nil, state: .broken)))
                round.errors.append("standby \(missing) is not connected (no row in pg_stat_replication)")
            }
        case .standby(let standby):
            round.events.append(.regionSample(RegionSample(region: mapping.region, source: source, observedAt: now, role: .standby)))
            if let upstream = mapping.upstream {
                round.events.append(.replication(sample(for: standby, upstream: upstream, mapping: mapping, source: source, at: now)))
            }
            if standby.receiverStatus == nil {
                round.errors.append("WAL receiver is not running: disconnected from \(mapping.upstream ?? "the primary")")
            }
        }
        return round
    }

    /// What the server said, for the detail screen: role, timeline and, on a standby, its
    /// receiver and positions.
    static func describe(_ reading: PostgresReading) -> String {
        switch reading {
        case .primary(let primary):
            let timeline = primary.timeline.map { ", timeline \($0)" } ?? ""
            let fenced = primary.isFenced ? " FENCED (default_transaction_read_only)" : ""
            return "PostgreSQL primary\(fenced)\(timeline), \(primary.standbys.count) standby\(primary.standbys.count == 1 ? "" : "s") connected"
        case .standby(let standby):
            let timeline = standby.timeline.map { ", timeline \($0)" } ?? ""
            let receiver = standby.receiverStatus.map { "receiver \($0)\(standby.senderHost.map { " from \($0)" } ?? "")" } ?? "no WAL receiver"
            let positions = standby.receiveLSN.map { ", received \($0)" } ?? ""
            let replayed = standby.replayLSN.map { ", replayed \($0)" } ?? ""
            return "PostgreSQL standby\(timeline), \(receiver)\(standby.isReplayPaused ? ", replay PAUSED" : "")\(positions)\(replayed)"
        }
    }

    /// Events for a round that could not reach the server.
    public static func unreachableEvents(mapping: PostgresTopologyMapping, source: String, at now: Timestamp, message: String, isRefused: Bool) -> [DashboardEvent] {
        var events: [DashboardEvent] = [.probe(ProbeResult(region: mapping.region, source: source, observedAt: now, isSuccess: false, latencyMilliseconds: nil, message: "PostgreSQL: \(message)", isDefinitive: isRefused))]
        // A primary that cannot be reached replicates to nobody.
        for standby in mapping.expectedStandbys {
            events.append(.replication(ReplicationSample(from: mapping.region, to: standby, source: source, observedAt: now, lagSeconds: nil, lagBytes: nil, state: .broken)))
        }
        return events
    }

    static func sample(for row: StandbyRow, standby: String, primary: PrimaryReading, history: WALPositionHistory, mapping: PostgresTopologyMapping, source: String, at now: Timestamp) -> ReplicationSample {
        let bytes = row.replayBytesBehind.map { max(0, $0) }
        let seconds: Double?
        if bytes == 0 {
            // Caught up: the time columns may be NULL (idle for ~10 s) but nothing is behind.
            seconds = 0
        } else {
            let fromHistory = row.replayLSN.flatMap { history.secondsBehind(replayed: $0, now: now) }
            let candidates = [row.replayLagSeconds, fromHistory].compactMap { $0 }
            seconds = candidates.max()
        }
        let state: ReplicationState = switch row.state {
        case "streaming": .streaming
        case "catchup", "startup", "backup": .catchingUp
        case "stopping": .broken
        default: .unknown
        }
        return ReplicationSample(from: mapping.region, to: standby, source: source, observedAt: now, lagSeconds: seconds, lagBytes: bytes, state: state)
    }

    static func sample(for standby: StandbyReading, upstream: String, mapping: PostgresTopologyMapping, source: String, at now: Timestamp) -> ReplicationSample {
        let bytes = standby.receivedNotReplayedBytes.map { max(0, $0) }
        let seconds: Double?
        if bytes == 0 {
            // Everything received is replayed: `now() - last replay timestamp` only measures how
            // idle the primary is, not lag.
            seconds = 0
        } else {
            seconds = standby.secondsSinceLastReplayedTransaction.map { max(0, $0) }
        }
        let state: ReplicationState
        switch standby.receiverStatus {
        case nil: state = .broken
        case "streaming": state = standby.isReplayPaused ? .paused : .streaming
        case "starting", "restarting": state = .catchingUp
        default: state = .broken
        }
        return ReplicationSample(from: upstream, to: mapping.region, source: source, observedAt: now, lagSeconds: state == .broken ? nil : seconds, lagBytes: bytes, state: state)
    }
}
