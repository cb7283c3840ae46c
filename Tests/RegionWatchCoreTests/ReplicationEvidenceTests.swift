import Testing
@testable import RegionWatchCore

@Suite("Replication evidence")
struct ReplicationEvidenceTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static func at(_ seconds: Double) -> Timestamp { t0.adding(seconds: seconds) }
    static func position(_ offset: UInt64) -> WALPosition { WALPosition(offset: offset) }

    /// The history of issue 9, item 1: one write, 30 s idle, a burst.
    static func idleThenBurst() -> WALHistory {
        var history = WALHistory()
        for second in 0...30 { history.record(position(100), timeline: 1, at: at(Double(second))) }
        for second in 31...40 { history.record(position(9_000_000), timeline: 1, at: at(Double(second))) }
        return history
    }

    @Test func idleTimeIsNotLag() {
        // Replay paused at 100 before the burst; three seconds after it, the lag is about three
        // seconds, not the 34 s since the last replayed transaction.
        let lag = ReplicationEvidence.lag(
            replayed: Self.position(100), observedAt: Self.at(34), history: Self.idleThenBurst(), resolution: 1.5)
        #expect(lag == LagEstimate(atLeast: 3, atMost: 4, resolution: 1.5))
        #expect(lag?.bound == .exact)
        let standby = ServerFacts(
            role: .recovering, walPosition: Self.position(100), receivedPosition: Self.position(9_000_000),
            isReplayPaused: true, receiver: WALReceiverFacts(status: "streaming"), lastReplayedCommitAt: Self.at(0))
        let bounds = ReplicationEvidence.standbyBounds(standby, observedAt: Self.at(34))
        #expect(
            bounds == LagEstimate(atLeast: 0, atMost: 34, resolution: 0),
            "the age of the last replayed commit is only an upper bound")
        #expect(lag.map { $0.intersected(with: bounds!) } == LagEstimate(atLeast: 3, atMost: 4, resolution: 1.5))
    }

    @Test func aCaughtUpStandbyHasNoLagHoweverIdleThePrimary() {
        var history = Self.idleThenBurst()
        history.record(Self.position(9_000_000), timeline: 1, at: Self.at(600))
        #expect(
            ReplicationEvidence.lag(
                replayed: Self.position(9_000_000), observedAt: Self.at(600), history: history, resolution: 1.5)
                == .exact(0, resolution: 1.5))
        // The primary last seen 560 s ago: nothing known to be missing, but it may have written since.
        #expect(
            ReplicationEvidence.lag(
                replayed: Self.position(9_000_000), observedAt: Self.at(600), history: Self.idleThenBurst(),
                resolution: 1.5) == LagEstimate(atLeast: 0, atMost: 560, resolution: 1.5))
        let idle = ServerFacts(
            role: .recovering, walPosition: Self.position(100), receivedPosition: Self.position(100),
            receiver: WALReceiverFacts(
                status: "streaming", senderEnd: Self.position(100), senderEndAt: Self.at(0),
                lastMessageAt: Self.at(599.5)), lastReplayedCommitAt: Self.at(0))
        #expect(
            ReplicationEvidence.standbyBounds(idle, observedAt: Self.at(600))
                == LagEstimate(atLeast: 0, atMost: 0.5, resolution: 0),
            "nothing more to send at the sender's last message, half a second ago")
        // A receiver that still says streaming, whose sender has been silent: at most that long.
        var silent = idle
        silent.receiver?.lastMessageAt = Self.at(550)
        #expect(
            ReplicationEvidence.standbyBounds(silent, observedAt: Self.at(600))
                == LagEstimate(atLeast: 0, atMost: 50, resolution: 0))
        silent.receiver?.lastMessageAt = nil
        #expect(
            ReplicationEvidence.standbyBounds(silent, observedAt: Self.at(600))
                == LagEstimate(atLeast: 0, atMost: 600, resolution: 0), "no claim without the sender's last message")
    }

    @Test func aStandbyAloneGivesBoundsNotNothing() {
        // Replay paused, 12.7 MiB received and not replayed, no view of the primary.
        let paused = ServerFacts(
            role: .recovering, walPosition: Self.position(1000), receivedPosition: Self.position(13_318_000),
            isReplayPaused: true,
            receiver: WALReceiverFacts(
                status: "streaming", senderEnd: Self.position(13_318_000), senderEndAt: Self.at(8)),
            lastReplayedCommitAt: Self.at(0)
        )
        let bounds = ReplicationEvidence.standbyBounds(paused, observedAt: Self.at(20))
        #expect(bounds == LagEstimate(atLeast: 0, atMost: 20, resolution: 0), "the last replayed commit is 20 s old")
        // The sender's log beyond it proves no write: an idle primary logs checkpoints and
        // snapshots of running transactions too, so it gives no lower bound.
        #expect(bounds?.bound == .upper)
        let disconnected = ServerFacts(
            role: .recovering, walPosition: Self.position(1000), receivedPosition: Self.position(1000),
            lastReplayedCommitAt: Self.at(0))
        #expect(
            ReplicationEvidence.standbyBounds(disconnected, observedAt: Self.at(20))
                == LagEstimate(atLeast: 0, atMost: 20, resolution: 0), "disconnected: never claimed caught up")
        #expect(ReplicationEvidence.standbyBounds(ServerFacts(role: .writable), observedAt: Self.at(1)) == nil)
    }

    @Test func transactionIdsGiveALowerBoundFromTheFirstObservation() {
        // One observation of the primary: its newest completed transaction is 741 (next 742).
        var history = WALHistory()
        history.record(Self.position(5000), timeline: 1, nextTransaction: 742, at: Self.at(10))
        // A standby that replayed the end of 740 only lacks 741, completed by t=10.
        #expect(
            ReplicationEvidence.transactionBounds(standbyNext: 741, observedAt: Self.at(12), history: history)
                == LagEstimate(atLeast: 2, atMost: nil, resolution: 0))
        // With every transaction's end replayed: no claim either way (a transaction with a lower
        // id may still end after a higher one, so equal ids do not prove it caught up).
        #expect(
            ReplicationEvidence.transactionBounds(standbyNext: 742, observedAt: Self.at(12), history: history) == nil)
        // Checkpoints move the position, not the transaction ids: no claim from upkeep.
        history.record(Self.position(5200), timeline: 1, nextTransaction: 742, at: Self.at(20))
        #expect(
            ReplicationEvidence.transactionBounds(standbyNext: 742, observedAt: Self.at(25), history: history) == nil)
        // A later transaction: the first point beyond counts.
        history.record(Self.position(5400), timeline: 1, nextTransaction: 743, at: Self.at(30))
        #expect(history.firstSeen(completingTransactionsFrom: 742) == Self.at(30))
        #expect(history.firstSeen(completingTransactionsFrom: 740) == Self.at(10))
        #expect(history.firstSeen(completingTransactionsFrom: 743) == nil)
        #expect(
            ReplicationEvidence.transactionBounds(standbyNext: 742, observedAt: Self.at(31), history: history)
                == LagEstimate(atLeast: 1, atMost: nil, resolution: 0))
        // Nothing claimed from a primary seen only after the standby's observation.
        #expect(
            ReplicationEvidence.transactionBounds(standbyNext: 741, observedAt: Self.at(5), history: history) == nil)
        #expect(
            ReplicationEvidence.transactionBounds(standbyNext: nil, observedAt: Self.at(31), history: history) == nil)
    }

    @Test func heartbeatsMakeTheLagExactToAnInterval() {
        let written = HeartbeatReading(writtenAt: Self.at(59.5), intervalSeconds: 1, runningSince: Self.at(0))
        // Replay paused after the beat of t=40: the next beat (at most 1.5 s later) is missing.
        let replayed = HeartbeatReading(writtenAt: Self.at(40), intervalSeconds: 1, runningSince: Self.at(0))
        let lag = ReplicationEvidence.heartbeatBounds(replayed: replayed, written: written, observedAt: Self.at(60))
        #expect(lag == LagEstimate(atLeast: 18.5, atMost: 20, resolution: 1.5, likely: 19))
        #expect(lag?.bound == .exact)
        #expect(lag?.seconds == 19, "the next beat was due one interval after the last one replayed")
        // The writer restarted after that beat: no claim that a later beat was written soon after.
        let restarted = HeartbeatReading(writtenAt: Self.at(59.5), intervalSeconds: 1, runningSince: Self.at(50))
        #expect(
            ReplicationEvidence.heartbeatBounds(replayed: replayed, written: restarted, observedAt: Self.at(60))
                == LagEstimate(atLeast: 0, atMost: 20, resolution: 1.5))
        // Up to date with the newest beat: at most the age of that beat.
        #expect(
            ReplicationEvidence.heartbeatBounds(replayed: written, written: written, observedAt: Self.at(60))
                == LagEstimate(atLeast: 0, atMost: 0.5, resolution: 1.5))
        #expect(ReplicationEvidence.heartbeatBounds(replayed: nil, written: written, observedAt: Self.at(60)) == nil)
    }

    @Test func archiveLagIsTheAgeOfTheOldestUnarchivedWrite() {
        let size: UInt64 = 16 * 1_048_576
        var history = WALHistory()
        history.record(Self.position(size + 100), timeline: 1, nextTransaction: 10, at: Self.at(0))
        history.record(Self.position(2 * size + 100), timeline: 1, nextTransaction: 11, at: Self.at(50))
        var upkeepOnly = history
        history.record(Self.position(2 * size + 200), timeline: 1, nextTransaction: 12, at: Self.at(60))
        upkeepOnly.record(Self.position(2 * size + 200), timeline: 1, nextTransaction: 11, at: Self.at(60))
        // Archived through segment 1 (up to 2 × size). The step to t=50 straddles that end: its
        // transaction may lie before it. The step to t=60 lies wholly beyond and brought one.
        let archiver = ArchiverFacts(
            mode: "on", archivedCount: 1, lastArchivedSegment: "000000010000000000000001", lastArchivedAt: Self.at(55),
            segmentSizeBytes: size)
        #expect(
            ReplicationEvidence.archiveLag(archiver, observedAt: Self.at(80), history: history, resolution: 1.5)
                == LagEstimate(atLeast: 20, atMost: 80, resolution: 1.5))
        // Only upkeep beyond the end: no lower bound.
        #expect(
            ReplicationEvidence.archiveLag(archiver, observedAt: Self.at(80), history: upkeepOnly, resolution: 1.5)
                == LagEstimate(atLeast: 0, atMost: 80, resolution: 1.5))
        var off = archiver
        off.mode = "off"
        #expect(ReplicationEvidence.archiveLag(off, observedAt: Self.at(80), history: history, resolution: 1.5) == nil)
        var failing = archiver
        failing.lastFailedAt = Self.at(70)
        #expect(failing.isFailing)
        #expect(!archiver.isFailing)
    }
}
