/// One replication link `from` → `to`, combined from every source that observes it (for
/// example the primary's `pg_stat_replication` and the standby's own WAL receiver).
///
/// A link exists while some source observes it fresh; one from a server that is no longer
/// the primary, that nobody observes fresh, ends after the staleness window.
public struct ReplicationLinkState: Equatable, Sendable {
    public let from: String
    public let to: String
    /// The latest observation from each source, in first-seen order.
    public internal(set) var views: [ReplicationSample] = []
    /// The published state: broken at once; other changes only after they hold
    /// (`HysteresisTiming`); `stale` when no source observes it fresh.
    public internal(set) var state: ReplicationState = .unknown
    /// The state the fresh views give right now, before hysteresis.
    public internal(set) var rawState: ReplicationState = .unknown
    var stateLevels = Hysteresis(levels: 4)
    /// What is known of the standby's lag and bytes behind, as of the last assessment.
    public internal(set) var reading = ReplicationReading(time: nil)
    /// The shown lag (seconds) and bytes behind over time, for trends.
    public internal(set) var lagSeconds = Signal()
    public internal(set) var lagBytes = Signal()
    /// The newest observation by any source.
    public internal(set) var observedAt: Timestamp?
    /// The source whose view decided the state.
    public internal(set) var source: String?

    /// Sources kept per link (a link has two ends and perhaps a metrics source).
    static let viewLimit = 8

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// Views observed within their staleness window at `now`.
    func freshViews(at now: Timestamp, staleAfter: (String) -> Double) -> [ReplicationSample] {
        views.filter { now.seconds(since: $0.observedAt) <= staleAfter($0.source) }
    }

    /// Whether some source observes the link fresh at `now`.
    func isObserved(at now: Timestamp, staleAfter: (String) -> Double) -> Bool {
        views.contains { now.seconds(since: $0.observedAt) <= staleAfter($0.source) }
    }

    /// Records `sample` as its source's view (an older one from the same source is ignored).
    mutating func record(_ sample: ReplicationSample) {
        if let index = views.firstIndex(where: { $0.source == sample.source }) {
            guard sample.observedAt >= views[index].observedAt else { return }
            views[index] = sample
        } else {
            if views.count >= Self.viewLimit,
                let oldest = views.indices.min(by: { views[$0].observedAt < views[$1].observedAt })
            {
                views.remove(at: oldest)
            }
            views.append(sample)
        }
        observedAt = max(observedAt ?? sample.observedAt, sample.observedAt)
    }

    /// Re-derives the state from the fresh views (the most severe decides) and publishes it
    /// through the hysteresis. Returns the published state before the change.
    mutating func reassessState(
        fresh: [ReplicationSample], at now: Timestamp, timing: HysteresisTiming
    ) -> ReplicationState {
        let previous = state
        guard let worst = fresh.max(by: { $0.state.severity < $1.state.severity }) else {
            rawState = views.isEmpty ? .unknown : .stale
            state = rawState
            stateLevels.reset()
            return previous
        }
        rawState = worst.state
        source = worst.source
        guard let level = rawState.level else {
            state = rawState
            stateLevels.reset()
            return previous
        }
        let immediate = rawState == .broken ? level : 0
        let published = stateLevels.update(raw: level, immediate: immediate, at: now, timing: timing)
        state = ReplicationState.withLevel(published)
        return previous
    }

    /// Sets what is known of the lag; a new observation is added to the trends.
    mutating func update(reading: ReplicationReading) {
        let isNew = reading.observedAt.map { at in lagSeconds.observedAt.map { at > $0 } ?? true } ?? false
        self.reading = reading
        guard isNew, let at = reading.observedAt else { return }
        lagSeconds.record(reading.time?.seconds, at: at, source: source ?? "")
        lagBytes.record(reading.bytesBehind, at: at, source: source ?? "")
    }
}

extension ReplicationState {
    /// How bad a state is when views disagree: unknown < stale < streaming < catching-up <
    /// paused < broken.
    var severity: Int {
        switch self {
        case .unknown: 0
        case .stale: 1
        case .streaming: 2
        case .catchingUp: 3
        case .paused: 4
        case .broken: 5
        }
    }

    /// The hysteresis level of an observed state (`nil` for unknown and stale).
    var level: Int? {
        switch self {
        case .streaming: 0
        case .catchingUp: 1
        case .paused: 2
        case .broken: 3
        case .stale, .unknown: nil
        }
    }

    static func withLevel(_ level: Int) -> ReplicationState {
        switch level {
        case 0: .streaming
        case 1: .catchingUp
        case 2: .paused
        default: .broken
        }
    }
}

/// WAL archiving of a primary, as judged at the last assessment.
public struct ArchiveStatus: Equatable, Sendable {
    public var facts: ArchiverFacts
    /// How long ago the oldest write not yet archived happened (`nil` when unknown).
    public var unarchived: LagEstimate?
    public var observedAt: Timestamp

    public init(facts: ArchiverFacts, unarchived: LagEstimate?, observedAt: Timestamp) {
        self.facts = facts
        self.unarchived = unarchived
        self.observedAt = observedAt
    }
}
