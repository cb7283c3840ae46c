import Testing
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

@Suite("Failover dialog, keys and audit screen")
struct FailoverScreenTests {
    static let size = TerminalSize(width: 120, height: 40)

    func render(_ state: DashboardState, _ view: ViewState) -> Frame {
        DashboardView.render(state: state, view: view, size: Self.size, theme: .fallback)
    }

    /// The demo with a failover attempt driven to `events` through the machine.
    func state(with events: (FailoverRequest) -> [FailoverEvent], seconds: Int = 8) -> DashboardState {
        var state = SeededState.demo(seconds: seconds)
        let request = FailoverRequest(
            id: "t1", kind: .switchover, from: "us-east-1", to: "eu-west-1", operatorName: "ops@host",
            steps: [
                FailoverPlanStep(name: "fence the old primary", action: .simulated(.fence), timeoutSeconds: 30),
                FailoverPlanStep(name: "promote the target", action: .simulated(.promote), timeoutSeconds: 30),
                FailoverPlanStep(name: "shift traffic", action: .simulated(.shiftTraffic), timeoutSeconds: 30),
            ])
        var machine = FailoverMachine()
        for event in events(request) { _ = machine.handle(event) }
        state.apply(.failoverProgress(FailoverProgress(machine: machine)))
        return state
    }

    func gates(_ state: DashboardState) -> [FailoverGateResult] {
        FailoverGates.evaluate(kind: .switchover, target: "eu-west-1", in: state, context: FailoverGateContext()).gates
    }

    @Test func keysOpenTheDialogAndTypeTheConfirmation() {
        let base = SeededState.demo(seconds: 8)
        var view = SeededState.view()
        _ = view.handle(.down, state: base)
        #expect(
            view.handle(.character("F"), state: base) == [.failover(.begin(kind: .switchover, target: "eu-west-1"))])
        #expect(view.handle(.character("D"), state: base) == [.failover(.begin(kind: .drill, target: "eu-west-1"))])
        var atPrimary = SeededState.view()
        #expect(atPrimary.handle(.character("F"), state: base).isEmpty)
        #expect(
            atPrimary.message?.text
                == "us-east-1 is the current primary: select the region to promote (valid now: eu-west-1, ap-southeast-1)"
        )

        let awaiting = state { request in
            [
                .start(request, at: SeededState.start),
                .gatesEvaluated(gates(SeededState.demo(seconds: 8)), dataLoss: .unknown, at: SeededState.start),
            ]
        }
        for character in "eu-west-1" { _ = view.handle(.character(character), state: awaiting) }
        #expect(view.handle(.enter, state: awaiting).isEmpty, "Enter moves to the reason")
        for character in "maintenance" { _ = view.handle(.character(character), state: awaiting) }
        _ = view.handle(.backspace, state: awaiting)
        #expect(
            view.handle(.enter, state: awaiting) == [
                .failover(.confirm(typedTarget: "eu-west-1", reason: "maintenanc"))
            ])
        #expect(view.handle(.character("q"), state: awaiting).isEmpty, "q is typed, it does not quit")
        #expect(view.handle(.escape, state: awaiting) == [.failover(.abort)])
    }

    @Test func readOnlyRefusesEveryFailoverKey() {
        var state = SeededState.demo(seconds: 8)
        state.apply(.failoverHistory(FailoverHistorySummary(), isReadOnly: true))
        var view = SeededState.view()
        _ = view.handle(.down, state: state)
        for key in ["F", "B", "D"] {
            #expect(view.handle(.character(Character(key)), state: state).isEmpty)
            #expect(
                view.message
                    == StatusMessage("read-only mode: failover, failback and drills are disabled", isError: true))
        }
        #expect(render(state, view).text.contains("READ-ONLY"))
    }

    @Test func dialogAwaitingConfirmation() {
        let state = state { request in
            [
                .start(request, at: SeededState.start),
                .gatesEvaluated(
                    gates(SeededState.demo(seconds: 8)),
                    dataLoss: DataLossEstimate(known: .exact(0.6), knownBytes: 1_200_000), at: SeededState.start),
            ]
        }
        var view = SeededState.view()
        for character in "eu-w" { _ = view.handle(.character(character), state: state) }
        let frame = render(state, view)
        Snapshot.assert(frame, named: "failover-confirm-120x40")
        #expect(frame.text.contains("SWITCHOVER  us-east-1 → eu-west-1"))
        #expect(frame.text.contains("target  eu-w█   (type: eu-west-1)"))
        #expect(frame.text.contains("ap-southeast-1"), "every candidate is listed")
    }

    @Test func dialogWhileExecutingAndWhenRefused() {
        let t = SeededState.start
        let executing = state { request in
            [
                .start(request, at: t), .gatesEvaluated([], dataLoss: .unknown, at: t),
                .confirm(typedTarget: "eu-west-1", reason: "maintenance", at: t),
                .stepStarted(index: 0, at: t),
                .stepFinished(index: 0, outcome: .succeeded, output: "", at: t.adding(seconds: 1)),
                .stepStarted(index: 1, at: t.adding(seconds: 1)),
            ]
        }
        let running = render(executing, SeededState.view())
        Snapshot.assert(running, named: "failover-executing-120x40")
        #expect(running.text.contains("▶ 2. promote the target"))
        #expect(running.text.contains("RTO clock"))
        var executingView = SeededState.view()
        #expect(executingView.handle(.escape, state: executing) == [.failover(.abort)])

        let refused = state { request in
            [
                .start(request, at: t),
                .gatesEvaluated(
                    [
                        FailoverGateResult(
                            gate: .lagWithinRPO, passed: false, measured: "estimated data loss 45.2s, 80MiB vs RPO 30s")
                    ], dataLoss: DataLossEstimate(known: .exact(45.2), knownBytes: 83_886_080), at: t),
            ]
        }
        let frame = render(refused, SeededState.view())
        Snapshot.assert(frame, named: "failover-refused-120x40")
        #expect(frame.text.contains("REFUSED by lag-within-rpo: estimated data loss 45.2s, 80MiB vs RPO 30s"))
        var view = SeededState.view()
        #expect(frame.text.contains("f forces this gate with a reason"))
        #expect(view.handle(.character("f"), state: refused).isEmpty)
        for character in "primary lost" { _ = view.handle(.character(character), state: refused) }
        #expect(render(refused, view).text.contains("reason  primary lost█"))
        #expect(
            view.handle(.enter, state: refused) == [
                .failover(.begin(kind: .switchover, target: "eu-west-1", forcedGates: [.lagWithinRPO: "primary lost"]))
            ])
        #expect(view.handle(.enter, state: refused) == [.failover(.acknowledge)])
    }

    @Test(arguments: [FailoverContinuation.resumes("a0"), .rollsBack("a0")])
    func forcingARefusedContinuationRetriesItKeepingEarlierForcedGates(_ continuation: FailoverContinuation) {
        let t = SeededState.start
        let refused = state { request in
            var continuing = request
            continuing.continuation = continuation
            continuing.forcedGates = [.coolDown: "earlier reason"]
            return [
                .start(continuing, at: t),
                .gatesEvaluated(
                    [
                        FailoverGateResult(
                            gate: .coolDown, passed: true, measured: "forced", forcedReason: "earlier reason"),
                        FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "estimated data loss 45.2s"),
                    ], dataLoss: .unknown, at: t),
            ]
        }
        var view = SeededState.view()
        _ = view.handle(.character("f"), state: refused)
        for character in "primary lost" { _ = view.handle(.character(character), state: refused) }
        let forced: [FailoverGateKind: String] = [.coolDown: "earlier reason", .lagWithinRPO: "primary lost"]
        let expected: FailoverIntent =
            continuation == .resumes("a0") ? .resume(forcedGates: forced) : .rollBack(forcedGates: forced)
        // A fresh begin would run the steps the stopped attempt already did, and drop the
        // gate forced before.
        #expect(view.handle(.enter, state: refused) == [.failover(expected)])
    }

    @Test func auditScreenAndInterruptedBadge() {
        var state = SeededState.demo(seconds: 8)
        let record = FailoverRecordSummary(
            id: "r1", at: SeededState.start, kind: "drill", from: "us-east-1", to: "eu-west-1", state: "completed",
            measuredRTOSeconds: 4.2, dataLoss: DataLossEstimate(known: .exact(0.5), knownBytes: nil),
            operatorName: "ops@host", reason: "quarterly drill", failedGates: [], steps: ["fence: succeeded 1.00s"])
        let interrupted = FailoverRecordSummary(
            id: "r2", at: SeededState.start.adding(seconds: 60), kind: "failover", from: "us-east-1",
            to: "ap-southeast-1", state: "interrupted", measuredRTOSeconds: nil, dataLoss: nil,
            operatorName: "ops@host", reason: "region down", failedGates: [], steps: ["promote: started"])
        state.apply(
            .failoverHistory(
                FailoverHistorySummary(
                    recent: [record], interrupted: [interrupted], auditLogPath: "/var/lib/rw/audit.jsonl"),
                isReadOnly: false))
        var view = SeededState.view()
        let overview = render(state, view)
        #expect(overview.text.contains("INTERRUPTED FAILOVER: press a"))
        var withoutInterruption = SeededState.demo(seconds: 8)
        withoutInterruption.apply(.failoverHistory(FailoverHistorySummary(recent: [record]), isReadOnly: false))
        #expect(render(withoutInterruption, view).text.contains("Drill    drill us-east-1 → eu-west-1 completed"))
        _ = view.handle(.character("a"), state: state)
        #expect(view.screen == .audit)
        let frame = render(state, view)
        Snapshot.assert(frame, named: "audit-120x40")
        #expect(frame.text.contains("INTERRUPTED failover us-east-1 → ap-southeast-1"))
        #expect(
            frame.text.contains(
                "COMPLETED   drill us-east-1 → eu-west-1  RTO 4.2s  loss 0.5s known  by ops@host: quarterly"))
        // Acknowledging asks first: A alone changes nothing, another key cancels, A twice acts.
        #expect(view.handle(.character("A"), state: state).isEmpty)
        #expect(
            view.message?.text.hasPrefix(
                "acknowledge the interrupted failover us-east-1 → ap-southeast-1 (confirmed by ops@host)?") == true)
        #expect(view.handle(.character("j"), state: state).isEmpty)
        #expect(view.message?.text == "not acknowledged")
        #expect(view.handle(.character("A"), state: state).isEmpty)
        #expect(view.handle(.character("A"), state: state) == [.failover(.acknowledgeInterrupted(id: "r2"))])
        #expect(view.message?.text.contains("it stays in the audit log") == true)

        // Once acknowledged it stays listed, saying by whom and when.
        var acknowledged = interrupted
        acknowledged.acknowledged = "acknowledged by bob@ops2 at 2027-01-15T08:01:00Z"
        var after = SeededState.demo(seconds: 8)
        after.apply(
            .failoverHistory(
                FailoverHistorySummary(recent: [record, acknowledged], auditLogPath: "/var/lib/rw/audit.jsonl"),
                isReadOnly: false))
        let listed = render(after, view).text
        #expect(listed.contains("INTERRUPTED failover us-east-1 → ap-southeast-1"))
        #expect(listed.contains("started, never finished; acknowledged by bob@ops2 at 2027-01-15T08:01:00Z"))
        #expect(!render(after, SeededState.view()).text.contains("INTERRUPTED FAILOVER: press a"))
    }
}
