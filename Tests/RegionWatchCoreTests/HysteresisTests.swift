import Testing
@testable import RegionWatchCore

@Suite("Hysteresis")
struct HysteresisTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static func at(_ seconds: Double) -> Timestamp { t0.adding(seconds: seconds) }
    static let timing = HysteresisTiming(sustainSeconds: 10, recoverSeconds: 30)

    @Test func aWorseLevelWaitsOutTheSustainTime() {
        var levels = Hysteresis(levels: 3)
        #expect(levels.update(raw: 0, at: Self.at(0), timing: Self.timing) == 0)
        for second in 1...10 {
            #expect(levels.update(raw: 1, at: Self.at(Double(second)), timing: Self.timing) == 0, "at \(second)")
        }
        #expect(levels.update(raw: 1, at: Self.at(11), timing: Self.timing) == 1)
        #expect(levels.heldFor(level: 1, at: Self.at(11)) == 10)
    }

    @Test func aShortSpikeIsNeverPublished() {
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 0, at: Self.at(0), timing: Self.timing)
        for second in 1...9 { levels.update(raw: 2, at: Self.at(Double(second)), timing: Self.timing) }
        #expect(levels.update(raw: 0, at: Self.at(10), timing: Self.timing) == 0)
        #expect(levels.changes.isEmpty)
    }

    @Test func aBetterLevelWaitsOutTheRecoverTime() {
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 1, at: Self.at(0), timing: Self.timing)
        #expect(levels.published == 1, "the first verdict is published as it is")
        // Counted from the last observation at the worse level.
        for second in 1...29 {
            #expect(levels.update(raw: 0, at: Self.at(Double(second)), timing: Self.timing) == 1, "at \(second)")
        }
        #expect(levels.update(raw: 0, at: Self.at(30), timing: Self.timing) == 0)
    }

    @Test func aDipDuringRecoveryStartsTheWaitAgain() {
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 1, at: Self.at(0), timing: Self.timing)
        for second in 1...20 { levels.update(raw: 0, at: Self.at(Double(second)), timing: Self.timing) }
        levels.update(raw: 1, at: Self.at(21), timing: Self.timing)
        for second in 22...50 {
            #expect(levels.update(raw: 0, at: Self.at(Double(second)), timing: Self.timing) == 1, "at \(second)")
        }
        #expect(levels.update(raw: 0, at: Self.at(52), timing: Self.timing) == 0)
    }

    @Test func immediateLevelsArePublishedAtOnce() {
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 0, at: Self.at(0), timing: Self.timing)
        #expect(levels.update(raw: 2, immediate: 2, at: Self.at(1), timing: Self.timing) == 2)
        // Coming back still waits: an outage that ends is watched for the recover time.
        #expect(levels.update(raw: 0, at: Self.at(2), timing: Self.timing) == 2)
        #expect(levels.update(raw: 0, at: Self.at(32), timing: Self.timing) == 0)
    }

    @Test func fromDownItStepsDownToWhatStillHolds() {
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 2, at: Self.at(0), timing: Self.timing)
        for second in 1...31 { levels.update(raw: 1, at: Self.at(Double(second)), timing: Self.timing) }
        #expect(levels.published == 1)
    }

    @Test func aFlickeringThresholdDoesNotFlap() {
        // Item 8: a signal around its threshold, above and below every other second.
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 0, at: Self.at(0), timing: Self.timing)
        for second in 1...600 { levels.update(raw: second % 2, at: Self.at(Double(second)), timing: Self.timing) }
        #expect(levels.changes.isEmpty)
        #expect(levels.changeCount(within: 600, at: Self.at(600)) == 0)
        // Without hysteresis it would have changed 600 times.
        var immediate = Hysteresis(levels: 3)
        for second in 0...600 { immediate.update(raw: second % 2, at: Self.at(Double(second)), timing: .immediate) }
        #expect(immediate.changeCount(within: 1000, at: Self.at(600)) == immediate.changes.count)
        #expect(immediate.changes.count == 32, "the change log is bounded")
    }

    @Test func resetPublishesTheNextLevelAsItIs() {
        var levels = Hysteresis(levels: 3)
        levels.update(raw: 0, at: Self.at(0), timing: Self.timing)
        levels.reset()
        #expect(levels.published == nil)
        #expect(levels.update(raw: 2, at: Self.at(1), timing: Self.timing) == 2)
    }
}

@Suite("Health with hysteresis")
struct HealthHysteresisTests {
    typealias F = Fixture

    static func state() -> DashboardState {
        var state = F.stateWithHysteresis(first: F.sample(0))
        state.apply(.tick(F.at(0)))
        return state
    }

    @Test func aRegionLeavesOKOnlyAfterTheSustainTimeAndSaysWhatIsPending() {
        var state = Self.state()
        for second in 1...5 {
            state.apply(F.collector(Double(second)))
            state.apply(F.sample(Double(second), errorRate: 0.02))
            state.apply(.tick(F.at(Double(second))))
        }
        let pending = state.regions[0]
        #expect(pending.health == .ok)
        #expect(pending.rawAssessment.health == .degraded)
        #expect(pending.assessment.reasons == ["not yet DEGRADED (4s of 10s): error rate 2.0% ≥ 1.0%"])
        for second in 6...11 {
            state.apply(F.collector(Double(second)))
            state.apply(F.sample(Double(second), errorRate: 0.02))
            state.apply(.tick(F.at(Double(second))))
        }
        #expect(state.regions[0].health == .degraded)
        #expect(state.recentNotices.elements.filter { $0.message.hasPrefix("primary-1 OK → DEGRADED") }.count == 1)
        // Back under the threshold: DEGRADED, recovering, until 30 s have passed.
        for second in 12...40 {
            state.apply(F.collector(Double(second)))
            state.apply(F.sample(Double(second), errorRate: 0.001))
            state.apply(.tick(F.at(Double(second))))
        }
        #expect(state.regions[0].health == .degraded)
        #expect(state.regions[0].assessment.reasons.first == "recovering (29s of 30s within thresholds)")
        state.apply(F.collector(41))
        state.apply(F.sample(41, errorRate: 0.001))
        state.apply(.tick(F.at(41)))
        #expect(state.regions[0].health == .ok)
        #expect(state.recentNotices.elements.filter { $0.message == "primary-1 DEGRADED → OK" }.count == 1)
    }

    @Test func aRefusedConnectionIsDownAtOnce() {
        var state = Self.state()
        state.apply(
            .probe(
                ProbeResult(
                    region: "primary-1", source: "pg", observedAt: F.at(1), isSuccess: false, latencyMilliseconds: nil,
                    message: "PostgreSQL: connection refused", isDefinitive: true)))
        #expect(state.regions[0].health == .down)
        for second in 2...4 {
            state.apply(F.collector(Double(second)))
            state.apply(
                .probe(
                    ProbeResult(
                        region: "primary-1", source: "http", observedAt: F.at(Double(second)), isSuccess: false,
                        latencyMilliseconds: nil, message: "timed out")))
        }
        #expect(state.regions[0].health == .down)
    }
}

@Suite("Link states with hysteresis")
struct LinkStateHysteresisTests {
    typealias F = Fixture

    static func state() -> DashboardState { F.stateWithHysteresis(first: F.replication(0, lag: 0.5)) }

    static func observe(_ state: inout DashboardState, _ seconds: Double, _ link: ReplicationState) {
        state.apply(contentsOf: [
            F.collector(seconds), F.replication(seconds, lag: 0.5, state: link), .tick(F.at(seconds)),
        ])
    }

    @Test func streamingAndCatchingUpDoNotFlap() {
        var state = Self.state()
        for second in 1...120 { Self.observe(&state, Double(second), second % 3 == 0 ? .catchingUp : .streaming) }
        #expect(state.replicationLinks[0].state == .streaming)
        #expect(
            !state.recentNotices.elements.contains { $0.message.contains("catching-up") },
            "a state that never holds for 10 s is never published")
    }

    @Test func aStateThatHoldsIsPublishedOnceAndRecoversAfterTheRecoverTime() {
        var state = Self.state()
        for second in 1...11 { Self.observe(&state, Double(second), .paused) }
        #expect(state.replicationLinks[0].state == .paused)
        #expect(state.replicationLinks[0].rawState == .paused)
        for second in 12...40 { Self.observe(&state, Double(second), .streaming) }
        #expect(state.replicationLinks[0].state == .paused, "still within the recover time")
        Self.observe(&state, 41, .streaming)
        #expect(state.replicationLinks[0].state == .streaming)
        let notices = state.recentNotices.elements.map(\.message).filter {
            $0.hasPrefix("replication primary-1 → standby-1")
        }
        #expect(
            notices == [
                "replication primary-1 → standby-1: streaming → paused",
                "replication primary-1 → standby-1: paused → streaming",
            ])
    }

    @Test func brokenIsPublishedAtOnce() {
        var state = Self.state()
        Self.observe(&state, 1, .broken)
        #expect(state.replicationLinks[0].state == .broken)
    }
}

extension Fixture {
    /// The fixture's topology waiting 10 s before worse and 30 s before better, its collector
    /// announced and `first` applied at t0.
    static func stateWithHysteresis(first: DashboardEvent) -> DashboardState {
        var topology = topology
        topology.thresholds.hysteresis = HysteresisTiming(sustainSeconds: 10, recoverSeconds: 30)
        var state = DashboardState(topology: topology, now: t0)
        state.apply(collector(0))
        state.apply(first)
        return state
    }
}
