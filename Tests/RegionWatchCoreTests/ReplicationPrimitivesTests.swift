import Testing
@testable import RegionWatchCore

@Suite("WAL positions and segment names")
struct WALPositionTests {
    @Test func textFormRoundTripsAndOrders() {
        let position = WALPosition(text: "16/B374D848")
        #expect(position?.offset == 0x16_B374_D848)
        #expect(position?.description == "16/B374D848")
        #expect(WALPosition(text: "0/0")?.offset == 0)
        #expect(WALPosition(text: "FFFFFFFF/FFFFFFFF")?.offset == UInt64.max)
        #expect(WALPosition(offset: 0x1_0000_0000).description == "1/0")
        #expect(WALPosition(text: "0/5000")! < WALPosition(text: "1/0")!)
    }

    @Test func malformedTextIsRefused() {
        for bad in ["", "/", "0", "0/", "/0", "G/0", "0/0/0", "123456789/0", "0/123456789", " 0/0", "0/-1"] {
            #expect(WALPosition(text: bad) == nil, "\(bad)")
        }
    }

    @Test func bytesAfterNeverGoNegative() {
        let later = WALPosition(offset: 5000)
        let earlier = WALPosition(offset: 1000)
        #expect(later.bytes(after: earlier) == 4000)
        #expect(earlier.bytes(after: later) == 0)
    }

    @Test func segmentNamesGiveTheArchivedPosition() {
        let size: UInt64 = 16 * 1_048_576
        let first = WALSegmentName("000000010000000000000001", segmentSize: size)
        #expect(first?.timeline == 1)
        #expect(first?.end == WALPosition(offset: 2 * size), "segment 1 covers 16 MiB…32 MiB")
        #expect(WALSegmentName("0000000200000003000000FF", segmentSize: size)?.end == WALPosition(offset: 4 << 32))
        for bad in [
            "000000010000000000000001.partial", "00000002.history", "zz0000010000000000000001",
            "0000000100000000000001", "000000010000000000000100",
        ] {
            #expect(WALSegmentName(bad, segmentSize: size) == nil, "\(bad)")
        }
        #expect(WALSegmentName("000000010000000000000001", segmentSize: 0) == nil)
    }
}

@Suite("WAL history")
struct WALHistoryTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static func at(_ seconds: Double) -> Timestamp { t0.adding(seconds: seconds) }
    static func position(_ offset: UInt64) -> WALPosition { WALPosition(offset: offset) }

    @Test func anIdleStretchIsRememberedAsTheLastTimeSeenThere() {
        // One write at t0, then 30 s idle (observed every second), then a burst at t31.
        var history = WALHistory()
        for second in 0...30 { history.record(Self.position(100), timeline: 1, at: Self.at(Double(second))) }
        history.record(Self.position(9000), timeline: 1, at: Self.at(31))
        #expect(history.count == 2)
        #expect(
            history.firstWrite(after: Self.position(100)) == .within(after: Self.at(30), notLaterThan: Self.at(31)),
            "the burst happened after the last idle observation, not after the first")
        #expect(history.firstWrite(after: Self.position(9000)) == .none(asOf: Self.at(31)))
    }

    @Test func upkeepInTheLogIsNotAWrite() {
        // Replay paused at 100 (seen there at t=0…10); a checkpoint moves the log at t=13 with no
        // transaction; a transaction writes at t=30.
        var history = WALHistory()
        for second in 0...10 {
            history.record(Self.position(100), timeline: 1, nextTransaction: 7, at: Self.at(Double(second)))
        }
        for second in 13...29 {
            history.record(Self.position(180), timeline: 1, nextTransaction: 7, at: Self.at(Double(second)))
        }
        history.record(Self.position(9000), timeline: 1, nextTransaction: 8, at: Self.at(31))
        #expect(
            history.firstWrite(after: Self.position(100)) == .within(after: Self.at(10), notLaterThan: Self.at(31)),
            "at least from the transaction, at most from the checkpoint")
        // Without transaction ids, any log counts (the upper end is the same).
        var plain = WALHistory()
        plain.record(Self.position(100), timeline: 1, at: Self.at(10))
        plain.record(Self.position(180), timeline: 1, at: Self.at(13))
        #expect(plain.firstWrite(after: Self.position(100)) == .within(after: Self.at(10), notLaterThan: Self.at(13)))
    }

    @Test func aStepThatStraddlesThePositionDoesNotProveAWriteAfterIt() {
        var history = WALHistory()
        history.record(Self.position(100), timeline: 1, nextTransaction: 1, at: Self.at(0))
        history.record(Self.position(300), timeline: 1, nextTransaction: 2, at: Self.at(1))
        // Replayed to 200: the transaction between 100 and 300 may have been before 200.
        #expect(history.firstWrite(after: Self.position(200)) == .within(after: Self.at(0), notLaterThan: nil))
        history.record(Self.position(400), timeline: 1, nextTransaction: 3, at: Self.at(2))
        #expect(history.firstWrite(after: Self.position(200)) == .within(after: Self.at(0), notLaterThan: Self.at(2)))
        #expect(
            history.firstWrite(after: Self.position(100)) == .within(after: Self.at(0), notLaterThan: Self.at(1)),
            "a whole step beyond it")
    }

    @Test func positionsBeforeTheHistoryHaveOnlyALatestTime() {
        var history = WALHistory()
        history.record(Self.position(500), timeline: 1, at: Self.at(10))
        #expect(
            history.firstWrite(after: Self.position(100)) == .within(after: nil, notLaterThan: nil),
            "log beyond it is not proof of a write")
        history.record(Self.position(600), timeline: 1, at: Self.at(11))
        #expect(history.firstWrite(after: Self.position(100)) == .within(after: nil, notLaterThan: Self.at(11)))
        #expect(WALHistory().firstWrite(after: Self.position(0)) == .unknown)
    }

    @Test func readWindowsBracketTheRead() {
        var history = WALHistory()
        history.record(Self.position(100), timeline: 1, readBetween: Self.at(0)...Self.at(0.4))
        history.record(Self.position(200), timeline: 1, readBetween: Self.at(1)...Self.at(1.3))
        // At 1.0 the position was not yet past 100 for certain; by 1.3 it was 200.
        #expect(history.firstWrite(after: Self.position(100)) == .within(after: Self.at(0), notLaterThan: Self.at(1.3)))
        #expect(history.position(asOf: Self.at(1.2)) == Self.position(100))
        #expect(history.position(asOf: Self.at(1.3)) == Self.position(200))
        #expect(history.position(asOf: Self.at(-1)) == nil)
    }

    @Test func aNewTimelineOrABackwardsMoveStartsAgainAndLateReadsAreIgnored() {
        var history = WALHistory()
        history.record(Self.position(100), timeline: 1, at: Self.at(0))
        history.record(Self.position(200), timeline: 1, at: Self.at(1))
        history.record(Self.position(150), timeline: 1, at: Self.at(0.5))
        #expect(history.count == 2, "an observation older than the newest is ignored")
        history.record(Self.position(250), timeline: 2, at: Self.at(2))
        #expect(history.count == 1)
        #expect(history.timeline == 2)
        history.record(Self.position(10), timeline: 2, at: Self.at(3))
        #expect(history.count == 1)
        #expect(history.newest?.position == Self.position(10))
    }

    @Test func theHistoryIsBounded() {
        var history = WALHistory(capacity: 8)
        for index in 0..<100 {
            history.record(Self.position(UInt64(index) * 10), timeline: 1, at: Self.at(Double(index)))
        }
        #expect(history.count == 8)
        #expect(history.oldest?.position == Self.position(920))
        // Older than the oldest point kept: only a latest time is known.
        #expect(history.firstWrite(after: Self.position(5)) == .within(after: nil, notLaterThan: Self.at(93)))
    }
}

@Suite("Lag estimates")
struct LagEstimateTests {
    @Test func boundsAreClassifiedByWidthAgainstTheResolution() {
        #expect(LagEstimate(atLeast: 2, atMost: 3, resolution: 1.5).bound == .exact)
        #expect(LagEstimate(atLeast: 2, atMost: nil, resolution: 1.5).bound == .lower)
        #expect(LagEstimate(atLeast: 0, atMost: 32, resolution: 1.5).bound == .upper)
        #expect(LagEstimate(atLeast: 3, atMost: 32, resolution: 1.5).bound == .range)
        #expect(LagEstimate(atLeast: -4, atMost: -2, resolution: 0) == .caughtUp, "never negative")
    }

    @Test func theShownFigureIsTheLowerEndUnlessOnlyAnUpperBoundIsKnown() {
        #expect(LagEstimate(atLeast: 2, atMost: 3, resolution: 1.5).seconds == 2)
        #expect(LagEstimate(atLeast: 0.2, atMost: 32, resolution: 1.5).seconds == 32)
        #expect(LagEstimate(atLeast: 3, atMost: 32, resolution: 1.5).seconds == 3)
        #expect(LagEstimate(atLeast: 3, atMost: 32, resolution: 1.5).text == "3.0s–32.0s")
        #expect(LagEstimate(atLeast: 3, atMost: 32, resolution: 1.5).compactText == "≤32.0s")
        #expect(LagEstimate(atLeast: 10.6, atMost: nil, resolution: 1).text == "≥10.6s")
        #expect(LagEstimate(atLeast: 0, atMost: 15, resolution: 1).text == "≤15.0s")
        #expect(LagEstimate.caughtUp.text == "0s")
    }

    @Test func intersectingNarrowsAndTrustsTheUpperBoundOnConflict() {
        let history = LagEstimate(atLeast: 2, atMost: 40, resolution: 1.5)
        let commit = LagEstimate(atLeast: 0, atMost: 3, resolution: 0)
        #expect(history.intersected(with: commit) == LagEstimate(atLeast: 2, atMost: 3, resolution: 1.5))
        let contradicting = LagEstimate(atLeast: 5, atMost: nil, resolution: 0)
        #expect(commit.intersected(with: contradicting) == LagEstimate(atLeast: 3, atMost: 3, resolution: 0))
        #expect(
            LagEstimate(atLeast: 1, atMost: nil, resolution: 0).intersected(
                with: LagEstimate(atLeast: 4, atMost: nil, resolution: 2)
            ).atMost == nil)
    }

    @Test func comparingWithALimitUsesWhatIsKnown() {
        #expect(LagEstimate(atLeast: 31, atMost: nil, resolution: 1).certainlyExceeds(30))
        #expect(
            !LagEstimate(atLeast: 0, atMost: 45, resolution: 1).certainlyExceeds(30),
            "an upper bound past the RPO is not a breach")
        #expect(!LagEstimate(atLeast: 0, atMost: 45, resolution: 1).certainlyWithin(30), "nor a pass")
        #expect(
            !LagEstimate(atLeast: 29, atMost: 30.5, resolution: 1.5).certainlyWithin(30),
            "decisions use the bounds, never the shown figure")
        #expect(LagEstimate(atLeast: 29, atMost: 30, resolution: 1.5).certainlyWithin(30))
        #expect(
            !LagEstimate(atLeast: 30, atMost: 31, resolution: 1.5, likely: 30.9).certainlyExceeds(30),
            "a likely value past the limit is not a breach")
        #expect(!LagEstimate(atLeast: 1, atMost: nil, resolution: 1).certainlyWithin(30))
    }

    @Test func dataLossTextSaysWhatIsKnownAndWhatIsNot() {
        let now = Timestamp(secondsSinceEpoch: 1_800_000_041)
        let crash = DataLossEstimate(
            known: .caughtUp, knownBytes: 0, unknownAfter: Timestamp(secondsSinceEpoch: 1_800_000_000))
        #expect(crash.text(at: now) == "0s, 0B known; writes after 08:00:00 UTC (41s ago) unknown")
        #expect(
            DataLossEstimate(known: LagEstimate(atLeast: 0, atMost: 15, resolution: 1), knownBytes: 12_582_912).text(
                at: now) == "at most 15.0s, 12.0MiB known")
        #expect(DataLossEstimate.unknown.text(at: now) == "known loss unknown")
    }
}
