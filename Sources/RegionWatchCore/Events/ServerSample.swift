/// Whether a database server takes writes, as it says itself.
public enum ServerRole: String, Sendable, Equatable, Codable {
    /// Not in recovery and accepting writes.
    case writable
    /// Not in recovery, but refusing writes (fenced: `default_transaction_read_only`).
    case fenced
    /// In recovery: a standby replaying a primary's log.
    case recovering
}

/// One round of a database collector: the server's own facts, or that it could not be reached.
public struct ServerSample: Sendable, Equatable {
    public var region: String
    public var source: String
    public var observedAt: Timestamp
    /// The server's facts; `nil` when it could not be reached.
    public var facts: ServerFacts?
    /// Why it could not be reached (when `facts` is `nil`).
    public var failure: String?
    /// It refused the connection: the server process is not running (so it takes no writes),
    /// as opposed to a timeout, after which it may well be running.
    public var isRefused = false

    public init(region: String, source: String, observedAt: Timestamp, facts: ServerFacts) {
        self.region = region
        self.source = source
        self.observedAt = observedAt
        self.facts = facts
    }

    public init(
        region: String, source: String, observedAt: Timestamp, unreachable failure: String, isRefused: Bool = false
    ) {
        self.region = region
        self.source = source
        self.observedAt = observedAt
        self.failure = failure
        self.isRefused = isRefused
    }
}

/// What a database server said about itself in one round.
public struct ServerFacts: Sendable, Equatable {
    public var role: ServerRole
    public var timeline: Int?
    /// `server_version`, for example `15.18`.
    public var version: String?
    /// Not in recovery: the current log position. In recovery: the replay position.
    public var walPosition: WALPosition?
    /// When `walPosition` was read: reached by the end, not passed at the start. `nil` means
    /// at the sample's observation time.
    public var walPositionReadBetween: ClosedRange<Timestamp>?
    /// One past the newest transaction completed (committed or aborted) as far as the server
    /// knows: on a primary its own, in recovery what it has replayed
    /// (`txid_snapshot_xmax(txid_current_snapshot())`). Only a transaction's end advances it,
    /// never a checkpoint, vacuum or other upkeep: it tells writes from upkeep in the log, and
    /// comparing a standby's with the primary's tells whether it lacks a transaction.
    public var nextTransaction: UInt64?
    /// Fenced: rows inserted, updated or deleted so far in the tables of the database observed
    /// (`pg_stat_user_tables`). They change only when a session writes despite the fence;
    /// autovacuum's ANALYZE takes a transaction id there, yet changes no table row.
    public var tableRowChanges: UInt64?
    /// In recovery: the position received and flushed (what a promotion keeps).
    public var receivedPosition: WALPosition?
    public var isReplayPaused: Bool
    /// In recovery: the WAL receiver, `nil` when none runs (disconnected).
    public var receiver: WALReceiverFacts?
    /// In recovery: the region the server is configured to follow (from its own connection
    /// settings, `primary_conninfo`), even while disconnected.
    public var configuredUpstream: String?
    /// In recovery: the region regionwatch's configuration assumes it follows, used only when
    /// nothing better is known (the server's own settings could not be read or matched).
    public var assumedUpstream: String?
    /// In recovery: when the last transaction it replayed was committed on the primary.
    /// Everything it has not replayed was committed after this.
    public var lastReplayedCommitAt: Timestamp?
    /// Not in recovery: the newest heartbeat written (by this collector, when enabled). In
    /// recovery: the newest heartbeat replayed.
    public var heartbeat: HeartbeatReading?
    /// Not in recovery: WAL archiving.
    public var archiver: ArchiverFacts?

    public init(
        role: ServerRole,
        timeline: Int? = nil,
        version: String? = nil,
        walPosition: WALPosition? = nil,
        walPositionReadBetween: ClosedRange<Timestamp>? = nil,
        nextTransaction: UInt64? = nil,
        tableRowChanges: UInt64? = nil,
        receivedPosition: WALPosition? = nil,
        isReplayPaused: Bool = false,
        receiver: WALReceiverFacts? = nil,
        configuredUpstream: String? = nil,
        assumedUpstream: String? = nil,
        lastReplayedCommitAt: Timestamp? = nil,
        heartbeat: HeartbeatReading? = nil,
        archiver: ArchiverFacts? = nil
    ) {
        self.role = role
        self.timeline = timeline
        self.version = version
        self.walPosition = walPosition
        self.walPositionReadBetween = walPositionReadBetween
        self.nextTransaction = nextTransaction
        self.tableRowChanges = tableRowChanges
        self.receivedPosition = receivedPosition
        self.isReplayPaused = isReplayPaused
        self.receiver = receiver
        self.configuredUpstream = configuredUpstream
        self.assumedUpstream = assumedUpstream
        self.lastReplayedCommitAt = lastReplayedCommitAt
        self.heartbeat = heartbeat
        self.archiver = archiver
    }

    /// The region this standby says it replicates from: its connected sender, else its
    /// settings (never the configuration's assumption).
    public var upstream: String? { receiver?.upstream ?? configuredUpstream }

    /// The state of its link as a standby sees it: no WAL receiver is a broken link.
    public var replicationState: ReplicationState {
        switch receiver?.status {
        case nil: .broken
        case "streaming": isReplayPaused ? .paused : .streaming
        case "starting", "restarting", "waiting": .catchingUp
        default: .broken
        }
    }
}

/// A standby's WAL receiver (`pg_stat_wal_receiver`).
public struct WALReceiverFacts: Sendable, Equatable {
    /// `streaming`, `starting`, `waiting`, `restarting`, `stopping`.
    public var status: String
    /// The region of the sender, when its address maps to one.
    public var upstream: String?
    /// `host:port` of the sender, as the standby sees it.
    public var senderAddress: String?
    /// The primary's log end as last reported by the sender, and when: at that time the
    /// primary had written up to that position.
    public var senderEnd: WALPosition?
    public var senderEndAt: Timestamp?
    /// When the sender sent its last message (data or keepalive): at that time it had nothing
    /// beyond `senderEnd` to send.
    public var lastMessageAt: Timestamp?

    public init(
        status: String,
        upstream: String? = nil,
        senderAddress: String? = nil,
        senderEnd: WALPosition? = nil,
        senderEndAt: Timestamp? = nil,
        lastMessageAt: Timestamp? = nil
    ) {
        self.status = status
        self.upstream = upstream
        self.senderAddress = senderAddress
        self.senderEnd = senderEnd
        self.senderEndAt = senderEndAt
        self.lastMessageAt = lastMessageAt
    }
}

/// A heartbeat row (like pt-heartbeat): a timestamp written on the primary every interval.
public struct HeartbeatReading: Sendable, Equatable, Codable {
    /// The newest beat's time (the primary's clock).
    public var writtenAt: Timestamp
    /// The writer's interval, seconds.
    public var intervalSeconds: Double
    /// Since when the writer has beaten without a gap longer than 1.5 intervals.
    public var runningSince: Timestamp
    /// The beat's own timestamp as stored (the primary's clock, seconds): tells one beat from
    /// another exactly, whatever the clocks of the servers that read it.
    public var stamp: Double

    public init(writtenAt: Timestamp, intervalSeconds: Double, runningSince: Timestamp, stamp: Double? = nil) {
        self.writtenAt = writtenAt
        self.intervalSeconds = intervalSeconds
        self.runningSince = runningSince
        self.stamp = stamp ?? writtenAt.secondsSinceEpoch
    }
}

/// WAL archiving on a primary (`pg_stat_archiver` and `archive_mode`).
public struct ArchiverFacts: Sendable, Equatable, Codable {
    /// `archive_mode`: `off`, `on` or `always`.
    public var mode: String
    public var archivedCount: Int
    public var lastArchivedSegment: String?
    public var lastArchivedAt: Timestamp?
    public var failedCount: Int
    public var lastFailedSegment: String?
    public var lastFailedAt: Timestamp?
    /// `wal_segment_size`, bytes: turns a segment name into the position archived up to.
    public var segmentSizeBytes: UInt64

    public init(
        mode: String,
        archivedCount: Int = 0,
        lastArchivedSegment: String? = nil,
        lastArchivedAt: Timestamp? = nil,
        failedCount: Int = 0,
        lastFailedSegment: String? = nil,
        lastFailedAt: Timestamp? = nil,
        segmentSizeBytes: UInt64 = 16 * 1_048_576
    ) {
        self.mode = mode
        self.archivedCount = archivedCount
        self.lastArchivedSegment = lastArchivedSegment
        self.lastArchivedAt = lastArchivedAt
        self.failedCount = failedCount
        self.lastFailedSegment = lastFailedSegment
        self.lastFailedAt = lastFailedAt
        self.segmentSizeBytes = segmentSizeBytes
    }

    public var isEnabled: Bool { mode != "off" }

    /// The most recent attempt failed: a failure newer than the last success.
    public var isFailing: Bool {
        guard let lastFailedAt else { return false }
        return lastArchivedAt.map { lastFailedAt > $0 } ?? true
    }

    /// Everything before this position is archived.
    public var archivedThrough: WALPosition? {
        lastArchivedSegment.flatMap { WALSegmentName($0, segmentSize: segmentSizeBytes)?.end }
    }
}
