import RegionWatchCore

/// What one round of queries saw on a PostgreSQL server.
public enum PostgresReading: Equatable, Sendable {
    case primary(PrimaryReading)
    case standby(StandbyReading)
}

/// A server not in recovery: its WAL position, `pg_stat_replication`, archiving, heartbeat.
public struct PrimaryReading: Equatable, Sendable {
    public var timeline: Int?
    public var version: String?
    /// `pg_current_wal_lsn()`.
    public var currentLSN: WALPosition
    /// One past its newest completed transaction (`txid_snapshot_xmax(txid_current_snapshot())`).
    public var nextTransaction: UInt64?
    /// Fenced: rows inserted, updated or deleted so far in the monitored database's tables
    /// (`pg_stat_user_tables`, temporary tables aside).
    public var tableRowChanges: UInt64?
    /// Seconds from the round's start to just before and just after the position was read: the
    /// position was reached no later than the end and, if new, not known before the start.
    public var readWindow: ClosedRange<Double>
    public var standbys: [StandbyRow]
    /// `default_transaction_read_only` is on: the server has been fenced.
    public var isFenced: Bool
    /// The newest heartbeat, by age in seconds (when heartbeats are written).
    public var heartbeat: HeartbeatAges?
    public var archiver: ArchiverReading?

    public init(
        timeline: Int?,
        version: String? = nil,
        currentLSN: WALPosition,
        readWindow: ClosedRange<Double> = 0...0,
        standbys: [StandbyRow],
        isFenced: Bool = false,
        heartbeat: HeartbeatAges? = nil,
        archiver: ArchiverReading? = nil
    ) {
        self.timeline = timeline
        self.version = version
        self.currentLSN = currentLSN
        self.readWindow = readWindow
        self.standbys = standbys
        self.isFenced = isFenced
        self.heartbeat = heartbeat
        self.archiver = archiver
    }
}

/// One row of `pg_stat_replication`.
public struct StandbyRow: Equatable, Sendable {
    public var applicationName: String?
    public var clientAddress: String?
    /// `startup`, `catchup`, `streaming`, `backup` or `stopping`.
    public var state: String?
    /// `flush_lsn`: received and durable on the standby.
    public var flushLSN: WALPosition?
    /// `replay_lsn`: replayed on the standby.
    public var replayLSN: WALPosition?

    public init(
        applicationName: String?, clientAddress: String?, state: String?, flushLSN: WALPosition?,
        replayLSN: WALPosition?
    ) {
        self.applicationName = applicationName
        self.clientAddress = clientAddress
        self.state = state
        self.flushLSN = flushLSN
        self.replayLSN = replayLSN
    }
}

/// A server in recovery: its positions, its WAL receiver, what it follows.
public struct StandbyReading: Equatable, Sendable {
    public var timeline: Int?
    public var version: String?
    public var isReplayPaused: Bool
    /// `pg_last_wal_receive_lsn()`: received and flushed.
    public var receiveLSN: WALPosition?
    /// `pg_last_wal_replay_lsn()`.
    public var replayLSN: WALPosition?
    /// `now() - pg_last_xact_replay_timestamp()`: the age of the last replayed commit. An upper
    /// bound of the lag (on an idle primary it is idle time), never the lag itself.
    public var lastReplayedCommitAgeSeconds: Double?
    /// One past the newest transaction it has replayed the end of
    /// (`txid_snapshot_xmax(txid_current_snapshot())` on a hot standby).
    public var nextTransaction: UInt64?
    /// `pg_stat_wal_receiver.status`; `nil` when the receiver has no row (disconnected).
    public var receiverStatus: String?
    public var senderHost: String?
    public var senderPort: Int?
    /// `latest_end_lsn` and the age of `latest_end_time`: the primary had written up to that
    /// position that long ago.
    public var senderEndLSN: WALPosition?
    public var senderEndAgeSeconds: Double?
    /// The age of `last_msg_send_time`: the sender's last message (data or keepalive).
    public var lastMessageAgeSeconds: Double?
    /// Seconds from the round's start to when the receiver's ages were read (they are ages at
    /// that moment, not at the round's start).
    public var receiverReadAfterSeconds: Double = 0
    /// Host and port from `primary_conninfo` (what it follows even while disconnected).
    public var configuredSenderHost: String?
    public var configuredSenderPort: Int?
    /// The newest heartbeat replayed.
    public var heartbeat: HeartbeatAges?

    public init(
        timeline: Int?,
        version: String? = nil,
        isReplayPaused: Bool,
        receiveLSN: WALPosition?,
        replayLSN: WALPosition?,
        lastReplayedCommitAgeSeconds: Double? = nil,
        receiverStatus: String?,
        senderHost: String? = nil,
        senderPort: Int? = nil,
        senderEndLSN: WALPosition? = nil,
        senderEndAgeSeconds: Double? = nil,
        configuredSenderHost: String? = nil,
        configuredSenderPort: Int? = nil,
        heartbeat: HeartbeatAges? = nil
    ) {
        self.timeline = timeline
        self.version = version
        self.isReplayPaused = isReplayPaused
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
        self.lastReplayedCommitAgeSeconds = lastReplayedCommitAgeSeconds
        self.receiverStatus = receiverStatus
        self.senderHost = senderHost
        self.senderPort = senderPort
        self.senderEndLSN = senderEndLSN
        self.senderEndAgeSeconds = senderEndAgeSeconds
        self.configuredSenderHost = configuredSenderHost
        self.configuredSenderPort = configuredSenderPort
        self.heartbeat = heartbeat
    }
}

/// A heartbeat row read as ages (the server's clock minus the row's times), so that the
/// dashboard's clock never has to agree with the server's.
public struct HeartbeatAges: Equatable, Sendable {
    public var writtenAgeSeconds: Double
    public var intervalSeconds: Double
    public var runningAgeSeconds: Double

    public init(writtenAgeSeconds: Double, intervalSeconds: Double, runningAgeSeconds: Double, stamp: Double? = nil) {
        self.writtenAgeSeconds = writtenAgeSeconds
        self.intervalSeconds = intervalSeconds
        self.runningAgeSeconds = runningAgeSeconds
        self.stamp = stamp
    }

    /// The row's own `written_at` (the primary's clock, seconds since the epoch): identifies the beat.
    public var stamp: Double?

    func reading(at now: Timestamp) -> HeartbeatReading {
        HeartbeatReading(
            writtenAt: now.adding(seconds: -writtenAgeSeconds), intervalSeconds: intervalSeconds,
            runningSince: now.adding(seconds: -runningAgeSeconds), stamp: stamp)
    }
}

/// `pg_stat_archiver` with `archive_mode` and `wal_segment_size`, times as ages.
public struct ArchiverReading: Equatable, Sendable {
    public var mode: String
    public var archivedCount: Int
    public var lastArchivedSegment: String?
    public var lastArchivedAgeSeconds: Double?
    public var failedCount: Int
    public var lastFailedSegment: String?
    public var lastFailedAgeSeconds: Double?
    public var segmentSizeBytes: UInt64

    public init(
        mode: String,
        archivedCount: Int = 0,
        lastArchivedSegment: String? = nil,
        lastArchivedAgeSeconds: Double? = nil,
        failedCount: Int = 0,
        lastFailedSegment: String? = nil,
        lastFailedAgeSeconds: Double? = nil,
        segmentSizeBytes: UInt64 = 16 * 1_048_576
    ) {
        self.mode = mode
        self.archivedCount = archivedCount
        self.lastArchivedSegment = lastArchivedSegment
        self.lastArchivedAgeSeconds = lastArchivedAgeSeconds
        self.failedCount = failedCount
        self.lastFailedSegment = lastFailedSegment
        self.lastFailedAgeSeconds = lastFailedAgeSeconds
        self.segmentSizeBytes = segmentSizeBytes
    }

    func facts(at now: Timestamp) -> ArchiverFacts {
        ArchiverFacts(
            mode: mode, archivedCount: archivedCount, lastArchivedSegment: lastArchivedSegment,
            lastArchivedAt: lastArchivedAgeSeconds.map { now.adding(seconds: -$0) }, failedCount: failedCount,
            lastFailedSegment: lastFailedSegment, lastFailedAt: lastFailedAgeSeconds.map { now.adding(seconds: -$0) },
            segmentSizeBytes: segmentSizeBytes
        )
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
    /// For a standby: the region the configuration assumes it replicates from (`upstream:`,
    /// else the configured primary), used only when its server cannot say.
    public var upstream: String?
    /// `host:port` of every configured database server → its region: turns a standby's
    /// sender address into the region it follows.
    public var regionsByAddress: [String: String]

    public init(
        region: String,
        standbysByApplicationName: [String: String] = [:],
        standbysByHost: [String: String] = [:],
        knownRegions: Set<String> = [],
        upstream: String? = nil,
        regionsByAddress: [String: String] = [:]
    ) {
        self.region = region
        self.standbysByApplicationName = standbysByApplicationName
        self.standbysByHost = standbysByHost
        self.knownRegions = knownRegions
        self.upstream = upstream
        self.regionsByAddress = regionsByAddress
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

    /// The region of the server at `host:port`, when it is a configured one (never this
    /// server's own region: a server does not replicate from itself).
    func region(host: String?, port: Int?) -> String? {
        guard let host else { return nil }
        let found = regionsByAddress["\(host):\(port ?? 5432)"] ?? standbysByHost[host]
        return found == region ? nil : found
    }
}

/// Turns readings into dashboard events. Pure: the known traps of PostgreSQL's lag columns are
/// handled here and in Core (`ReplicationEvidence`), where tests can reach them.
public enum PostgresReplicationInterpreter {
    /// Events for a successful round started at `now`.
    public static func events(
        for reading: PostgresReading, mapping: PostgresTopologyMapping, source: String, at now: Timestamp,
        roundMilliseconds: Double
    ) -> CollectionRound {
        var round = CollectionRound()
        round.events.append(
            .probe(
                ProbeResult(
                    region: mapping.region, source: source, observedAt: now, isSuccess: true,
                    latencyMilliseconds: roundMilliseconds, message: describe(reading))))
        switch reading {
        case .primary(let primary):
            round.events.append(
                .server(
                    ServerSample(
                        region: mapping.region, source: source, observedAt: now, facts: facts(primary, at: now))))
            var seen: Set<String> = []
            for row in primary.standbys {
                guard let standby = mapping.region(of: row) else {
                    round.errors.append(
                        "standby \(row.applicationName.map { "'\($0)'" } ?? "without application_name") from \(row.clientAddress ?? "a local socket") is not mapped to a region (set standbys: or hosts:)"
                    )
                    continue
                }
                seen.insert(standby)
                round.events.append(
                    .replication(sample(for: row, standby: standby, mapping: mapping, source: source, at: now)))
            }
            // Only a server taking writes expects its standbys: a fenced former primary that
            // lost them is not news. An absent standby is an observation, not a failure of this
            // collector (it may cascade from another standby): the dashboard weighs the claim.
            if !primary.isFenced {
                for missing in mapping.expectedStandbys where !seen.contains(missing) {
                    round.events.append(
                        .replication(
                            ReplicationSample(
                                from: mapping.region, to: missing, source: source, observedAt: now, lagSeconds: nil,
                                lagBytes: nil, state: .broken, isExpectationOnly: true)))
                }
            }
        case .standby(let standby):
            // The standby's own view of its link is derived from these facts by the dashboard,
            // towards the server it follows (which another collector may know better).
            let facts = facts(standby, mapping: mapping, at: now)
            round.events.append(
                .server(ServerSample(region: mapping.region, source: source, observedAt: now, facts: facts)))
            if standby.receiverStatus == nil {
                round.errors.append(
                    "WAL receiver is not running: disconnected from \(facts.upstream ?? facts.assumedUpstream ?? "its primary")"
                )
            }
        }
        return round
    }

    /// The server facts of a primary (or fenced former primary).
    static func facts(_ primary: PrimaryReading, at now: Timestamp) -> ServerFacts {
        ServerFacts(
            role: primary.isFenced ? .fenced : .writable, timeline: primary.timeline, version: primary.version,
            walPosition: primary.currentLSN,
            walPositionReadBetween: now.adding(
                seconds: primary.readWindow.lowerBound)...now.adding(seconds: primary.readWindow.upperBound),
            nextTransaction: primary.nextTransaction,
            tableRowChanges: primary.tableRowChanges,
            heartbeat: primary.heartbeat?.reading(at: now), archiver: primary.archiver?.facts(at: now)
        )
    }

    /// The server facts of a standby, its sender resolved to a region.
    static func facts(_ standby: StandbyReading, mapping: PostgresTopologyMapping, at now: Timestamp) -> ServerFacts {
        // The receiver's ages were measured when its row was read, after the round started:
        // times taken from them are never earlier than the truth, so lower bounds stay sound.
        let readAt = now.adding(seconds: standby.receiverReadAfterSeconds)
        let receiver = standby.receiverStatus.map { status in
            WALReceiverFacts(
                status: status,
                upstream: mapping.region(host: standby.senderHost, port: standby.senderPort),
                senderAddress: standby.senderHost.map { "\($0):\(standby.senderPort ?? 5432)" },
                senderEnd: standby.senderEndLSN,
                senderEndAt: standby.senderEndAgeSeconds.map { readAt.adding(seconds: -$0) },
                lastMessageAt: standby.lastMessageAgeSeconds.map { now.adding(seconds: -$0) }
            )
        }
        let assumed = mapping.upstream == mapping.region ? nil : mapping.upstream
        return ServerFacts(
            role: .recovering, timeline: standby.timeline, version: standby.version,
            walPosition: standby.replayLSN, nextTransaction: standby.nextTransaction,
            receivedPosition: standby.receiveLSN,
            isReplayPaused: standby.isReplayPaused, receiver: receiver,
            configuredUpstream: mapping.region(host: standby.configuredSenderHost, port: standby.configuredSenderPort),
            assumedUpstream: assumed,
            lastReplayedCommitAt: standby.lastReplayedCommitAgeSeconds.map { now.adding(seconds: -max(0, $0)) },
            heartbeat: standby.heartbeat?.reading(at: now)
        )
    }

    /// What the server said, for the detail screen: role, version, timeline and, on a standby,
    /// its receiver and positions.
    static func describe(_ reading: PostgresReading) -> String {
        switch reading {
        case .primary(let primary):
            let version = primary.version.map { " \($0)" } ?? ""
            let timeline = primary.timeline.map { ", timeline \($0)" } ?? ""
            let fenced = primary.isFenced ? " FENCED (default_transaction_read_only)" : ""
            return
                "PostgreSQL\(version) primary\(fenced)\(timeline), at \(primary.currentLSN), \(primary.standbys.count) standby\(primary.standbys.count == 1 ? "" : "s") connected"
        case .standby(let standby):
            let version = standby.version.map { " \($0)" } ?? ""
            let timeline = standby.timeline.map { ", timeline \($0)" } ?? ""
            let sender = standby.senderHost.map { " from \($0)\(standby.senderPort.map { ":\($0)" } ?? "")" } ?? ""
            let receiver = standby.receiverStatus.map { "receiver \($0)\(sender)" } ?? "no WAL receiver"
            let positions = standby.receiveLSN.map { ", received \($0)" } ?? ""
            let replayed = standby.replayLSN.map { ", replayed \($0)" } ?? ""
            return
                "PostgreSQL\(version) standby\(timeline), \(receiver)\(standby.isReplayPaused ? ", replay PAUSED" : "")\(positions)\(replayed)"
        }
    }

    /// Events for a round that could not reach the server. A server that cannot be reached says
    /// nothing about its links: they are judged by who else observes them.
    public static func unreachableEvents(
        mapping: PostgresTopologyMapping, source: String, at now: Timestamp, message: String, isRefused: Bool
    ) -> [DashboardEvent] {
        [
            .probe(
                ProbeResult(
                    region: mapping.region, source: source, observedAt: now, isSuccess: false, latencyMilliseconds: nil,
                    message: "PostgreSQL: \(message)", isDefinitive: isRefused)),
            .server(
                ServerSample(
                    region: mapping.region, source: source, observedAt: now, unreachable: message, isRefused: isRefused)
            ),
        ]
    }

    static func sample(
        for row: StandbyRow, standby: String, mapping: PostgresTopologyMapping, source: String, at now: Timestamp
    ) -> ReplicationSample {
        let state: ReplicationState =
            switch row.state {
            case "streaming": .streaming
            case "catchup", "startup", "backup": .catchingUp
            case "stopping": .broken
            default: .unknown
            }
        return ReplicationSample(
            from: mapping.region, to: standby, source: source, observedAt: now, lagSeconds: nil, lagBytes: nil,
            state: state,
            positions: StandbyPositions(flushed: row.flushLSN, replayed: row.replayLSN)
        )
    }

    /// Host and port in a libpq connection string (`host=… port=…` or a URI), for
    /// `primary_conninfo`. Passwords are never kept.
    public static func hostAndPort(inConnectionString text: String) -> (host: String?, port: Int?) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"), let dsn = try? PostgresDSN(parsing: text) {
            return (dsn.host, dsn.port)
        }
        var host: String?
        var hostaddr: String?
        var port: Int?
        for (key, value) in keywordPairs(text) {
            switch key {
            case "host": host = value
            case "hostaddr": hostaddr = value
            case "port": port = Int(value)
            default: break
            }
        }
        return (host ?? hostaddr, port)
    }

    /// `key=value key='quoted value'` pairs, leniently (unknown keys are fine here).
    static func keywordPairs(_ text: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "\n" }
            guard let equals = rest.firstIndex(of: "=") else { return pairs }
            let key = rest[..<equals].trimmed()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " }
            var value = ""
            if rest.first == "'" {
                rest = rest.dropFirst()
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\\", let next = rest.first {
                        value.append(next)
                        rest = rest.dropFirst()
                    } else if character == "'" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex { $0 == " " || $0 == "\t" || $0 == "\n" } ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            pairs.append((key, value))
        }
    }
}
