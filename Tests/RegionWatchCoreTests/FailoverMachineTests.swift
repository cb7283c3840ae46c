import Testing
@testable import RegionWatchCore

@Suite("Failover state machine")
struct FailoverMachineTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static func at(_ seconds: Double) -> Timestamp { t0.adding(seconds: seconds) }

    static func request(
        steps: [FailoverPlanStep] = [
            FailoverPlanStep(name: "fence", action: .simulated(.fence)),
            FailoverPlanStep(name: "promote", action: .simulated(.promote)),
            FailoverPlanStep(name: "shift", action: .simulated(.shiftTraffic), onFailure: .continue),
        ], forced: [FailoverGateKind: String] = [:]
    ) -> FailoverRequest {
        FailoverRequest(
            id: "f1", kind: .switchover, from: "us-east-1", to: "eu-west-1", operatorName: "ops@host", steps: steps,
            forcedGates: forced)
    }

    static let passing = [
        FailoverGateResult(gate: .targetHealthy, passed: true, measured: "OK"),
        FailoverGateResult(gate: .lagWithinRPO, passed: true, measured: "0.2s"),
    ]

    func confirmed(_ machine: inout FailoverMachine, request: FailoverRequest = request()) {
        _ = machine.handle(.start(request, at: Self.at(0)))
        _ = machine.handle(.gatesEvaluated(Self.passing, dataLoss: .unknown, at: Self.at(1)))
        _ = machine.handle(.confirm(typedTarget: "eu-west-1", reason: "planned maintenance", at: Self.at(2)))
    }

    @Test func happyPathRunsEveryStepAndMeasuresRTO() {
        var machine = FailoverMachine()
        #expect(machine.handle(.start(Self.request(), at: Self.at(0))) == [.evaluateGates])
        #expect(machine.state == .preflight)
        #expect(
            machine.handle(.gatesEvaluated(Self.passing, dataLoss: .unknown, at: Self.at(1))) == [.askForConfirmation])
        #expect(machine.state == .awaitingConfirmation)
        let confirm = machine.handle(
            .confirm(typedTarget: " eu-west-1 ", reason: "planned maintenance", at: Self.at(2)))
        #expect(confirm.last == .runStep(0))
        #expect(machine.state == .executing(step: 0, of: 3))
        #expect(machine.attempt?.reason == "planned maintenance")
        for index in 0..<3 {
            let started = machine.handle(.stepStarted(index: index, at: Self.at(Double(3 + index * 2))))
            #expect(started.count == 1)
            let finished = machine.handle(
                .stepFinished(
                    index: index, outcome: .succeeded, output: "ok \(index)", at: Self.at(Double(4 + index * 2))))
            if index < 2 {
                #expect(finished.last == .runStep(index + 1))
            } else {
                #expect(finished.last == .finished(.completed))
            }
        }
        #expect(machine.state == .completed)
        #expect(machine.attempt?.measuredRTO(at: Self.at(100)) == 6, "confirmation at 2 s, last step ended at 8 s")
        #expect(machine.attempt?.steps.map(\.outcome) == [.succeeded, .succeeded, .succeeded])
        _ = machine.handle(.acknowledge)
        #expect(machine.state == .steady)
        #expect(machine.attempt == nil)
    }

    @Test func aRefusingGateStopsItAndSaysWhich() {
        var machine = FailoverMachine()
        _ = machine.handle(.start(Self.request(), at: Self.at(0)))
        let refusing = [
            FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "estimated data loss 45.0s vs RPO 30s")
        ]
        let actions = machine.handle(
            .gatesEvaluated(refusing, dataLoss: DataLossEstimate(known: .exact(45), knownBytes: 1000), at: Self.at(1)))
        #expect(machine.state == .refused)
        #expect(actions.last == .finished(.refused))
        #expect(machine.attempt?.gates.first?.measured == "estimated data loss 45.0s vs RPO 30s")
        #expect(machine.attempt?.steps.allSatisfy { $0.outcome == .skipped } == true)
    }

    @Test func forcingAGateTakesAReasonAndIsRecorded() {
        var machine = FailoverMachine()
        _ = machine.handle(
            .start(Self.request(forced: [.lagWithinRPO: "primary is gone, accept the loss"]), at: Self.at(0)))
        let refusing = [FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "45s")]
        #expect(machine.handle(.gatesEvaluated(refusing, dataLoss: .unknown, at: Self.at(1))) == [.askForConfirmation])
        #expect(machine.attempt?.gates.first?.forcedReason == "primary is gone, accept the loss")
    }

    @Test func readOnlyCannotBeForced() {
        var machine = FailoverMachine()
        _ = machine.handle(.start(Self.request(forced: [.readOnly: "please"]), at: Self.at(0)))
        _ = machine.handle(
            .gatesEvaluated(
                [FailoverGateResult(gate: .readOnly, passed: false, measured: "read-only")], dataLoss: .unknown,
                at: Self.at(1)))
        #expect(machine.state == .refused)
    }

    @Test func confirmationNeedsTheExactNameAndAReason() {
        var machine = FailoverMachine()
        _ = machine.handle(.start(Self.request(), at: Self.at(0)))
        _ = machine.handle(.gatesEvaluated(Self.passing, dataLoss: .unknown, at: Self.at(1)))
        #expect(
            machine.handle(.confirm(typedTarget: "eu-west", reason: "x", at: Self.at(2))) == [
                .rejectConfirmation("type the target region's name exactly: eu-west-1")
            ])
        #expect(
            machine.handle(.confirm(typedTarget: "eu-west-1", reason: "  ", at: Self.at(2))) == [
                .rejectConfirmation("give a reason: it goes into the audit log")
            ])
        #expect(machine.state == .awaitingConfirmation)
    }

    @Test func escBeforeConfirmationCancelsWithNothingRun() {
        var machine = FailoverMachine()
        _ = machine.handle(.start(Self.request(), at: Self.at(0)))
        _ = machine.handle(.gatesEvaluated(Self.passing, dataLoss: .unknown, at: Self.at(1)))
        #expect(machine.handle(.abort(at: Self.at(2))).last == .finished(.aborted))
        #expect(machine.attempt?.steps.allSatisfy { $0.outcome == .skipped } == true)
    }

    @Test func escDuringExecutionAbortsBetweenSteps() {
        var machine = FailoverMachine()
        confirmed(&machine)
        _ = machine.handle(.stepStarted(index: 0, at: Self.at(3)))
        #expect(machine.handle(.abort(at: Self.at(3.5))).isEmpty, "the running step is not interrupted")
        let actions = machine.handle(.stepFinished(index: 0, outcome: .succeeded, output: "fenced", at: Self.at(4)))
        #expect(actions.last == .finished(.aborted))
        #expect(machine.attempt?.steps.map(\.outcome) == [.succeeded, .skipped, .skipped])
    }

    @Test func aFailingStepFailsTheAttemptUnlessItMayContinue() {
        var machine = FailoverMachine()
        confirmed(&machine)
        _ = machine.handle(.stepFinished(index: 0, outcome: .succeeded, output: "", at: Self.at(3)))
        _ = machine.handle(.stepFinished(index: 1, outcome: .timedOut, output: "no answer in 60s", at: Self.at(63)))
        #expect(machine.state == .failed)
        #expect(machine.attempt?.steps[1].output == "no answer in 60s")
        #expect(machine.attempt?.steps[2].outcome == .skipped)

        var tolerant = FailoverMachine()
        confirmed(&tolerant)
        _ = tolerant.handle(.stepFinished(index: 0, outcome: .succeeded, output: "", at: Self.at(3)))
        _ = tolerant.handle(.stepFinished(index: 1, outcome: .succeeded, output: "", at: Self.at(4)))
        #expect(
            tolerant.handle(.stepFinished(index: 2, outcome: .failed, output: "dns api 500", at: Self.at(5))).last
                == .finished(.completed), "onFailure: continue")
    }

    @Test func requestsOutOfPlaceAreRejectedWithAReason() {
        var machine = FailoverMachine()
        #expect(
            machine.handle(.confirm(typedTarget: "x", reason: "y", at: Self.at(0))) == [
                .rejected("nothing awaits confirmation (steady)")
            ])
        #expect(machine.handle(.abort(at: Self.at(0))) == [.rejected("nothing to abort (steady)")])
        #expect(
            machine.handle(.gatesEvaluated([], dataLoss: .unknown, at: Self.at(0))) == [
                .rejected("gates evaluated after the attempt moved on (steady): not used")
            ])
        confirmed(&machine)
        let before = machine
        #expect(
            machine.handle(.start(Self.request(), at: Self.at(4))) == [
                .rejected("an attempt is under way (executing step 1 of 3): finish or abort it first")
            ])
        #expect(machine.handle(.acknowledge) == [.rejected("nothing finished to acknowledge (executing step 1 of 3)")])
        #expect(machine == before, "nothing changed")
    }

    @Test func aStepReportedOutOfPlaceIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            var machine = FailoverMachine()
            _ = machine.handle(
                .stepFinished(index: 0, outcome: .succeeded, output: "", at: Timestamp(secondsSinceEpoch: 0)))
        }
    }

    @Test func placeholdersStayInsideTheirArgument() {
        #expect(
            FailoverPlaceholders.substitute("--to={to}", from: "a", to: "eu west", reason: "r", kind: .failover)
                == "--to=eu west")
        #expect(
            FailoverPlaceholders.substitute(
                "{reason}", from: "a", to: "b", reason: "it's \"urgent\"; rm -rf /", kind: .drill)
                == "it's \"urgent\"; rm -rf /")
        #expect(
            FailoverPlaceholders.substitute(
                "{from}->{to} {unknown} {kind}", from: "a", to: "b", reason: "", kind: .failback)
                == "a->b {unknown} failback")
        #expect(FailoverPlaceholders.substitute("{", from: "a", to: "b", reason: "", kind: .drill) == "{")
    }
}

@Suite("Failover gates")
struct FailoverGateTests {
    typealias F = Fixture

    func gate(_ kind: FailoverGateKind, _ results: [FailoverGateResult]) -> FailoverGateResult? {
        results.first { $0.gate == kind }
    }

    @Test func healthyCaughtUpTargetPassesEveryGate() {
        let state = F.healthyState()
        let (gates, loss) = FailoverGates.evaluate(
            kind: .switchover, target: "standby-1", in: state, context: FailoverGateContext())
        #expect(gates.allSatisfy { $0.passed }, "\(gates)")
        #expect(loss.seconds == 0.5)
        #expect(FailoverGates.kind(from: "primary-1", in: state) == .switchover)
        #expect(FailoverGates.currentPrimary(in: state) == "primary-1")
    }

    @Test func lagPastTheRPORefusesAndNamesTheLag() {
        var state = F.healthyState()
        state.apply(F.replication(1, lag: 45))
        let (gates, loss) = FailoverGates.evaluate(
            kind: .switchover, target: "standby-1", in: state, context: FailoverGateContext())
        #expect(gate(.lagWithinRPO, gates)?.passed == false)
        // A reported lag (metrics, the simulator) is a replay lag: it bounds the loss from above
        // (what was not received is part of what was not replayed), and its bytes say nothing
        // of what was received.
        #expect(gate(.lagWithinRPO, gates)?.measured == "data loss at most 45.0s known vs RPO 30s")
        #expect(gate(.targetHealthy, gates)?.passed == true, "replication findings are the lag gate's business")
        #expect(loss == DataLossEstimate(known: LagEstimate(atLeast: 0, atMost: 45, resolution: 0), knownBytes: nil))
    }

    @Test func lockCoolDownAndReadOnly() {
        let state = F.healthyState(at: 1000)
        let context = FailoverGateContext(
            lockHolder: "alice@ops-1 (pid 42)",
            lastFailover: CompletedFailover(
                kind: "failover", from: "standby-2", to: "primary-1", operatorName: "alice@ops-1", at: F.at(800)),
            coolDownSeconds: 600, isReadOnly: true)
        let (gates, _) = FailoverGates.evaluate(kind: .switchover, target: "standby-1", in: state, context: context)
        #expect(
            gate(.lock, gates)
                == FailoverGateResult(
                    gate: .lock, passed: false, measured: "another failover holds the lock: alice@ops-1 (pid 42)"))
        #expect(
            gate(.coolDown, gates)
                == FailoverGateResult(
                    gate: .coolDown, passed: false,
                    measured: "primary-1 ← standby-2 failover completed 3m20s ago by alice@ops-1, cool-down 10m"))
        #expect(gate(.readOnly, gates)?.passed == false)
    }

    @Test func downPrimaryMeansFailoverAndUnknownTargetIsRefused() {
        var state = F.healthyState()
        state.apply(
            .probe(
                ProbeResult(
                    region: "primary-1", source: "pg", observedAt: F.at(1), isSuccess: false, latencyMilliseconds: nil,
                    message: "refused", isDefinitive: true)))
        #expect(FailoverGates.kind(from: "primary-1", in: state) == .failover)
        let (gates, _) = FailoverGates.evaluate(
            kind: .failover, target: "nowhere", in: state, context: FailoverGateContext())
        #expect(gate(.targetHealthy, gates)?.passed == false)
        #expect(
            gate(.lagWithinRPO, gates)?.measured == "data loss of nowhere unknown (not a configured region) vs RPO 30s")
    }

    @Test func failbackNeedsTheOriginalPrimaryRejoinedAndCaughtUp() {
        let state = F.healthyState()
        let (wrongTarget, _) = FailoverGates.evaluate(
            kind: .failback, target: "standby-1", in: state, context: FailoverGateContext())
        #expect(gate(.rejoined, wrongTarget)?.passed == false)
        #expect(gate(.rejoined, wrongTarget)?.measured == "failback returns the role to primary-1, not standby-1")
    }
}
