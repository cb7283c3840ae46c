/// What the dashboard knows of one region's database server, from the collector watching it.
public struct ServerState: Equatable, Sendable {
    /// The collector that reported last.
    public internal(set) var source: String
    /// The facts of the latest round that reached the server.
    public internal(set) var facts: ServerFacts?
    public internal(set) var factsObservedAt: Timestamp?
    /// The latest round that could not reach it, and why.
    public internal(set) var failure: String?
    public internal(set) var failedAt: Timestamp?
    /// The latest failure was a refused connection: the server is not running.
    public internal(set) var isRefusing = false
    /// Since when every round has been refused: the server has not been running since then.
    public internal(set) var refusingSince: Timestamp?
    /// Start of the current run of rounds that found the server accepting writes.
    public internal(set) var writableSince: Timestamp?
    /// The latest round that found it accepting writes.
    public internal(set) var lastWritableAt: Timestamp?
    /// Its log positions over time while it is not in recovery: the clock that turns a
    /// standby's position into a time lag.
    public internal(set) var history = WALHistory()
    /// Fenced, yet table rows changed since it was first seen fenced: it takes writes
    /// (`default_transaction_read_only` is a default a session can override).
    public internal(set) var writesWhileFenced: Timestamp?
    /// The table row changes when it was first seen fenced.
    private var rowChangesWhenFenced: UInt64?

    init(source: String) {
        self.source = source
    }

    /// The newest round, successful or not.
    public var lastRoundAt: Timestamp? {
        switch (factsObservedAt, failedAt) {
        case (let a?, let b?): max(a, b)
        case (let a, let b): a ?? b
        }
    }

    /// Whether the newest round reached the server.
    public var isReachable: Bool {
        guard let factsObservedAt else { return false }
        return failedAt.map { factsObservedAt > $0 } ?? true
    }

    mutating func record(_ sample: ServerSample) {
        if let last = lastRoundAt, sample.observedAt < last { return }
        source = sample.source
        guard let facts = sample.facts else {
            failure = sample.failure ?? "unreachable"
            failedAt = sample.observedAt
            isRefusing = sample.isRefused
            refusingSince = sample.isRefused ? (refusingSince ?? sample.observedAt) : nil
            // A writable run survives a missed round (split brain must not clear because one
            // side went quiet); a refusal ends it: a server that is not running takes no writes.
            if sample.isRefused { writableSince = nil }
            return
        }
        let wasWritable = self.facts?.role == .writable && isReachable
        self.facts = facts
        factsObservedAt = sample.observedAt
        isRefusing = false
        refusingSince = nil
        // Conservative for split brain: writable no earlier than the read's end, and known to be
        // writable only up to its start.
        let read = facts.walPositionReadBetween ?? sample.observedAt...sample.observedAt
        if facts.role == .writable {
            if !wasWritable || writableSince == nil { writableSince = read.upperBound }
            lastWritableAt = read.lowerBound
        } else {
            writableSince = nil
        }
        if facts.role == .fenced, let changes = facts.tableRowChanges {
            let before = rowChangesWhenFenced ?? changes
            rowChangesWhenFenced = before
            // Counters reset (a statistics reset, a restart after a crash) start a new baseline.
            if changes < before { rowChangesWhenFenced = changes }
            if changes > before, writesWhileFenced == nil { writesWhileFenced = sample.observedAt }
        } else if facts.role != .fenced {
            rowChangesWhenFenced = nil
            writesWhileFenced = nil
        }
        if facts.role == .recovering {
            if history.count > 0 { history = WALHistory(capacity: history.capacity) }
        } else if let position = facts.walPosition {
            history.record(
                position, timeline: facts.timeline, nextTransaction: facts.nextTransaction,
                readBetween: facts.walPositionReadBetween ?? sample.observedAt...sample.observedAt)
        }
    }
}
