import Foundation
import RegionWatchCollectors
import RegionWatchCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The `failover:` section of the configuration.
public struct FailoverSettings: Equatable, Sendable {
    public enum LockKind: Equatable, Sendable {
        /// An OS file lock next to the audit log (one machine).
        case file
        /// A PostgreSQL advisory lock (operators on different machines exclude each other).
        case postgres(PostgresDSN)
    }

    public var plan: [FailoverPlanStep]
    public var coolDownSeconds: Double
    public var lock: LockKind
    /// Default `$XDG_STATE_HOME/regionwatch/audit.jsonl`.
    public var auditLogPath: String?
    /// The PostgreSQL server every operator's records also go to, and history is read from
    /// (`lock: postgres` uses the lock's server unless `audit: file`).
    public var sharedHistory: PostgresDSN?
    public var isReadOnly: Bool

    public init(
        plan: [FailoverPlanStep] = [], coolDownSeconds: Double = 600, lock: LockKind = .file,
        auditLogPath: String? = nil, isReadOnly: Bool = false
    ) {
        self.plan = plan
        self.coolDownSeconds = coolDownSeconds
        self.lock = lock
        self.auditLogPath = auditLogPath
        self.isReadOnly = isReadOnly
    }

    /// The demo's plan. Simulated steps are safe in a drill (there they rehearse on a copy of
    /// the simulation); verifying the new primary is not (a drill promotes nothing).
    public static let demoPlan: [FailoverPlanStep] = [
        FailoverPlanStep(
            name: "fence the old primary", action: .simulated(.fence), timeoutSeconds: 30, isDrillSafe: true),
        FailoverPlanStep(
            name: "promote the target", action: .simulated(.promote), timeoutSeconds: 30, isDrillSafe: true),
        FailoverPlanStep(
            name: "shift traffic", action: .simulated(.shiftTraffic), timeoutSeconds: 30, isDrillSafe: true),
        FailoverPlanStep(name: "verify the new primary", action: .waitFor(.targetIsPrimary), timeoutSeconds: 30),
    ]

    /// The steps an attempt of `kind` runs: only drill-safe ones in a drill; a switchover waits
    /// for the target to catch up before its first promotion unless the plan already does.
    /// A forced data-loss gate means the operator accepts the loss: no waiting to catch up.
    public func steps(for kind: FailoverKind, acceptingDataLoss: Bool = false) -> [FailoverPlanStep] {
        var steps = kind == .drill ? plan.filter(\.isDrillSafe) : plan
        if kind == .switchover || kind == .failback, !acceptingDataLoss,
            !steps.contains(where: { $0.action == .waitFor(.targetCaughtUp) }),
            let promote = steps.firstIndex(where: { step in
                if case .postgresPromote = step.action { return true }
                return step.action == .simulated(.promote)
            })
        {
            steps.insert(
                FailoverPlanStep(
                    name: "wait for the target to catch up", action: .waitFor(.targetCaughtUp), timeoutSeconds: 120,
                    isDrillSafe: true), at: promote)
        }
        return steps
    }
}

/// What the coordinator shows: the machine, plus messages for the operator.
public struct FailoverSnapshot: Sendable, Equatable {
    public var machine: FailoverMachine
    /// Why the last confirmation was not accepted.
    public var confirmationProblem: String?
    /// A problem outside the machine (audit log not writable, no plan).
    public var problem: String?
    /// Why the last request named a target that cannot be promoted at all (nothing started).
    public var targetProblem: FailoverTargetProblem?
    /// Why the machine last turned a request down (a key pressed in the wrong state).
    public var rejection: String?
}

/// What a dry run would do: gates, candidates and the plan, with nothing executed, locked for
/// longer than a look, or recorded.
public struct FailoverPreview: Sendable, Equatable {
    public var request: FailoverRequest
    public var gates: [FailoverGateResult]
    public var dataLoss: DataLossEstimate
    /// The state's time the gates judged.
    public var evaluatedAt: Timestamp
    /// Every region a move could target, with the first gate that blocks it.
    public var candidates: [FailoverCandidate]

    public var isAllowed: Bool { gates.allSatisfy(\.allows) }
}

/// A region a move could target, and the first gate that blocks it (`nil`: ready).
public struct FailoverCandidate: Sendable, Equatable, Encodable {
    public var region: String
    public var blockedBy: FailoverGateResult?
}

/// Drives a `FailoverMachine` for real: evaluates gates (taking the lock), writes every
/// transition to the audit log before it takes effect, runs the steps, and reports each change.
/// The dashboard and the headless command both use it.
public actor FailoverCoordinator {
    public nonisolated let settings: FailoverSettings
    public nonisolated let audit: AuditLog
    let lock: FailoverLock
    let runner: StepRunner
    let clock: WallClock
    public nonisolated let operatorName: String
    let rtoObjectiveSeconds: Double
    private var machine = FailoverMachine()
    private var confirmationProblem: String?
    private var problem: String?
    private var targetProblem: FailoverTargetProblem?
    /// Why the machine last turned a request down (nothing changed then).
    private var rejection: String?
    private var holdsLock = false
    private var execution: Task<Void, Never>?
    private let observer: @Sendable (FailoverSnapshot) -> Void

    public init(
        settings: FailoverSettings, audit: AuditLog, lock: FailoverLock, runner: StepRunner, clock: WallClock,
        operatorName: String, rtoObjectiveSeconds: Double,
        observer: @escaping @Sendable (FailoverSnapshot) -> Void = { _ in }
    ) {
        self.settings = settings
        self.audit = audit
        self.lock = lock
        self.runner = runner
        self.clock = clock
        self.operatorName = operatorName
        self.rtoObjectiveSeconds = rtoObjectiveSeconds
        self.observer = observer
        // An attempt a crash, an abort or a failure left half-done stays resumable; the local
        // copy until `readHistory()` has read the shared history.
        machine = FailoverMachine(unresolved: UnresolvedAttempts.find(in: audit.read(), settings: settings))
    }

    /// Reads the audit history again (the shared one when configured: another operator's
    /// half-done attempt is as much ours to resolve) and takes from it the attempt that stopped
    /// half-way. When the shared history cannot be read, what is known stays.
    public func readHistory() async {
        guard machine.state == .steady || machine.state.isFinal else { return }
        let (history, historyProblem) = await audit.history()
        guard historyProblem == nil else { return }
        await perform(
            machine.historyRead(unresolved: UnresolvedAttempts.find(in: history, settings: settings)), notify: false)
    }

    /// `user@host`.
    public static func defaultOperatorName(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        let user =
            environment["USER"] ?? environment["LOGNAME"] ?? getpwuid(getuid()).flatMap {
                $0.pointee.pw_name.map { String(cString: $0) }
            } ?? "uid \(getuid())"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }

    public var snapshot: FailoverSnapshot {
        FailoverSnapshot(
            machine: machine, confirmationProblem: confirmationProblem, problem: problem, targetProblem: targetProblem,
            rejection: rejection)
    }

    /// The request for a move of `kind` to `target` now, or why `target` cannot be one.
    private func request(
        kind: FailoverKind, to target: String, forcedGates: [FailoverGateKind: String], in state: DashboardState
    ) -> Result<FailoverRequest, FailoverTargetProblem> {
        if let problem = FailoverGates.targetProblem(kind: kind, target: target, in: state) { return .failure(problem) }
        let from = FailoverGates.currentPrimary(in: state) ?? "unknown"
        let steps = settings.steps(for: kind, acceptingDataLoss: forcedGates[.lagWithinRPO] != nil)
        return .success(
            FailoverRequest(
                id: Self.newID(at: clock.now()), kind: kind, from: from, to: target, operatorName: operatorName,
                steps: steps, forcedGates: forcedGates))
    }

    /// Every gate for `request` as the state and the shared history say now; `lock` is what
    /// trying the lock found. A roll back, and a resume after the promotion, are
    /// judged only by the lock and read-only mode: they restore or finish what was decided.
    private func evaluateGates(
        for request: FailoverRequest, in state: DashboardState, lock: LockVerdict
    ) async -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate) {
        let promotedBefore = request.priorSteps.indices.contains {
            request.priorSteps[$0].outcome == .succeeded && request.steps[$0].action.isPromotion
        }
        if case .rollsBack = request.continuation {
            // Undoing a fence while the target takes writes would make two primaries.
            var restoring = restoringGates(lock: lock)
            let role = state.region(named: request.to)?.roleDescription ?? "unknown"
            let standby = state.region(named: request.to)?.role == .standby
            restoring.gates.insert(
                FailoverGateResult(
                    gate: .targetHealthy, passed: standby,
                    measured: standby
                        ? "\(request.to) is a standby: not promoted"
                        : "\(request.to) is \(role): undoing the fence could make two primaries"), at: 0)
            return restoring
        }
        if promotedBefore { return restoringGates(lock: lock) }
        let (history, historyProblem) = request.kind == .drill ? (AuditHistory(), nil) : await audit.history()
        let lastFailover = history.lastCompleted(kinds: ["switchover", "failover", "failback"])
        var context = FailoverGateContext(
            lockHolder: lock.holder, lastFailover: lastFailover, coolDownSeconds: settings.coolDownSeconds,
            isReadOnly: settings.isReadOnly)
        context.lockProblem = lock.problem
        var (gates, loss) = FailoverGates.evaluate(kind: request.kind, target: request.to, in: state, context: context)
        if let historyProblem, let index = gates.firstIndex(where: { $0.gate == .coolDown }) {
            // Another operator's failover minutes ago cannot be ruled out.
            gates[index] = FailoverGateResult(
                gate: .coolDown, passed: false, measured: "history unknown: \(historyProblem)")
        }
        if request.steps.isEmpty {
            let missing =
                request.kind == .drill
                ? "no plan step is marked drill: true" : "no failover plan is configured (failover.plan)"
            gates.append(FailoverGateResult(gate: .targetHealthy, passed: false, measured: missing))
        }
        if request.kind == .drill {
            // A drill changes nothing real: the data-loss gate is informative only.
            gates = gates.map { gate in
                var gate = gate
                if gate.gate == .lagWithinRPO, !gate.passed {
                    gate.forcedReason = gate.forcedReason ?? "drill: nothing is promoted for real"
                }
                return gate
            }
        }
        return (gates, loss)
    }

    /// Starts an attempt: checks the target can be one at all (else nothing starts, nothing is
    /// locked or recorded), takes the lock (or learns its holder) and evaluates every gate.
    @discardableResult
    public func begin(
        kind: FailoverKind, to target: String, forcedGates: [FailoverGateKind: String] = [:]
    ) async -> FailoverSnapshot {
        await readHistory()
        let state = runner.world.currentState()
        problem = nil
        confirmationProblem = nil
        targetProblem = nil
        guard machine.state == .steady || machine.state.isFinal else {
            problem = "an attempt is under way (\(machine.state.name)): finish or abort it first"
            observer(snapshot)
            return snapshot
        }
        let request: FailoverRequest
        switch self.request(kind: kind, to: target, forcedGates: forcedGates, in: state) {
        case .failure(let invalid):
            targetProblem = invalid
            observer(snapshot)
            return snapshot
        case .success(let valid): request = valid
        }
        return await start(request, in: state)
    }

    /// Resumes the unresolved attempt: the same plan from the first step that did not run (the
    /// steps that ran are not run again), with gates evaluated now and a new confirmation.
    /// `forcedGates` are forced on top of those the stopped attempt forced (a refused resume
    /// forced with `f` stays a resume: a fresh move would run the done steps again).
    @discardableResult
    public func resume(forcedGates: [FailoverGateKind: String] = [:]) async -> FailoverSnapshot {
        await readHistory()
        guard let stopped = machine.unresolved, machine.state == .steady || machine.state.isFinal else {
            return report(problem: "nothing to resume: no attempt stopped half-way")
        }
        let state = runner.world.currentState()
        if !stopped.mayHavePromoted,
            let invalid = FailoverGates.targetProblem(kind: stopped.request.kind, target: stopped.request.to, in: state)
        {
            return report(problem: "cannot resume: \(invalid.description)")
        }
        var request = stopped.request
        request.id = Self.newID(at: clock.now())
        request.operatorName = operatorName
        request.continuation = .resumes(stopped.request.id)
        request.forcedGates.merge(forcedGates) { _, new in new }
        request.priorSteps = stopped.stepsDone
        request.priorDataLossAtPromotion = stopped.isPromoted ? stopped.recordedDataLoss : nil
        return await start(request, in: state)
    }

    /// Rolls back the unresolved attempt: undoes its completed steps, newest first (a fence is
    /// lifted, traffic shifted back, configured `undo:` run), with a new confirmation, forcing
    /// `forcedGates` when the operator forced a refusal.
    @discardableResult
    public func rollBack(forcedGates: [FailoverGateKind: String] = [:]) async -> FailoverSnapshot {
        await readHistory()
        guard let stopped = machine.unresolved, machine.state == .steady || machine.state.isFinal else {
            return report(problem: "nothing to roll back: no attempt stopped half-way")
        }
        switch stopped.rollbackSteps {
        case .failure(let problem):
            return report(problem: "cannot roll back: \(problem)")
        case .success(let steps):
            let request = FailoverRequest(
                id: Self.newID(at: clock.now()), kind: stopped.request.kind, from: stopped.request.from,
                to: stopped.request.to,
                operatorName: operatorName, steps: steps, forcedGates: forcedGates,
                continuation: .rollsBack(stopped.request.id)
            )
            return await start(request, in: runner.world.currentState())
        }
    }

    private func report(problem text: String) -> FailoverSnapshot {
        problem = text
        observer(snapshot)
        return snapshot
    }

    /// Starts `request`: takes the lock (or learns its holder) and evaluates every gate.
    private func start(_ request: FailoverRequest, in state: DashboardState) async -> FailoverSnapshot {
        problem = nil
        confirmationProblem = nil
        targetProblem = nil
        let kind = request.kind
        let target = request.to
        guard await perform(machine.start(request, at: clock.now())).evaluatesGates else { return snapshot }
        let verdict =
            settings.isReadOnly ? LockVerdict() : await tryLock(as: "\(kind.rawValue) to \(target)", keep: true)
        let (gates, loss) = await evaluateGates(for: request, in: state, lock: verdict)
        if request.steps.isEmpty { problem = gates.last?.measured }
        await perform(machine.gatesEvaluated(gates, dataLoss: loss, at: clock.now()))
        await releaseIfFinished()
        return snapshot
    }

    /// What a move of `kind` to `target` would do now: gates, candidates and the plan. Starts
    /// nothing and records nothing; the lock is only looked at (taken and given back at once).
    public func preview(
        kind: FailoverKind, to target: String, forcedGates: [FailoverGateKind: String] = [:]
    ) async -> Result<FailoverPreview, FailoverTargetProblem> {
        let state = runner.world.currentState()
        let request: FailoverRequest
        switch self.request(kind: kind, to: target, forcedGates: forcedGates, in: state) {
        case .failure(let invalid): return .failure(invalid)
        case .success(let valid): request = valid
        }
        let verdict = settings.isReadOnly || holdsLock ? LockVerdict() : await tryLock(as: "dry run", keep: false)
        let (gates, loss) = await evaluateGates(for: request, in: state, lock: verdict)
        var candidates: [FailoverCandidate] = []
        for name in FailoverGates.validTargets(kind: kind, in: state) {
            var candidate = request
            candidate.to = name
            let verdicts = candidate.applyingForces(
                to: await evaluateGates(for: candidate, in: state, lock: verdict).gates)
            candidates.append(FailoverCandidate(region: name, blockedBy: verdicts.first { !$0.allows }))
        }
        return .success(
            FailoverPreview(
                request: request, gates: request.applyingForces(to: gates), dataLoss: loss, evaluatedAt: state.now,
                candidates: candidates))
    }

    /// Re-evaluates the gates of an attempt awaiting confirmation against the state now, so the
    /// dialog shows what confirming would use. The dashboard calls it as new state arrives.
    public func recheck() async {
        guard machine.state == .awaitingConfirmation, let attempt = machine.attempt else { return }
        let (gates, loss) = await evaluateGates(
            for: attempt.request, in: runner.world.currentState(), lock: LockVerdict())
        let before = machine
        await perform(machine.gatesEvaluated(gates, dataLoss: loss, at: clock.now()), notify: machine != before)
    }

    /// The operator's typed confirmation: the gates are evaluated once more first (a gate red
    /// now refuses, recorded); runs the plan in the background when accepted.
    @discardableResult
    public func confirm(typedTarget: String, reason: String) async -> FailoverSnapshot {
        await recheck()
        confirmationProblem = nil
        let outcome = await perform(machine.confirm(typedTarget: typedTarget, reason: reason, at: clock.now()))
        if outcome.isRecorded, let first = outcome.nextStep {
            execution = Task { await self.execute(from: first) }
        }
        await releaseIfFinished()
        return snapshot
    }

    /// Esc: cancels before confirmation; between steps during execution.
    public func abort() async {
        await perform(machine.abort(at: clock.now()))
        await releaseIfFinished()
    }

    /// Clears a finished attempt from the screen.
    public func acknowledge() async {
        await perform(machine.acknowledge())
    }

    /// Waits until the running plan (if any) has finished.
    public func waitUntilFinished() async {
        await execution?.value
    }

    private func execute(from first: Int) async {
        var next: Int? = first
        while let index = next {
            next = nil
            guard var attempt = machine.attempt, machine.state == .executing(step: index, of: attempt.steps.count)
            else { break }
            if attempt.request.steps[index].action.hasSideEffects {
                // Just before anything changes: the gates as they are now.
                let gates =
                    attempt.isPromoted
                    ? promotedGates()
                    : await evaluateGates(for: attempt.request, in: runner.world.currentState(), lock: LockVerdict())
                guard
                    await perform(machine.gatesEvaluated(gates.gates, dataLoss: gates.dataLoss, at: clock.now()))
                        .isRecorded, !machine.state.isFinal
                else { break }
            }
            // An abort may have landed while the gates were read: the step runs only if it is
            // still the one the machine waits for, and only once its start is recorded.
            guard machine.state == .executing(step: index, of: attempt.steps.count),
                await perform(machine.stepStarted(index: index, at: clock.now())).isRecorded,
                let started = machine.attempt
            else { break }
            attempt = started
            let context = StepContext(
                kind: attempt.request.kind, from: attempt.request.from, to: attempt.request.to,
                reason: attempt.reason ?? "")
            let (outcome, output) = await runner.run(attempt.request.steps[index], context: context)
            let finished = await perform(
                machine.stepFinished(index: index, outcome: outcome, output: output, at: clock.now()))
            guard finished.isRecorded else { break }
            next = finished.nextStep
        }
        await releaseIfFinished()
    }

    /// After the promotion, the gates about whether to promote have done their work (the
    /// target is the primary now); only read-only mode still stops the remaining steps.
    private func promotedGates() -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate) {
        restoringGates(lock: LockVerdict())
    }

    /// The lock and read-only mode: all that judges a roll back or the rest of a promoted plan.
    private func restoringGates(lock verdict: LockVerdict) -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate)
    {
        let readOnly = FailoverGateResult(
            gate: .readOnly, passed: !settings.isReadOnly,
            measured: settings.isReadOnly ? "regionwatch runs read-only" : "read-write")
        return (
            [FailoverGates.lockGate(holder: verdict.holder, problem: verdict.problem), readOnly],
            machine.attempt?.dataLoss ?? .unknown
        )
    }

    /// Tries the lock for `purpose`; keeps it when taken and `keep`, else gives it back at once.
    private func tryLock(as purpose: String, keep: Bool) async -> LockVerdict {
        switch await lock.acquire(holder: "\(operatorName) (pid \(getpid()), \(purpose))") {
        case .acquired:
            if keep { holdsLock = true } else { await lock.release() }
            return LockVerdict()
        case .heldBy(let holder): return LockVerdict(holder: holder)
        case .unavailable(let reason): return LockVerdict(problem: reason)
        }
    }

    /// What trying the lock found: another holder, a problem taking it, or neither.
    private struct LockVerdict {
        var holder: String?
        var problem: String?
    }

    /// What the machine's actions left for the caller to do.
    private struct ActionOutcome {
        /// Every audit record was written (otherwise nothing more may happen).
        var isRecorded = true
        /// The machine asks for the gates (after a start).
        var evaluatesGates = false
        /// The step to run next.
        var nextStep: Int?
    }

    /// Carries out every action the machine returned, in order: audit records first (a record
    /// that cannot be written stops the attempt: nothing happens that is not recorded).
    @discardableResult
    private func perform(_ actions: [FailoverAction], notify: Bool = true) async -> ActionOutcome {
        var outcome = ActionOutcome()
        var ok = true
        for action in actions {
            switch action {
            case .audit(let record):
                do {
                    try await audit.record(
                        AuditEntry(record, at: clock.now(), rtoObjectiveSeconds: rtoObjectiveSeconds))
                } catch {
                    problem = "audit log: \(error); stopping"
                    ok = false
                }
            case .evaluateGates:
                outcome.evaluatesGates = true
            case .askForConfirmation:
                confirmationProblem = nil
            case .rejectConfirmation(let message):
                confirmationProblem = message
            case .runStep(let index):
                outcome.nextStep = ok ? index : nil
            case .finished:
                // The lock is released once the caller is done with this transition.
                outcome.nextStep = nil
            case .rejected(let reason):
                rejection = reason
            }
        }
        outcome.isRecorded = ok
        if !ok, !machine.state.isFinal {
            // Nothing more may happen unrecorded: the attempt ends (its finish record cannot be
            // written either; the next start finds it interrupted) and the lock is released.
            _ = machine.auditFailed(at: clock.now())
            outcome.nextStep = nil
            await releaseIfFinished()
        }
        if notify || !ok { observer(snapshot) }
        return outcome
    }

    private func releaseIfFinished() async {
        if machine.state.isFinal || machine.state == .steady, holdsLock {
            holdsLock = false
            await lock.release()
        }
    }

    static func newID(at time: Timestamp) -> String {
        "\(time.iso8601.filter { $0.isNumber })-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }
}
