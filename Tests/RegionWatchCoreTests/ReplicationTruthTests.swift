import Testing
@testable import RegionWatchCore

/// Issue 9's paths, on the replication model: what the dashboard says against the model's own
/// truth (the commit time of the oldest write each standby has not replayed).
@Suite("Replication truth on incident paths")
struct ReplicationTruthTests {
    typealias M = ReplicationModel

    /// Runs `steps` seconds of the model into `state`, checking `each` after every step.
    static func run(
        _ model: inout M, _ state: inout DashboardState, steps: Int, each: (M, DashboardState) -> Void = { _, _ in }
    ) {
        for _ in 0..<steps {
            state.apply(contentsOf: model.step())
            state.apply(.tick(M.at(model.now)))
            each(model, state)
        }
    }

    /// The shown reading brackets the truth: never above it when exact or a lower bound, never
    /// below it when an upper bound is known.
    static func expectSound(
        _ reading: ReplicationReading?, truth: Double?, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let time = reading?.time, let truth else {
            Issue.record(
                "no reading (\(String(describing: reading))) or no truth (\(String(describing: truth)))",
                sourceLocation: sourceLocation)
            return
        }
        #expect(
            time.atLeast <= truth + 1e-6, "\(time) claims more than the truth \(truth). \(comment?.description ?? "")",
            sourceLocation: sourceLocation)
        if let atMost = time.atMost {
            #expect(
                atMost >= truth - 1e-6, "\(time) claims less than the truth \(truth). \(comment?.description ?? "")",
                sourceLocation: sourceLocation)
        }
    }

    @Test func idleTimeBeforeAPauseIsNotLag() {
        var model = M()
        var state = M.freshState()
        model.write(200, on: "us-east-1")
        Self.run(&model, &state, steps: 30)
        model.servers["eu-west-1"]?.isPaused = true
        model.write(10_000_000, on: "us-east-1", fraction: 0.2)
        Self.run(&model, &state, steps: 3)
        let reading = state.replicationLag(of: "eu-west-1")
        let truth = model.trueLag(of: "eu-west-1")
        #expect(abs((truth ?? 0) - 2.8) < 1e-9)
        #expect(reading?.time?.bound == .exact)
        #expect(
            abs((reading?.time?.seconds ?? 99) - 2.8) <= 1,
            "\(String(describing: reading)); 33 s of idle time before the pause are not lag")
        Self.expectSound(reading, truth: truth)
        #expect(reading?.bytesNotReceived == 0, "received, not replayed")
        #expect(reading?.bytesNotReplayed == 10_000_000)
        let standby = state.region(named: "eu-west-1")
        #expect(standby?.health == .ok, "\(String(describing: standby?.assessment))")
        // Everything was received: promoting it now loses nothing.
        let (gates, loss) = FailoverGates.evaluate(
            kind: .switchover, target: "eu-west-1", in: state, context: FailoverGateContext())
        #expect(loss.knownBytes == 0)
        #expect(gates.first { $0.gate == .lagWithinRPO }?.passed == true, "\(gates)")
    }

    @Test func steadyWritesKeepAnExactSmallLag() {
        var model = M()
        var state = M.freshState()
        for _ in 0..<20 {
            model.write(4096, on: "us-east-1", fraction: 0.3)
            Self.run(&model, &state, steps: 1) { model, state in
                for standby in ["eu-west-1", "ap-southeast-1"] {
                    Self.expectSound(
                        state.replicationLag(of: standby), truth: model.trueLag(of: standby),
                        "\(standby) at \(model.now)")
                }
            }
        }
        #expect(state.replicationLag(of: "eu-west-1")?.time?.bound == .exact)
        #expect(state.regions.allSatisfy { $0.health == .ok })
    }

    @Test func aCrashWithCaughtUpStandbysLosesNothingKnown() {
        var model = M()
        var state = M.freshState()
        model.write(5000, on: "us-east-1")
        Self.run(&model, &state, steps: 5)
        let lastSeen = M.at(model.now)
        model.servers["us-east-1"]?.isUp = false
        Self.run(&model, &state, steps: 40)
        let loss = state.dataLoss(promoting: "eu-west-1")
        #expect(loss.knownBytes == 0)
        #expect(loss.known?.bound == .exact && loss.known?.seconds == 0, "\(String(describing: loss.known))")
        #expect(loss.unknownAfter == lastSeen, "what the primary wrote after it was last seen is unknown")
        #expect(loss.text(at: state.now) == "0s, 0B known; writes after \(lastSeen.utcTimeOfDay) UTC (40s ago) unknown")
        let (gates, _) = FailoverGates.evaluate(
            kind: .failover, target: "eu-west-1", in: state, context: FailoverGateContext())
        let lagGate = gates.first { $0.gate == .lagWithinRPO }
        #expect(lagGate?.passed == true, "40 s since the link broke is not data loss: \(String(describing: lagGate))")
        #expect(lagGate?.measured.contains("0B known; writes after") == true)
        #expect(FailoverGates.kind(from: FailoverGates.currentPrimary(in: state), in: state) == .failover)
        #expect(FailoverGates.currentPrimary(in: state) == "us-east-1", "the last known primary")
        let reasons = state.region(named: "eu-west-1")?.assessment.reasons ?? []
        #expect(!reasons.contains { $0.contains("exceeds RPO") }, "\(reasons)")
        #expect(state.region(named: "us-east-1")?.role == .unknown)
        #expect(state.region(named: "us-east-1")?.lastKnownRole == .primary)
        #expect(state.replicationLag(of: "eu-west-1")?.compactText == "0s+?")
    }

    @Test func aCrashWithAStandbyBehindKnowsExactlyWhatItLacks() {
        var model = M()
        var state = M.freshState()
        Self.run(&model, &state, steps: 3)
        model.servers["ap-southeast-1"]?.isReceiving = false
        model.write(10_000_000, on: "us-east-1", fraction: 0.5)
        Self.run(&model, &state, steps: 4)
        let behindSince = model.commits[1]!.last!.at
        model.servers["us-east-1"]?.isUp = false
        Self.run(&model, &state, steps: 20)
        let loss = state.dataLoss(promoting: "ap-southeast-1")
        #expect(loss.knownBytes == 10_000_000)
        // The lost writes span from the first one it lacks to the last observation of the primary.
        let span = (loss.known?.atLeast ?? -1)...(loss.known?.atMost ?? -1)
        #expect(span.contains(3.5), "lost writes from t=\(behindSince) to the last observation at t=7: \(span)")
        #expect(state.dataLoss(promoting: "eu-west-1").knownBytes == 0)
    }

    @Test func theOldPrimaryBackAfterAPromotionIsSplitBrainAndItsStandbyIsFlagged() {
        var model = M()
        var state = M.freshState()
        model.write(100, on: "us-east-1")
        Self.run(&model, &state, steps: 3)
        model.servers["us-east-1"]?.isUp = false
        Self.run(&model, &state, steps: 3)
        model.promote("eu-west-1")
        Self.run(&model, &state, steps: 3)
        #expect(state.primary.current == "eu-west-1")
        #expect(state.primary.splitBrain == nil)
        // The old primary restarts, writable on timeline 1; ap-southeast-1 reconnects to it.
        model.servers["us-east-1"]?.isUp = true
        var alarmedAfter: Int?
        for step in 1...2 {
            Self.run(&model, &state, steps: 1)
            if alarmedAfter == nil, state.primary.splitBrain != nil { alarmedAfter = step }
        }
        #expect(alarmedAfter == 1, "within one collection round")
        #expect(state.primary.splitBrain?.regions == ["us-east-1", "eu-west-1"])
        #expect(state.primary.splitBrain?.message == "split brain: us-east-1 and eu-west-1 both accept writes")
        for region in ["us-east-1", "eu-west-1"] {
            #expect(state.region(named: region)?.health == .down, "at once, whatever the sustain time")
            #expect(
                state.region(named: region)?.assessment.reasons.first
                    == "split brain: us-east-1 and eu-west-1 both accept writes")
        }
        #expect(state.primary.current == "eu-west-1", "the newest timeline")
        #expect(
            state.recentNotices.elements.contains {
                $0.message == "SPLIT BRAIN: split brain: us-east-1 and eu-west-1 both accept writes"
                    && $0.severity == .critical
            })
        Self.run(&model, &state, steps: 3)
        #expect(
            state.region(named: "ap-southeast-1")?.followingFormerPrimary
                == "following former primary us-east-1, timeline 1; primary eu-west-1 is on timeline 2")
        #expect(state.region(named: "ap-southeast-1")?.health == .degraded)
        // Fenced at last: the alarm ends.
        model.fence("us-east-1")
        Self.run(&model, &state, steps: 2)
        #expect(state.primary.splitBrain == nil)
        #expect(
            state.recentNotices.elements.contains {
                $0.message == "split brain over: only eu-west-1 is seen accepting writes"
            })
    }

    @Test func aFencedFormerPrimaryIsFencedNotAPrimaryAndLinksEndWithoutDegradingAnyone() {
        var model = M()
        var state = M.freshState()
        model.write(100, on: "us-east-1")
        Self.run(&model, &state, steps: 5)
        var reasonsSeen: [String] = []
        let collect: (M, DashboardState) -> Void = { _, state in
            for region in ["eu-west-1", "ap-southeast-1"] {
                reasonsSeen += state.region(named: region)?.rawAssessment.reasons ?? []
            }
        }
        model.fence("us-east-1")
        Self.run(&model, &state, steps: 2, each: collect)
        #expect(state.region(named: "us-east-1")?.role == .fenced)
        #expect(state.primary.current == nil)
        #expect(FailoverGates.currentPrimary(in: state) == "us-east-1", "the last known primary, fenced")
        model.promote("eu-west-1")
        model.repoint("ap-southeast-1", to: "eu-west-1")
        Self.run(&model, &state, steps: 2, each: collect)
        #expect(state.primary.current == "eu-west-1")
        #expect(
            FailoverGates.currentPrimary(in: state) == "eu-west-1",
            "a failback goes eu-west-1 → us-east-1, never us-east-1 → us-east-1")
        #expect(state.regions.filter { $0.role == .primary }.map(\.name) == ["eu-west-1"])
        #expect(
            state.region(named: "us-east-1")?.assessment.reasons.contains {
                $0.hasPrefix("fenced: transactions are read-only by default")
            } == true)
        Self.run(&model, &state, steps: 6, each: collect)
        let links = state.replicationLinks.map { "\($0.from)→\($0.to)" }.sorted()
        #expect(
            links == ["eu-west-1→ap-southeast-1"],
            "links from the fenced server end once nobody observes them: \(links)")
        let ended = state.recentNotices.elements.filter { $0.message.contains("ended") }.map(\.message)
        #expect(ended.count == 2, "\(ended)")
        #expect(!reasonsSeen.contains { $0.contains("replication lag") }, "no ghost lag ever: \(Set(reasonsSeen))")
        Self.expectSound(state.replicationLag(of: "ap-southeast-1"), truth: model.trueLag(of: "ap-southeast-1"))
    }

    @Test func aOneShotLookMarksWhatItCannotKnowAsABound() {
        var model = M()
        var history = M.freshState()
        model.write(100, on: "us-east-1")
        Self.run(&model, &history, steps: 2)
        model.servers["eu-west-1"]?.isPaused = true
        for _ in 0..<15 {
            model.write(8192, on: "us-east-1", fraction: 0.1)
            Self.run(&model, &history, steps: 1)
        }
        // A fresh look sees only the last two rounds.
        var look = M.freshState()
        for _ in 0..<2 {
            model.write(8192, on: "us-east-1", fraction: 0.1)
            Self.run(&model, &look, steps: 1)
        }
        let reading = look.replicationLag(of: "eu-west-1")
        #expect(reading?.time?.bound != .exact, "\(String(describing: reading))")
        Self.expectSound(reading, truth: model.trueLag(of: "eu-west-1"))
        #expect((reading?.time?.atMost ?? 0) >= 16, "the last replayed commit bounds it from above")
        // A standby watched alone (no view of the primary) still gives bounds, never nothing.
        var alone = M.freshState()
        for _ in 0..<2 {
            model.write(8192, on: "us-east-1", fraction: 0.1)
            let events = model.step().filter { event in
                if case .server(let sample) = event { return sample.region == "eu-west-1" }
                if case .replication(let sample) = event { return sample.source == "pg-eu-west-1" }
                return false
            }
            alone.apply(contentsOf: events)
            alone.apply(.tick(M.at(model.now)))
        }
        let own = alone.replicationLag(of: "eu-west-1")
        #expect(own?.time != nil, "the standby's own view while paused is never blank")
        Self.expectSound(own, truth: model.trueLag(of: "eu-west-1"))
    }

    @Test func aCascadingStandbyIsALegitimateLink() {
        var model = M()
        var state = M.freshState()
        model.repoint("ap-southeast-1", to: "eu-west-1")
        for _ in 0..<8 {
            model.write(1000, on: "us-east-1", fraction: 0.4)
            Self.run(&model, &state, steps: 1)
        }
        #expect(state.upstream(of: "ap-southeast-1") == "eu-west-1")
        #expect(state.writeSource(of: "ap-southeast-1") == "us-east-1")
        #expect(state.region(named: "ap-southeast-1")?.followingFormerPrimary == nil)
        #expect(state.region(named: "ap-southeast-1")?.health == .ok)
        #expect(
            state.inboundLinks(of: "ap-southeast-1").first.map { "\($0.from)→\($0.to)" } == "eu-west-1→ap-southeast-1")
        Self.expectSound(state.replicationLag(of: "ap-southeast-1"), truth: model.trueLag(of: "ap-southeast-1"))
        Self.run(&model, &state, steps: 5)
        #expect(
            state.replicationLinks.contains { $0.from == "us-east-1" && $0.to == "ap-southeast-1" } == false,
            "the old direct link ended")
    }
}
