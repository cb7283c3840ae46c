import Testing
@testable import RegionWatchCore

/// The machine's re-checks, the recorded loss, timers, the not-fenced notice and pause.
@Suite("Failover machine: re-checks, record, timers, notices")
struct FailoverSafetyMachineTests {
    typealias M = FailoverMachineTests
    static let red = FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "data loss 31.0s vs RPO 30s")

    /// A machine whose attempt was confirmed with passing gates (about to run step 1).
    static func confirmed(_ request: FailoverRequest = M.request()) -> FailoverMachine {
        var machine = FailoverMachine()
        _ = machine.handle(.start(request, at: M.at(0)))
        _ = machine.handle(.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(1)))
        _ = machine.handle(.confirm(typedTarget: "eu-west-1", reason: "go", at: M.at(2)))
        return machine
    }

    @Test func gatesShownWhileConfirmingAreTheOnesConfirmationUses() {
        var machine = FailoverMachine()
        _ = machine.handle(.start(M.request(), at: M.at(0)))
        _ = machine.handle(.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(1)))
        #expect(machine.handle(.gatesEvaluated([M.passing[0], Self.red], dataLoss: .unknown, at: M.at(2))).isEmpty)
        #expect(machine.state == .awaitingConfirmation)
        #expect(machine.attempt?.gates.last == Self.red, "the dialog shows it red")
        let actions = machine.handle(.confirm(typedTarget: "eu-west-1", reason: "go", at: M.at(3)))
        #expect(machine.state == .refused)
        #expect(!actions.contains(.runStep(0)), "nothing runs")
        guard case .audit(.finished(let attempt, .refused))? = actions.first else {
            Issue.record("no refusal record: \(actions)")
            return
        }
        #expect(attempt.gates.last == Self.red)
    }

    @Test func aRedRecheckBlocksTheStepAndEndsTheAttempt() {
        var machine = Self.confirmed()
        _ = machine.handle(.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(3)))
        _ = machine.handle(.stepStarted(index: 0, at: M.at(3)))
        _ = machine.handle(.stepFinished(index: 0, outcome: .succeeded, output: "", at: M.at(4)))
        let actions = machine.handle(
            .gatesEvaluated([Self.red], dataLoss: DataLossEstimate(known: .exact(31), knownBytes: 10), at: M.at(5)))
        #expect(machine.state == .failed)
        #expect(machine.attempt?.steps.map(\.outcome) == [.succeeded, .blocked, .skipped])
        #expect(
            machine.attempt?.steps[1].output == "stopped before this step: lag-within-rpo: data loss 31.0s vs RPO 30s")
        #expect(
            actions.first
                == .audit(
                    .gatesRechecked(
                        id: "f1", index: 1, gates: [Self.red],
                        dataLoss: DataLossEstimate(known: .exact(31), knownBytes: 10))))
        #expect(machine.attempt?.recordedDataLoss == nil, "the promotion never ran")

        // Forced up front, the same verdict lets the step run, with the reason attached.
        var forced = Self.confirmed(M.request(forced: [.lagWithinRPO: "accept"]))
        let allowed = forced.handle(.gatesEvaluated([Self.red], dataLoss: .unknown, at: M.at(3)))
        #expect(forced.state == .executing(step: 0, of: 3))
        guard case .audit(.gatesRechecked(_, _, let gates, _))? = allowed.first else {
            Issue.record("\(allowed)")
            return
        }
        #expect(gates.first?.forcedReason == "accept")
    }

    @Test func theLossIsRecordedOnlyOnceAPromotionSucceeded() {
        var machine = FailoverMachine()
        _ = machine.handle(.start(M.request(), at: M.at(0)))
        _ = machine.handle(
            .gatesEvaluated(M.passing, dataLoss: DataLossEstimate(known: .exact(5), knownBytes: 500), at: M.at(1)))
        _ = machine.handle(.confirm(typedTarget: "eu-west-1", reason: "go", at: M.at(2)))
        _ = machine.handle(.stepStarted(index: 0, at: M.at(3)))
        _ = machine.handle(.stepFinished(index: 0, outcome: .succeeded, output: "", at: M.at(4)))
        #expect(machine.attempt?.recordedDataLoss == nil)
        let caughtUp = DataLossEstimate(known: .exact(0), knownBytes: 0)
        _ = machine.handle(.gatesEvaluated(M.passing, dataLoss: caughtUp, at: M.at(5)))
        _ = machine.handle(.stepStarted(index: 1, at: M.at(5)))
        _ = machine.handle(.stepFinished(index: 1, outcome: .succeeded, output: "", at: M.at(6)))
        #expect(machine.attempt?.recordedDataLoss == caughtUp, "measured at promotion, not at the dialog")
    }

    @Test func timersAreNeverNegativeNorBehindTheFinishedSteps() {
        var attempt = FailoverAttempt(request: M.request(), requestedAt: M.at(0))
        attempt.confirmedAt = M.at(10)
        attempt.steps[0].startedAt = M.at(10.2)
        attempt.steps[0].endedAt = M.at(11.2)
        attempt.steps[1].startedAt = M.at(11.3)
        // The screen's clock is a moment behind the coordinator's.
        let screenNow = M.at(10.9)
        #expect(attempt.steps[1].seconds(at: screenNow) == 0)
        let rto = attempt.measuredRTO(at: screenNow) ?? -1
        #expect(rto >= 1.0, "at least step 1's second: \(rto)")
        #expect(rto >= (attempt.steps[0].seconds(at: screenNow) ?? 0))
        #expect(abs(rto - 1.3) < 1e-6, "up to the newest step time: \(rto)")
    }

    @Test func anUnfencedOldPrimaryStaysNoticedUntilSeenFencedOrInRecovery() {
        var state = Fixture.healthyState(at: 0)
        var machine = FailoverMachine()
        let steps = [
            FailoverPlanStep(name: "fence", action: .postgresFence(dsns: [:])),
            FailoverPlanStep(name: "promote", action: .postgresPromote(dsns: [:])),
        ]
        let request = FailoverRequest(
            id: "f9", kind: .failover, from: "primary-1", to: "standby-1", operatorName: "ops@host", steps: steps)
        _ = machine.handle(.start(request, at: Fixture.at(1)))
        _ = machine.handle(.gatesEvaluated([], dataLoss: .unknown, at: Fixture.at(1)))
        _ = machine.handle(.confirm(typedTarget: "standby-1", reason: "down", at: Fixture.at(1)))
        _ = machine.handle(.stepStarted(index: 0, at: Fixture.at(1)))
        _ = machine.handle(
            .stepFinished(index: 0, outcome: .warning, output: "not fenced: unreachable", at: Fixture.at(2)))
        #expect(machine.state == .executing(step: 1, of: 2), "a warning lets the plan go on")
        _ = machine.handle(.stepStarted(index: 1, at: Fixture.at(2)))
        _ = machine.handle(.stepFinished(index: 1, outcome: .succeeded, output: "", at: Fixture.at(3)))
        #expect(machine.state == .completed)
        #expect(machine.attempt?.hasWarnings == true)
        state.apply(.failoverProgress(FailoverProgress(machine: machine)))
        #expect(state.failover.notFenced.map(\.region) == ["primary-1"])
        // Still there after acknowledging the dialog, and after ticks.
        _ = machine.handle(.acknowledge)
        state.apply(.failoverProgress(FailoverProgress(machine: machine)))
        state.apply(.tick(Fixture.at(5)))
        #expect(state.failover.notFenced.map(\.region) == ["primary-1"])
        // Seen fenced: the notice goes, and a history re-read does not bring it back.
        state.apply(
            .server(
                ServerSample(
                    region: "primary-1", source: "pg", observedAt: Fixture.at(6),
                    facts: ServerFacts(role: .fenced, timeline: 1, walPosition: WALPosition(offset: 9)))))
        state.apply(.tick(Fixture.at(6)))
        #expect(state.failover.notFenced.isEmpty)
        let record = FailoverRecordSummary(
            id: "f9", at: Fixture.at(3), kind: "failover", from: "primary-1", to: "standby-1", state: "completed",
            measuredRTOSeconds: 2, dataLoss: nil, operatorName: "ops@host", reason: "down", failedGates: [], steps: []
        ).noting(notFenced: "primary-1")
        state.apply(.failoverHistory(FailoverHistorySummary(recent: [record]), isReadOnly: false))
        #expect(state.failover.notFenced.isEmpty)
        // A fresh dashboard reading the same history while it is still writable shows it.
        var fresh = Fixture.healthyState(at: 0)
        fresh.apply(.failoverHistory(FailoverHistorySummary(recent: [record]), isReadOnly: false))
        #expect(fresh.failover.notFenced.map(\.region) == ["primary-1"])
    }

    @Test func aPausedDisplayStillShowsTheLiveAttempt() {
        let frozen = Fixture.healthyState(at: 0)
        var live = frozen
        var machine = FailoverMachine()
        _ = machine.handle(.start(M.request(), at: M.at(0)))
        live.apply(.failoverProgress(FailoverProgress(machine: machine)))
        live.apply(.tick(Fixture.at(30)))
        let shown = frozen.showingFailover(of: live)
        #expect(shown.failover.machine.state == .preflight)
        #expect(shown.now == frozen.now, "the rest stays frozen")
    }

    @Test func gatesReadOnlyTheFactsTheyAreGiven() {
        let t = M.at(0)
        let facts = FailoverFacts(
            now: t, rpoSeconds: 30, configuredPrimary: "us-east-1",
            regions: [
                "eu-west-1": .init(
                    role: .standby, health: .degraded, reasons: ["replication from us-east-1 broken"],
                    dataAgeSeconds: 1, dataLoss: DataLossEstimate(known: .exact(2), knownBytes: 100)),
                "ap-southeast-1": .init(
                    role: .standby, health: .ok, dataAgeSeconds: 1, dataLoss: .unknown,
                    unknownLossReason: "us-east-1 has not been observed"),
            ])
        let (eu, loss) = FailoverGates.evaluate(
            kind: .failover, target: "eu-west-1", facts: facts, context: FailoverGateContext())
        #expect(
            eu.first { $0.gate == .targetHealthy }?.passed == true,
            "a broken link from the old primary is why it is a failover")
        #expect(eu.first { $0.gate == .lagWithinRPO }?.passed == true)
        #expect(loss.knownBytes == 100)
        let (ap, _) = FailoverGates.evaluate(
            kind: .failover, target: "ap-southeast-1", facts: facts, context: FailoverGateContext())
        #expect(
            ap.first { $0.gate == .lagWithinRPO }?.measured
                == "data loss of ap-southeast-1 unknown (us-east-1 has not been observed) vs RPO 30s")
        let (failback, _) = FailoverGates.evaluate(
            kind: .failback, target: "eu-west-1", facts: facts, context: FailoverGateContext())
        #expect(
            failback.first { $0.gate == .rejoined }?.measured == "failback returns the role to us-east-1, not eu-west-1"
        )
    }

    @Test func factsFromTheStateAreWhatTheStateSays() {
        let state = Fixture.healthyState(at: 0)
        let facts = FailoverFacts(state)
        #expect(facts.regions["standby-1"]?.dataLoss == state.dataLoss(promoting: "standby-1"))
        #expect(facts.regions["standby-1"]?.health == state.region(named: "standby-1")?.health)
        #expect(
            FailoverGates.evaluate(kind: .switchover, target: "standby-1", in: state, context: FailoverGateContext())
                .gates
                == FailoverGates.evaluate(
                    kind: .switchover, target: "standby-1", facts: facts, context: FailoverGateContext()
                ).gates)
    }

    @Test func escBetweenStepsEndsTheAttemptBeforeTheNextStepStarts() {
        var machine = Self.confirmed()
        _ = machine.handle(.stepStarted(index: 0, at: M.at(3)))
        #expect(machine.handle(.abort(at: M.at(3.5))).isEmpty, "a running step finishes")
        _ = machine.handle(.stepFinished(index: 0, outcome: .succeeded, output: "", at: M.at(4)))
        #expect(machine.state == .aborted)

        // Esc while the gates for the next step are being read: that step never starts.
        var between = Self.confirmed()
        let aborted = between.handle(.abort(at: M.at(2.1)))
        #expect(between.state == .aborted)
        #expect(aborted.contains(.finished(.aborted)))
        #expect(between.attempt?.steps.allSatisfy { $0.outcome == .skipped } == true)
        #expect(
            between.handle(.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(3))) == [
                .rejected("gates evaluated after the attempt moved on (aborted): not used")
            ])
    }

    @Test func anUnwritableAuditLogEndsTheAttempt() {
        var machine = Self.confirmed()
        _ = machine.handle(.stepStarted(index: 0, at: M.at(3)))
        _ = machine.handle(.auditFailed(at: M.at(3.2)))
        #expect(machine.state == .failed, "never stuck executing")
        #expect(machine.attempt?.steps.first?.outcome == .failed)
        #expect(machine.attempt?.steps.first?.output == "the audit log could not be written: stopped")
    }

    @Test func aDrillNeitherLeavesNorResolvesAHalfDoneMove() {
        var machine = Self.confirmed()
        _ = machine.handle(.stepStarted(index: 0, at: M.at(3)))
        _ = machine.handle(.abort(at: M.at(3.1)))
        _ = machine.handle(.stepFinished(index: 0, outcome: .succeeded, output: "", at: M.at(4)))
        let unresolved = machine.unresolved
        #expect(unresolved != nil)
        var drill = M.request()
        drill.kind = .drill
        drill.id = "d1"
        for final in [true, false] {
            _ = machine.handle(.acknowledge)
            _ = machine.handle(.start(drill, at: M.at(5)))
            _ = machine.handle(.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(5)))
            _ = machine.handle(.confirm(typedTarget: "eu-west-1", reason: "drill", at: M.at(6)))
            _ = machine.handle(.stepStarted(index: 0, at: M.at(6)))
            if !final { _ = machine.handle(.abort(at: M.at(6.1))) }
            for index in 0..<3 where machine.state == .executing(step: index, of: 3) {
                if index > 0 { _ = machine.handle(.stepStarted(index: index, at: M.at(7))) }
                _ = machine.handle(.stepFinished(index: index, outcome: .succeeded, output: "", at: M.at(7)))
            }
            #expect(machine.unresolved == unresolved, "drill \(final ? "completed" : "aborted")")
        }
    }

    @Test func aResumeCarriesEveryStepThatRanAndRunsTheRest() {
        var attempt = FailoverAttempt(request: M.request(), requestedAt: M.at(0))
        attempt.steps[0].outcome = .succeeded
        attempt.steps[1].outcome = .failed
        attempt.steps[2].outcome = .succeeded
        #expect(attempt.stepsDone.map(\.outcome) == [.succeeded, nil, .succeeded])
        var request = M.request()
        request.priorSteps = attempt.stepsDone
        var machine = FailoverMachine()
        _ = machine.handle(.start(request, at: M.at(0)))
        _ = machine.handle(.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(1)))
        let confirmed = machine.handle(.confirm(typedTarget: "eu-west-1", reason: "go", at: M.at(2)))
        #expect(confirmed.last == .runStep(1))
        _ = machine.handle(.stepStarted(index: 1, at: M.at(3)))
        let finished = machine.handle(.stepFinished(index: 1, outcome: .succeeded, output: "", at: M.at(4)))
        #expect(machine.state == .completed, "step 3 had run: not again")
        #expect(finished.contains(.finished(.completed)))
    }

    @Test func theHistoryNamesTheHalfDoneAttemptOnlyAtRest() {
        let other = FailoverAttempt(request: M.request(), requestedAt: M.at(0))
        var machine = FailoverMachine()
        #expect(machine.historyRead(unresolved: other).isEmpty)
        #expect(machine.unresolved == other, "another operator's half-done attempt, read from the shared history")
        var busy = Self.confirmed()
        let actions = busy.historyRead(unresolved: nil)
        #expect(actions == [.rejected("history read while an attempt is under way (executing step 1 of 3): not used")])
        #expect(busy.attempt?.request.id == M.request().id, "the attempt under way is untouched")
        _ = busy.stepStarted(index: 0, at: M.at(3))
        _ = busy.stepFinished(index: 0, outcome: .failed, output: "no", at: M.at(4))
        #expect(busy.state == .failed)
        #expect(busy.historyRead(unresolved: nil).isEmpty, "finished: at rest")
        #expect(busy.unresolved == nil)
    }

    @Test func aRollBackThatStopsHalfWayLeavesTheAttemptItRolledBackMinusWhatItUndid() {
        var original = FailoverAttempt(request: M.request(), requestedAt: M.at(0))
        original.steps[0].outcome = .succeeded
        original.steps[1].outcome = .succeeded
        original.steps[2].outcome = .skipped
        let undo = FailoverPlanStep(name: "undo", action: .exec(program: "/bin/true", arguments: []))
        let rollBack = FailoverRequest(
            id: "r1", kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "bob@ops2",
            steps: [undo, undo], continuation: .rollsBack(original.request.id))
        var machine = FailoverMachine(unresolved: original)
        _ = machine.start(rollBack, at: M.at(10))
        _ = machine.gatesEvaluated(M.passing, dataLoss: .unknown, at: M.at(10))
        _ = machine.confirm(typedTarget: "eu-west-1", reason: "back", at: M.at(11))
        _ = machine.stepStarted(index: 0, at: M.at(11))
        _ = machine.stepFinished(index: 0, outcome: .succeeded, output: "", at: M.at(12))
        _ = machine.stepStarted(index: 1, at: M.at(12))
        _ = machine.stepFinished(index: 1, outcome: .failed, output: "refused", at: M.at(13))
        #expect(machine.state == .failed)
        #expect(machine.unresolved?.request.id == original.request.id)
        // Undo 1 undid step 2 (newest first); undo 2 failed: step 1 stays done.
        #expect(machine.unresolved?.changedSteps == [0])
    }
}
