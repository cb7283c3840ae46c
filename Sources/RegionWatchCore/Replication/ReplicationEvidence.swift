/// Pure rules that turn log positions and timestamps into lag intervals. Each rule gives an
/// interval the truth is known to lie in at the moment of observation; the dashboard
/// intersects the intervals it has (see `LagEstimate.intersected(with:)`).
public enum ReplicationEvidence {
    /// The lag at `observedAt` of a standby whose replay position was `position`, from the
    /// primary's log history: the oldest write it has not replayed is the first one after its
    /// position. `nil` when the history knows nothing.
    public static func lag(
        replayed position: WALPosition, observedAt: Timestamp, history: WALHistory, resolution: Double
    ) -> LagEstimate? {
        switch history.firstWrite(after: position) {
        case .unknown:
            return nil
        case .none(let asOf):
            // Nothing after it up to the primary's newest observation; what came later is not
            // known, so at most the time since then.
            return LagEstimate(atLeast: 0, atMost: max(0, observedAt.seconds(since: asOf)), resolution: resolution)
        case .within(let after, let notLaterThan):
            return LagEstimate(
                atLeast: notLaterThan.map { observedAt.seconds(since: $0) } ?? 0,
                atMost: after.map { max(0, observedAt.seconds(since: $0)) },
                resolution: resolution
            )
        }
    }

    /// What a standby's own view says of its lag at `observedAt`:
    /// - everything it has not replayed was committed after its last replayed transaction, so
    ///   the lag is at most the age of that commit (never "the lag" itself: on an idle primary
    ///   that age is idle time);
    /// - log the sender had beyond its replay position is no lower bound: it may be upkeep (a
    ///   checkpoint, a snapshot of running transactions) rather than a write; only the
    ///   primary's history, which counts transactions, tells (see `WALHistory`);
    /// - when all it received is replayed and the sender had nothing more to send at its last
    ///   message, anything it lacks was written after that message, so the lag is at most the
    ///   time since (only when the sender is the primary itself: a cascading sender may be
    ///   behind in turn; and never "caught up" outright: a receiver still says `streaming` for
    ///   a while after its network is cut).
    public static func standbyBounds(
        _ facts: ServerFacts, observedAt: Timestamp, senderIsPrimary: Bool = true
    ) -> LagEstimate? {
        guard facts.role == .recovering else { return nil }
        var estimate: LagEstimate?
        func add(_ bound: LagEstimate) { estimate = estimate.map { $0.intersected(with: bound) } ?? bound }
        if senderIsPrimary, let replayed = facts.walPosition, let received = facts.receivedPosition,
            received <= replayed,
            let receiver = facts.receiver, receiver.status == "streaming", let end = receiver.senderEnd,
            end <= replayed,
            let lastMessage = receiver.lastMessageAt
        {
            add(LagEstimate(atLeast: 0, atMost: max(0, observedAt.seconds(since: lastMessage)), resolution: 0))
        }
        if let commit = facts.lastReplayedCommitAt {
            add(LagEstimate(atLeast: 0, atMost: max(0, observedAt.seconds(since: commit)), resolution: 0))
        }
        return estimate
    }

    /// What transaction ids say: a standby whose own next transaction id (as replayed) is
    /// `next` lacks the end of every transaction from `next` on; once the primary is seen to have
    /// completed one of them, the lag is at least the time since. Concurrent transactions end
    /// out of id order, so an equal id is no proof of being caught up: this is a lower bound only.
    public static func transactionBounds(
        standbyNext next: UInt64?, observedAt: Timestamp, history: WALHistory
    ) -> LagEstimate? {
        guard let next, let completed = history.firstSeen(completingTransactionsFrom: next), completed <= observedAt
        else { return nil }
        return LagEstimate(atLeast: observedAt.seconds(since: completed), atMost: nil, resolution: 0)
    }

    /// What heartbeats say (like pt-heartbeat): everything up to the newest beat the standby
    /// replayed is replayed, so the lag is at most that beat's age; and when the writer has beaten
    /// without a gap since then, the next beat (written within 1.5 intervals) is not replayed,
    /// so the lag is at least the time since that beat. Exact to about one interval, idle or not.
    ///
    /// - Parameters:
    ///   - replayed: the newest beat the standby has replayed, observed at `observedAt`.
    ///   - written: the primary's newest beat, when its writer is observed.
    public static func heartbeatBounds(
        replayed: HeartbeatReading?, written: HeartbeatReading?, observedAt: Timestamp
    ) -> LagEstimate? {
        guard let replayed else { return nil }
        let interval = max(replayed.intervalSeconds, written?.intervalSeconds ?? 0)
        let resolution = 1.5 * interval
        let atMost = max(0, observedAt.seconds(since: replayed.writtenAt))
        guard let written, written.stamp > replayed.stamp, written.runningSince <= replayed.writtenAt else {
            return LagEstimate(atLeast: 0, atMost: atMost, resolution: resolution)
        }
        let nextBeatLatest = replayed.writtenAt.adding(seconds: 1.5 * written.intervalSeconds)
        // The next beat was due one interval after the last one replayed.
        let likely = atMost - written.intervalSeconds
        return LagEstimate(
            atLeast: observedAt.seconds(since: nextBeatLatest), atMost: atMost, resolution: resolution, likely: likely)
    }

    /// How long ago the oldest write not yet archived happened, at `observedAt`: the archive's
    /// lag, read from the same history as a standby's. `nil` when archiving is off or the
    /// archived position is unknown.
    public static func archiveLag(
        _ archiver: ArchiverFacts, observedAt: Timestamp, history: WALHistory, resolution: Double
    ) -> LagEstimate? {
        guard archiver.isEnabled, let archived = archiver.archivedThrough else { return nil }
        return lag(replayed: archived, observedAt: observedAt, history: history, resolution: resolution)
    }
}
