import Testing
@testable import RegionWatchCore

/// Paths found by reviewing the replication rules: partitions, assumed upstreams, quiet split
/// brain members, standbys nobody observes, cascades through an unreachable standby, timelines.
@Suite("Replication edge cases")
struct ReplicationEdgeCaseTests {
    typealias M = ReplicationModel

    static func state(_ events: [DashboardEvent], at seconds: Double) -> DashboardState {
        var state = M.freshState()
        state.apply(contentsOf: events + [.tick(M.at(seconds))])
        return state
    }

    static func writable(
        _ region: String, _ seconds: Double, at position: UInt64, timeline: Int = 1, read: ClosedRange<Double>? = nil
    ) -> DashboardEvent {
        let facts = ServerFacts(
            role: .writable, timeline: timeline, walPosition: WALPosition(offset: position),
            walPositionReadBetween: read.map { M.at($0.lowerBound)...M.at($0.upperBound) }
        )
        return .server(ServerSample(region: region, source: "pg-\(region)", observedAt: M.at(seconds), facts: facts))
    }

    static func standby(
        _ region: String, _ seconds: Double, at position: UInt64, receiver: WALReceiverFacts? = nil,
        configured: String? = nil, assumed: String? = nil, timeline: Int = 1
    ) -> DashboardEvent {
        let facts = ServerFacts(
            role: .recovering, timeline: timeline, walPosition: WALPosition(offset: position),
            receivedPosition: WALPosition(offset: position),
            receiver: receiver, configuredUpstream: configured, assumedUpstream: assumed
        )
        return .server(ServerSample(region: region, source: "pg-\(region)", observedAt: M.at(seconds), facts: facts))
    }

    static func listing(_ sender: String, _ standby: String, _ seconds: Double, at position: UInt64) -> DashboardEvent {
        .replication(
            ReplicationSample(
                from: sender, to: standby, source: "pg-\(sender)", observedAt: M.at(seconds), lagSeconds: nil,
                lagBytes: nil, state: .streaming,
                positions: StandbyPositions(
                    flushed: WALPosition(offset: position), replayed: WALPosition(offset: position))))
    }

    static func timeout(_ region: String, _ seconds: Double) -> DashboardEvent {
        .server(
            ServerSample(region: region, source: "pg-\(region)", observedAt: M.at(seconds), unreachable: "timed out"))
    }

    static func refused(_ region: String, _ seconds: Double) -> DashboardEvent {
        .server(
            ServerSample(
                region: region, source: "pg-\(region)", observedAt: M.at(seconds), unreachable: "connection refused",
                isRefused: true))
    }

    @Test func theConfigurationsAssumptionNeverOutranksWhatIsObserved() {
        // After a failover to eu-west-1, ap-southeast-1's settings cannot be read; the
        // configuration still assumes it follows us-east-1. eu-west-1 lists it.
        let state = Self.state(
            [
                Self.writable("eu-west-1", 1, at: 5000, timeline: 2),
                .server(
                    ServerSample(
                        region: "us-east-1", source: "pg-us-east-1", observedAt: M.at(1),
                        facts: ServerFacts(role: .fenced, timeline: 1, walPosition: WALPosition(offset: 4000)))),
                Self.standby("ap-southeast-1", 1, at: 5000, assumed: "us-east-1", timeline: 2),
                Self.listing("eu-west-1", "ap-southeast-1", 1, at: 5000),
            ], at: 1)
        #expect(state.upstream(of: "ap-southeast-1") == "eu-west-1")
        #expect(state.region(named: "ap-southeast-1")?.followingFormerPrimary == nil)
        #expect(!state.replicationLinks.contains { $0.from == "us-east-1" })
        // With nothing observed, the assumption is used.
        let alone = Self.state([Self.standby("ap-southeast-1", 1, at: 5000, assumed: "us-east-1")], at: 1)
        #expect(alone.upstream(of: "ap-southeast-1") == "us-east-1")
    }

    @Test func splitBrainStaysWhileAMemberIsQuietAndEndsWhenItIsSeenDown() {
        var state = M.freshState()
        state.apply(contentsOf: [
            Self.writable("us-east-1", 1, at: 100), Self.writable("eu-west-1", 1, at: 200, timeline: 2), .tick(M.at(1)),
        ])
        state.apply(contentsOf: [
            Self.writable("us-east-1", 2, at: 100), Self.writable("eu-west-1", 2, at: 200, timeline: 2), .tick(M.at(2)),
        ])
        #expect(state.primary.splitBrain?.regions == ["us-east-1", "eu-west-1"])
        // us-east-1 stops answering (a timeout): it may still take writes.
        for second in 3...6 {
            state.apply(contentsOf: [
                Self.timeout("us-east-1", Double(second)),
                Self.writable("eu-west-1", Double(second), at: 200, timeline: 2), .tick(M.at(Double(second))),
            ])
        }
        #expect(state.primary.splitBrain?.regions == ["us-east-1", "eu-west-1"], "silence is not resolution")
        #expect(
            state.primary.splitBrain?.message.hasSuffix("(us-east-1 not observed since \(M.at(2).utcTimeOfDay) UTC)")
                == true, "\(state.primary.splitBrain?.message ?? "")")
        #expect(state.region(named: "us-east-1")?.health == .down)
        #expect(!state.recentNotices.elements.contains { $0.message.hasPrefix("split brain over") })
        // Seen down (refused): a server that is not running takes no writes.
        state.apply(contentsOf: [
            Self.refused("us-east-1", 7), Self.writable("eu-west-1", 7, at: 200, timeline: 2), .tick(M.at(7)),
        ])
        #expect(state.primary.splitBrain == nil)
    }

    @Test func aSlowReadDuringASwitchoverRaisesNoFalseSplitBrain() {
        var state = M.freshState()
        state.apply(contentsOf: [Self.writable("us-east-1", 0, at: 100, read: 0...0.01), .tick(M.at(0))])
        // us-east-1 read writable between 1.0 and 1.01, then fenced; eu-west-1's round began at
        // 0.9 but read writable only at 1.5, after its promotion.
        state.apply(contentsOf: [
            Self.writable("us-east-1", 1, at: 100, read: 1...1.01),
            Self.writable("eu-west-1", 0.9, at: 100, timeline: 2, read: 0.9...1.5),
            .tick(M.at(1.5)),
        ])
        #expect(state.primary.splitBrain == nil, "us-east-1 was last seen writable before eu-west-1 was")
    }

    @Test func aStandbyNobodyObservesKeepsOnlyWhatStillHolds() {
        var model = M()
        var state = M.freshState()
        model.write(100, on: "us-east-1")
        for _ in 0..<3 { state.apply(contentsOf: model.step() + [.tick(M.at(model.now))]) }
        // eu-west-1 is cut off from regionwatch and from its primary: nobody observes it, and
        // for all regionwatch knows it may have caught up.
        model.servers["eu-west-1"]?.isObservable = false
        model.servers["eu-west-1"]?.isReceiving = false
        for _ in 0..<6 {
            model.write(5000, on: "us-east-1", fraction: 0.5)
            state.apply(contentsOf: model.step() + [.tick(M.at(model.now))])
        }
        let quiet = state.replicationLag(of: "eu-west-1")?.time
        #expect(quiet?.atLeast == 0, "it may have caught up")
        #expect(
            (quiet?.atMost ?? 0) >= model.trueLag(of: "eu-west-1") ?? .infinity,
            "\(String(describing: quiet)) vs \(String(describing: model.trueLag(of: "eu-west-1")))")
        // ap-southeast-1 is down (refused): it lacks everything written since.
        model.servers["ap-southeast-1"]?.isUp = false
        for _ in 0..<5 {
            model.write(5000, on: "us-east-1", fraction: 0.5)
            state.apply(contentsOf: model.step() + [.tick(M.at(model.now))])
        }
        let down = state.replicationLag(of: "ap-southeast-1")?.time
        #expect((down?.atLeast ?? 0) >= 3, "\(String(describing: down))")
        #expect((down?.atLeast ?? .infinity) <= 5, "never more than the truth: \(String(describing: down))")
    }

    @Test func aCascadeThroughAStandbyNotObservedNowStillEndsAtThePrimary() {
        var model = M()
        var state = M.freshState()
        model.repoint("ap-southeast-1", to: "eu-west-1")
        for _ in 0..<3 {
            model.write(100, on: "us-east-1")
            state.apply(contentsOf: model.step() + [.tick(M.at(model.now))])
        }
        model.servers["eu-west-1"]?.isObservable = false
        for _ in 0..<3 {
            model.write(100, on: "us-east-1")
            state.apply(contentsOf: model.step() + [.tick(M.at(model.now))])
        }
        #expect(state.region(named: "eu-west-1")?.role == .unknown)
        #expect(state.writeSource(of: "ap-southeast-1") == "us-east-1")
        #expect(state.region(named: "ap-southeast-1")?.followingFormerPrimary == nil, "eu-west-1 was never a primary")
    }

    @Test func aStandbyLeftOnAnOlderTimelineIsFlaggedAndGetsNoUpperBound() {
        let state = Self.state(
            [
                Self.writable("eu-west-1", 1, at: 9000, timeline: 2),
                Self.standby(
                    "ap-southeast-1", 1, at: 9500, receiver: WALReceiverFacts(status: "waiting", upstream: "eu-west-1"),
                    timeline: 1),
                .replication(
                    ReplicationSample(
                        from: "eu-west-1", to: "ap-southeast-1", source: "pg-ap-southeast-1", observedAt: M.at(1),
                        lagSeconds: nil, lagBytes: nil, state: .catchingUp,
                        positions: StandbyPositions(
                            flushed: WALPosition(offset: 9500), replayed: WALPosition(offset: 9500)))),
            ], at: 1)
        #expect(
            state.region(named: "ap-southeast-1")?.followingFormerPrimary?.hasPrefix(
                "on timeline 1, not on primary eu-west-1's timeline 2") == true,
            "\(String(describing: state.region(named: "ap-southeast-1")?.followingFormerPrimary))")
        #expect(
            state.replicationLag(of: "ap-southeast-1")?.time?.atMost == nil,
            "past the fork its positions are not the primary's")
    }

    @Test func dataLossWithAPrimaryNeverSeenIsUnknownAndTheSendersEndCounts() {
        let never = Self.state(
            [
                Self.refused("us-east-1", 1),
                Self.standby("eu-west-1", 1, at: 5000, configured: "us-east-1"),
                .replication(
                    ReplicationSample(
                        from: "us-east-1", to: "eu-west-1", source: "pg-eu-west-1", observedAt: M.at(1),
                        lagSeconds: nil, lagBytes: nil, state: .broken,
                        positions: StandbyPositions(
                            flushed: WALPosition(offset: 5000), replayed: WALPosition(offset: 5000)))),
            ], at: 1)
        let unknown = never.dataLoss(promoting: "eu-west-1")
        #expect(unknown.known == nil && unknown.knownBytes == nil)
        let (gates, _) = FailoverGates.evaluate(
            kind: .failover, target: "eu-west-1", in: never, context: FailoverGateContext())
        #expect(
            gates.first { $0.gate == .lagWithinRPO }?.measured
                == "data loss of eu-west-1 unknown (us-east-1 has not been observed) vs RPO 10s")

        // The standby heard of writes the primary made after regionwatch last saw it.
        func own(_ seconds: Double) -> DashboardEvent {
            .replication(
                ReplicationSample(
                    from: "us-east-1", to: "eu-west-1", source: "pg-eu-west-1", observedAt: M.at(seconds),
                    lagSeconds: nil, lagBytes: nil, state: .streaming,
                    positions: StandbyPositions(flushed: WALPosition(offset: 5000), replayed: WALPosition(offset: 5000))
                ))
        }
        var state = M.freshState()
        state.apply(contentsOf: [
            Self.writable("us-east-1", 1, at: 5000),
            Self.standby(
                "eu-west-1", 1, at: 5000, receiver: WALReceiverFacts(status: "streaming", upstream: "us-east-1")),
            own(1), .tick(M.at(1)),
        ])
        state.apply(contentsOf: [
            Self.refused("us-east-1", 2),
            Self.standby(
                "eu-west-1", 3, at: 5000,
                receiver: WALReceiverFacts(
                    status: "streaming", upstream: "us-east-1", senderEnd: WALPosition(offset: 8000),
                    senderEndAt: M.at(2.5))),
            own(3),
            .tick(M.at(3)),
        ])
        let loss = state.dataLoss(promoting: "eu-west-1")
        #expect(loss.knownBytes == 3000, "what the sender said it had beyond what the standby flushed")
        #expect(
            loss.known.map { $0.atLeast <= 0.0001 && ($0.atMost ?? 0) >= 1.4 } == true,
            "written between 1 s and 2.5 s: \(String(describing: loss.known))")
        #expect(loss.unknownAfter == M.at(1))
    }

    @Test func anAbsenceClaimIsNotNewsAboutTheStandby() {
        var state = M.freshState()
        state.apply(contentsOf: [Self.writable("us-east-1", 1, at: 100), .tick(M.at(1))])
        for second in 2...20 {
            state.apply(contentsOf: [
                Self.writable("us-east-1", Double(second), at: 100),
                .replication(
                    ReplicationSample(
                        from: "us-east-1", to: "eu-west-1", source: "pg-us-east-1", observedAt: M.at(Double(second)),
                        lagSeconds: nil, lagBytes: nil, state: .broken, isExpectationOnly: true)),
                .tick(M.at(Double(second))),
            ])
        }
        #expect(state.region(named: "eu-west-1")?.health == .stale, "nobody has seen eu-west-1 itself")
    }
}

extension ReplicationEdgeCaseTests {
    @Test func aFencedServerThatIsWrittenToAnywayIsPartOfSplitBrain() {
        func fenced(_ seconds: Double, transaction: UInt64, rows: UInt64) -> DashboardEvent {
            .server(
                ServerSample(
                    region: "us-east-1", source: "pg-us-east-1", observedAt: M.at(seconds),
                    facts: ServerFacts(
                        role: .fenced, timeline: 1, walPosition: WALPosition(offset: 100), nextTransaction: transaction,
                        tableRowChanges: rows
                    )))
        }
        var state = M.freshState()
        state.apply(contentsOf: [
            fenced(1, transaction: 500, rows: 7000), Self.writable("eu-west-1", 1, at: 200, timeline: 2),
            .tick(M.at(1)),
        ])
        state.apply(contentsOf: [
            fenced(2, transaction: 500, rows: 7000), Self.writable("eu-west-1", 2, at: 200, timeline: 2),
            .tick(M.at(2)),
        ])
        #expect(state.primary.splitBrain == nil, "fenced and quiet: one primary")
        #expect(state.region(named: "us-east-1")?.role == .fenced)
        // Autovacuum analyzes a table: a transaction id, no table row changed.
        state.apply(contentsOf: [
            fenced(3, transaction: 501, rows: 7000), Self.writable("eu-west-1", 3, at: 200, timeline: 2),
            .tick(M.at(3)),
        ])
        #expect(state.primary.splitBrain == nil, "an ANALYZE on a fenced server is not a write")
        #expect(state.region(named: "us-east-1")?.assessment.reasons.contains { $0.contains("yet") } == false)
        // A session overrides the read-only default and writes.
        state.apply(contentsOf: [
            fenced(4, transaction: 502, rows: 7001), Self.writable("eu-west-1", 4, at: 200, timeline: 2),
            .tick(M.at(4)),
        ])
        state.apply(contentsOf: [
            fenced(5, transaction: 502, rows: 7001), Self.writable("eu-west-1", 5, at: 200, timeline: 2),
            .tick(M.at(5)),
        ])
        #expect(state.primary.splitBrain?.regions == ["us-east-1", "eu-west-1"])
        #expect(
            state.primary.splitBrain?.message
                == "split brain: us-east-1 and eu-west-1 both accept writes (us-east-1 is fenced, yet written to since \(M.at(4).utcTimeOfDay) UTC)"
        )
        #expect(state.primary.current == "eu-west-1")
    }

    @Test func aServerNeverReachedHasNoLastKnownRole() {
        let state = Self.state([Self.refused("us-east-1", 1), Self.writable("eu-west-1", 1, at: 100)], at: 1)
        #expect(state.region(named: "us-east-1")?.role == .unknown)
        #expect(
            state.region(named: "us-east-1")?.lastKnownRole == nil, "its configured role is a guess, not something seen"
        )
        #expect(
            state.recentNotices.elements.contains {
                $0.message == "us-east-1 role unknown: its server cannot be observed (never reached)"
            })
    }
}
