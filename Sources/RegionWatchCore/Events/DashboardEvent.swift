/// Everything that changes the dashboard arrives as one of these events (DESIGN.md section 3,
/// convention 3): collector output, clock ticks and bus statistics.
public enum DashboardEvent: Sendable, Equatable {
    /// The clock moved; re-evaluates time-dependent truths such as staleness.
    case tick(Timestamp)
    /// Serving signals of one region from one source.
    case regionSample(RegionSample)
    /// One health-probe result.
    case probe(ProbeResult)
    /// One observation of a replication link.
    case replication(ReplicationSample)
    /// One round of a database collector: the server's role, positions and settings, or that
    /// it could not be reached.
    case server(ServerSample)
    /// The latest known backup of a region.
    case backup(BackupSample)
    /// Service versions running in a region.
    case versions(VersionSample)
    /// A collector reports success or failure of a collection round.
    case collectorStatus(CollectorReport)
    /// Something worth telling the operator, shown in the recent-events panel.
    case notice(Notice)
    /// Bus counters, published by the loop that drains the bus.
    case busStatistics(BusStatistics)
    /// Spans received together (from an OTLP request or the simulator).
    case spans(SpanBatch)
    /// Log records received together (from an OTLP request).
    case logs(LogBatch)
    /// Metric series readings received together (from an OTLP request), for the metrics
    /// screen; the region signals they feed arrive as `regionSample`.
    case metrics(MetricBatch)
    /// Counters of a span receiver (requests accepted and refused, by status).
    case receiverStatistics(ReceiverStatistics)
    /// The failover driver's current attempt changed.
    case failoverProgress(FailoverProgress)
    /// The audit log was (re)read; `isReadOnly` says whether failover keys refuse.
    case failoverHistory(FailoverHistorySummary, isReadOnly: Bool)
}

extension DashboardEvent {
    /// Whether a dashboard that drains once per refresh must apply the event sooner: failover
    /// progress and history redraw at once, notices answer an operator's action (chaos, a
    /// collector's failure), and span batches holding an ingest reservation give the receivers'
    /// gate back its room. Samples and statistics wait for the next refresh.
    public var cannotWaitForRefresh: Bool {
        switch self {
        case .failoverProgress, .failoverHistory, .notice: true
        case .spans(let batch): batch.holdsIngestReservation
        case .logs(let batch): batch.holdsIngestReservation
        default: false
        }
    }

    /// Whether the event is the failover driver's progress.
    public var isFailoverProgress: Bool {
        if case .failoverProgress = self { true } else { false }
    }

    /// Whether the event is the audit history (read-only mode, interrupted attempts,
    /// acknowledgements), which changes badges.
    public var isFailoverHistory: Bool {
        if case .failoverHistory = self { true } else { false }
    }
}

/// What a span receiver has done since start.
public struct ReceiverStatistics: Sendable, Equatable {
    public var receiver: String
    public var listenAddress: String
    /// `http` (OTLP/HTTP) or `grpc` (OTLP/gRPC).
    public var transport = "http"
    public var observedAt: Timestamp
    public var requestsAccepted = 0
    public var requestsRefused = 0
    /// Refused requests by status: the HTTP status, or the gRPC status code on gRPC.
    public var refusalsByStatus: [Int: Int] = [:]
    /// Connections that spoke the other transport (HTTP/1 on the gRPC port, HTTP/2 on the HTTP
    /// port): the classic exporter misconfiguration, answered and counted.
    public var wrongProtocolConnections = 0
    /// Requests and items per signal (`traces`, `metrics`, `logs`).
    public var signals: [String: SignalCounts] = [:]
    /// Metric values refused on their way to a region signal (not a number, implausible),
    /// and the last of them.
    public var metricSignalsRejected = 0
    public var lastMetricSignalRejection: String?
    public var bytesReceived = 0
    /// The most recent refusal, for the operator.
    public var lastRefusal: String?
    /// Connections open now, turned away at the connection cap, and closed for waiting too
    /// long for a request (idle keep-alive or a head that never came).
    public var connectionsOpen = 0
    public var connectionsRefused = 0
    public var connectionsTimedOut = 0
    /// Request body bytes held now, against the receiver's in-flight budget.
    public var bodyBytesHeld = 0

    public init(receiver: String, listenAddress: String, observedAt: Timestamp) {
        self.receiver = receiver
        self.listenAddress = listenAddress
        self.observedAt = observedAt
    }

    /// Spans received in accepted requests.
    public var spansReceived: Int { signals["traces"]?.received ?? 0 }
    /// Spans refused inside otherwise accepted requests (partial success).
    public var spansRejected: Int { signals["traces"]?.rejected ?? 0 }

    /// What a receiver did with one signal.
    public struct SignalCounts: Sendable, Equatable {
        /// Requests accepted (possibly with a partial success).
        public var requests = 0
        /// Items (spans, data points, log records) taken in accepted requests.
        public var received = 0
        /// Items refused inside accepted requests, and the last partial-success message.
        public var rejected = 0
        public var lastRejection: String?

        public init() {}

        /// Counts one accepted request.
        public mutating func record(received: Int, rejected: Int, message: String?) {
            requests += 1
            self.received += received
            self.rejected += rejected
            if let message { lastRejection = message }
        }
    }
}

/// Serving signals for a region. A `nil` field means "not reported by this sample", so several
/// sources can each report what they know.
public struct RegionSample: Sendable, Equatable {
    public var region: String
    public var source: String
    public var observedAt: Timestamp
    public var requestsPerSecond: Double?
    /// Fraction of requests that failed, 0...1.
    public var errorRate: Double?
    public var p50Milliseconds: Double?
    public var p99Milliseconds: Double?
    /// Observed share of global traffic, 0...1.
    public var trafficShare: Double?

    public init(
        region: String, source: String, observedAt: Timestamp,
        requestsPerSecond: Double? = nil, errorRate: Double? = nil,
        p50Milliseconds: Double? = nil, p99Milliseconds: Double? = nil,
        trafficShare: Double? = nil
    ) {
        self.region = region
        self.source = source
        self.observedAt = observedAt
        self.requestsPerSecond = requestsPerSecond
        self.errorRate = errorRate
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.trafficShare = trafficShare
    }
}

/// The result of one health probe of a region.
public struct ProbeResult: Sendable, Equatable {
    public var region: String
    public var source: String
    public var observedAt: Timestamp
    public var isSuccess: Bool
    public var latencyMilliseconds: Double?
    /// What the probe saw, for example `HTTP 200` or `connection refused`.
    public var message: String
    /// A failure that is itself proof the service is down (a database server that refuses
    /// connections), not only a missed answer: the region is DOWN at once.
    public var isDefinitive: Bool
    /// Expiry of the TLS certificate the probe saw, when it used https.
    public var certificateExpiry: Timestamp?

    public init(
        region: String,
        source: String,
        observedAt: Timestamp,
        isSuccess: Bool,
        latencyMilliseconds: Double?,
        message: String,
        isDefinitive: Bool = false,
        certificateExpiry: Timestamp? = nil
    ) {
        self.region = region
        self.source = source
        self.observedAt = observedAt
        self.isSuccess = isSuccess
        self.latencyMilliseconds = latencyMilliseconds
        self.message = message
        self.isDefinitive = isDefinitive
        self.certificateExpiry = certificateExpiry
    }
}

/// State of a replication link as reported by the data tier.
public enum ReplicationState: String, Sendable, Equatable, CaseIterable, Codable {
    case streaming
    case catchingUp = "catching-up"
    case paused
    case broken
    /// Reported, but by nobody recently: what is shown is old.
    case stale
    case unknown
}

/// Where a standby was in the log, as its sender saw it.
public struct StandbyPositions: Sendable, Equatable {
    /// Received and flushed: what a promotion keeps.
    public var flushed: WALPosition?
    /// Replayed: what reads on the standby see.
    public var replayed: WALPosition?

    public init(flushed: WALPosition?, replayed: WALPosition?) {
        self.flushed = flushed
        self.replayed = replayed
    }
}

/// One observation of the replication link `from` → `to`.
///
/// Database collectors report positions, from which the dashboard derives lag against the
/// primary's log; other sources (metrics, the simulator) report a lag they measured.
public struct ReplicationSample: Sendable, Equatable {
    public var from: String
    public var to: String
    public var source: String
    public var observedAt: Timestamp
    /// A lag the source measured itself, in seconds.
    public var lagSeconds: Double?
    /// Bytes behind as the source measured them.
    public var lagBytes: Double?
    public var state: ReplicationState
    /// The standby's positions as the sender lists them.
    public var positions: StandbyPositions?
    /// The sender was expected to list this standby and does not: a claim about an absence,
    /// which says nothing when the standby streams from someone else.
    public var isExpectationOnly: Bool

    public init(
        from: String,
        to: String,
        source: String,
        observedAt: Timestamp,
        lagSeconds: Double?,
        lagBytes: Double?,
        state: ReplicationState,
        positions: StandbyPositions? = nil,
        isExpectationOnly: Bool = false
    ) {
        self.from = from
        self.to = to
        self.source = source
        self.observedAt = observedAt
        self.lagSeconds = lagSeconds
        self.lagBytes = lagBytes
        self.state = state
        self.positions = positions
        self.isExpectationOnly = isExpectationOnly
    }
}

/// The outcome of a backup's integrity check.
public enum BackupIntegrity: String, Sendable, Equatable, Codable {
    case passed
    case failed
    case unchecked
}

/// The most recent backup of a region.
public struct BackupSample: Sendable, Equatable {
    public var region: String
    public var source: String
    public var observedAt: Timestamp
    public var completedAt: Timestamp
    /// `nil` when the source does not say (a metric that only gives the backup's age).
    public var sizeBytes: Double?
    public var integrity: BackupIntegrity

    public init(
        region: String, source: String, observedAt: Timestamp, completedAt: Timestamp, sizeBytes: Double?,
        integrity: BackupIntegrity
    ) {
        self.region = region
        self.source = source
        self.observedAt = observedAt
        self.completedAt = completedAt
        self.sizeBytes = sizeBytes
        self.integrity = integrity
    }
}

/// Versions of the services deployed in a region.
public struct VersionSample: Sendable, Equatable {
    public var region: String
    public var source: String
    public var observedAt: Timestamp
    /// Service name to version, for example `api` → `2.14.3`.
    public var versions: [String: String]

    public init(region: String, source: String, observedAt: Timestamp, versions: [String: String]) {
        self.region = region
        self.source = source
        self.observedAt = observedAt
        self.versions = versions
    }
}

/// A collector's report after a collection round.
public struct CollectorReport: Sendable, Equatable {
    public var collector: String
    public var kind: String
    public var observedAt: Timestamp
    /// Collection interval in seconds; the stale threshold is a multiple of it.
    public var intervalSeconds: Double
    /// Regions this collector feeds.
    public var regions: [String]
    /// `nil` when the round succeeded; otherwise the error, verbatim, secrets redacted.
    public var error: String?
    /// How many pieces of data the round refused while it used the rest (malformed lines,
    /// values that are not numbers or beyond any plausible range): counted and shown, and not
    /// a failure of the round.
    public var rejectedCount: Int
    /// The last of them, naming the series and why.
    public var rejection: String?

    public init(
        collector: String, kind: String, observedAt: Timestamp, intervalSeconds: Double, regions: [String],
        error: String? = nil, rejectedCount: Int = 0, rejection: String? = nil
    ) {
        self.collector = collector
        self.kind = kind
        self.observedAt = observedAt
        self.intervalSeconds = intervalSeconds
        self.regions = regions
        self.error = error
        self.rejectedCount = rejectedCount
        self.rejection = rejection
    }
}

/// How serious a notice is.
public enum NoticeSeverity: String, Sendable, Equatable, Comparable, Codable {
    case info
    case warning
    case critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: NoticeSeverity, rhs: NoticeSeverity) -> Bool { lhs.rank < rhs.rank }
}

/// An entry in the recent-events panel.
public struct Notice: Sendable, Equatable {
    public var at: Timestamp
    public var severity: NoticeSeverity
    public var region: String?
    public var message: String

    public init(at: Timestamp, severity: NoticeSeverity, region: String? = nil, message: String) {
        self.at = at
        self.severity = severity
        self.region = region
        self.message = message
    }
}

/// Counters of the event bus as seen by the dashboard's subscription.
public struct BusStatistics: Sendable, Equatable {
    /// Events dropped because the subscriber's buffer was full, since start.
    public var droppedEvents: Int
    /// Events published since start.
    public var publishedEvents: Int

    public init(droppedEvents: Int, publishedEvents: Int) {
        self.droppedEvents = droppedEvents
        self.publishedEvents = publishedEvents
    }
}
