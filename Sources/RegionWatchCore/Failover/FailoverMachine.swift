/// Where a failover attempt is.
public enum FailoverMachineState: Sendable, Equatable {
    case steady
    /// Gates are being evaluated.
    case preflight
    /// Gates allow it; waiting for the operator to type the target's name and a reason.
    case awaitingConfirmation
    /// Step `step` (0-based) of `of` is running.
    case executing(step: Int, of: Int)
    case completed
    /// A step failed (or timed out) and its policy was to abort.
    case failed
    /// The operator aborted, before or between steps.
    case aborted
    /// A gate refused, and it was not forced.
    case refused

    /// Whether the attempt is over.
    public var isFinal: Bool {
        switch self {
        case .completed, .failed, .aborted, .refused: true
        default: false
        }
    }

    /// The name used on screen and in the audit log.
    public var name: String {
        switch self {
        case .steady: "steady"
        case .preflight: "preflight"
        case .awaitingConfirmation: "awaiting-confirmation"
        case .executing(let step, let count): "executing step \(step + 1) of \(count)"
        case .completed: "completed"
        case .failed: "failed"
        case .aborted: "aborted"
        case .refused: "refused"
        }
    }
}

/// How an attempt relates to an earlier one that stopped half-way.
public enum FailoverContinuation: Sendable, Equatable, Codable {
    /// Runs the remaining steps of the attempt with this id.
    case resumes(String)
    /// Undoes, in reverse, the completed steps of the attempt with this id.
    case rollsBack(String)

    /// The earlier attempt's id.
    public var attemptID: String {
        switch self {
        case .resumes(let id), .rollsBack(let id): id
        }
    }
}

/// What the operator asked for.
public struct FailoverRequest: Sendable, Equatable {
    public var id: String
    public var kind: FailoverKind
    public var from: String
    public var to: String
    /// `user@host`.
    public var operatorName: String
    public var steps: [FailoverPlanStep]
    /// Gates the operator forces, each with a reason.
    public var forcedGates: [FailoverGateKind: String]
    /// Set when it resumes or rolls back an attempt that stopped half-way.
    public var continuation: FailoverContinuation?
    /// A resume: the records of the steps the resumed attempt ran (they are not run again).
    public var priorSteps: [FailoverStepRecord] = []
    /// A resume after a promotion: the loss measured then (the record keeps it).
    public var priorDataLossAtPromotion: DataLossEstimate?

    public init(
        id: String,
        kind: FailoverKind,
        from: String,
        to: String,
        operatorName: String,
        steps: [FailoverPlanStep],
        forcedGates: [FailoverGateKind: String] = [:],
        continuation: FailoverContinuation? = nil,
        priorSteps: [FailoverStepRecord] = []
    ) {
        self.id = id
        self.kind = kind
        self.from = from
        self.to = to
        self.operatorName = operatorName
        self.steps = steps
        self.forcedGates = forcedGates
        self.continuation = continuation
        self.priorSteps = priorSteps
    }

    /// What it is, in words: `switchover us-east-1 → eu-west-1`, or `roll back of …` /
    /// `resume of …` for a continuation.
    public var title: String {
        let move = "\(kind.rawValue) \(from) → \(to)"
        switch continuation {
        case .resumes?: return "resume of " + move
        case .rollsBack?: return "roll back of " + move
        case nil: return move
        }
    }

    /// `results` with the operator's reason on each failed gate it forces (per gate; never
    /// read-only).
    public func applyingForces(to results: [FailoverGateResult]) -> [FailoverGateResult] {
        results.map { result in
            var result = result
            if !result.passed, result.gate.isForceable, let reason = forcedGates[result.gate] {
                result.forcedReason = reason
            }
            return result
        }
    }
}

/// Inputs to the machine.
public enum FailoverEvent: Sendable, Equatable {
    case start(FailoverRequest, at: Timestamp)
    /// The gates' verdicts, with the estimated data loss at that moment: first in preflight,
    /// then again while the operator confirms (what is shown is what will be used), and just
    /// before every step with side effects (a gate turned red stops the plan there).
    case gatesEvaluated([FailoverGateResult], dataLoss: DataLossEstimate, at: Timestamp)
    /// The operator typed a target name and a reason.
    case confirm(typedTarget: String, reason: String, at: Timestamp)
    /// Esc: before confirmation it cancels; during execution it aborts between steps.
    case abort(at: Timestamp)
    case stepStarted(index: Int, at: Timestamp)
    case stepFinished(index: Int, outcome: FailoverStepOutcome, output: String, at: Timestamp)
    /// The operator acknowledged a finished attempt.
    case acknowledge
    /// The audit log could not be written: nothing more may happen unrecorded. Ends any attempt
    /// under way as failed.
    case auditFailed(at: Timestamp)
}

/// What the machine asks its driver to do.
public enum FailoverAction: Sendable, Equatable {
    case evaluateGates
    case askForConfirmation
    /// The confirmation was not accepted; stay and say why.
    case rejectConfirmation(String)
    case runStep(Int)
    /// Append this record to the audit log (and fsync) before anything else happens.
    case audit(FailoverAuditRecord)
    /// An operator's request (or gates that arrived after the attempt ended) does not apply in
    /// this state: nothing changed, and why.
    case rejected(String)
    case finished(FailoverMachineState)
}

/// One attempt as it unfolds: the audit record's content.
public struct FailoverAttempt: Sendable, Equatable {
    public var request: FailoverRequest
    public var requestedAt: Timestamp
    public var gates: [FailoverGateResult] = []
    /// The data a promotion would lose, as estimated when the gates were last evaluated.
    public var dataLoss = DataLossEstimate.unknown
    /// The data loss measured just before the promotion step ran.
    public var dataLossAtPromotion: DataLossEstimate?
    /// Whether a promotion step succeeded: only then is data lost.
    public var reason: String?
    public var confirmedAt: Timestamp?
    public var steps: [FailoverStepRecord]
    public var isPromoted = false
    public var endedAt: Timestamp?
    public var abortRequested = false

    public init(request: FailoverRequest, requestedAt: Timestamp) {
        self.request = request
        self.requestedAt = requestedAt
        steps = request.steps.map { FailoverStepRecord(name: $0.name, kind: $0.action.kind) }
        for index in request.priorSteps.indices where index < steps.count {
            steps[index] = request.priorSteps[index]
            if request.priorSteps[index].outcome == .succeeded, request.steps[index].action.isPromotion {
                isPromoted = true
            }
        }
        dataLossAtPromotion = request.priorDataLossAtPromotion
    }

    /// Measured RTO: from confirmation to the end of the last step (or `now`). Never negative
    /// and never less than the steps already finished took, even when `now` comes from a clock
    /// a moment behind the one that timed the steps.
    public func measuredRTO(at now: Timestamp) -> Double? {
        guard let confirmedAt else { return nil }
        let latestStepTime = steps.compactMap { $0.endedAt ?? $0.startedAt }.max()
        let end = endedAt ?? max(now, latestStepTime ?? now)
        let finished = steps.compactMap { step in step.endedAt.flatMap { _ in step.seconds(at: end) } }.reduce(0, +)
        return max(0, end.seconds(since: confirmedAt), finished)
    }

    /// The data this attempt lost: what was measured at promotion, once a promotion succeeded;
    /// `nil` when nothing was promoted (nothing was lost).
    public var recordedDataLoss: DataLossEstimate? {
        isPromoted ? (dataLossAtPromotion ?? dataLoss) : nil
    }

    /// Whether a step ended with a warning (a fence that could not reach the old primary).
    public var hasWarnings: Bool { steps.contains { $0.outcome == .warning } }

    /// Indices of steps with side effects that changed something, or may have: they ran to
    /// their end (succeeded, or with a warning), or started and their end is unknown (a crash;
    /// a roll back undoes them too, which is harmless when they did nothing).
    public var changedSteps: [Int] {
        steps.indices.filter { index in
            let ran = [.succeeded, .warning].contains(steps[index].outcome)
            let unknown = steps[index].startedAt != nil && steps[index].outcome == nil
            return (ran || unknown) && request.steps[index].action.hasSideEffects
        }
    }

    /// The records a resume carries over: every step that ran to its end (succeeded, or with a
    /// warning), by position; the others are run again.
    public var stepsDone: [FailoverStepRecord] {
        steps.map {
            [.succeeded, .warning].contains($0.outcome) ? $0 : FailoverStepRecord(name: $0.name, kind: $0.kind)
        }
    }

    /// Whether a promotion may have happened: it succeeded, or it started and its end is not
    /// known (a crash, a timeout: the server may have promoted anyway).
    public var mayHavePromoted: Bool {
        isPromoted
            || steps.indices.contains { index in
                request.steps[index].action.isPromotion && steps[index].startedAt != nil
                    && ![.failed, .blocked, .skipped].contains(steps[index].outcome)
            }
    }

    /// This attempt after a roll back of it (attempt `rollbackID`, whose steps ended as
    /// `undoSteps`) stopped half-way, or `nil` when nothing it changed remains. Undo step `i`
    /// undid completed step `changedSteps.reversed()[i]`. An undo that started and
    /// whose end is unknown (a crash) counts as undone: a resume runs the step again (fencing
    /// twice is harmless), while undoing twice is never assumed safe.
    public func undoing(_ undoSteps: [FailoverStepRecord], by rollbackID: String) -> FailoverAttempt? {
        var remaining = self
        for (undo, original) in zip(undoSteps, changedSteps.reversed()) {
            let undone =
                [.succeeded, .warning].contains(undo.outcome) || (undo.startedAt != nil && undo.endedAt == nil)
            guard undone else { continue }
            remaining.steps[original].outcome = .skipped
            remaining.steps[original].output = "undone by roll back \(rollbackID)"
        }
        return remaining.changedSteps.isEmpty ? nil : remaining
    }

    /// The steps a roll back runs: the undo of each completed step, newest first; or why it
    /// cannot be rolled back (a promotion ran, or a completed step has no undo).
    public var rollbackSteps: Result<[FailoverPlanStep], FailoverRollbackProblem> {
        if mayHavePromoted {
            return .failure(FailoverRollbackProblem(description: "\(request.to) was promoted: fail back instead"))
        }
        var undo: [FailoverPlanStep] = []
        for index in changedSteps.reversed() {
            guard let step = request.steps[index].undoStep else {
                return .failure(
                    FailoverRollbackProblem(
                        description:
                            "step \(index + 1) (\(request.steps[index].name)) has no undo: configure one with undo:"))
            }
            undo.append(step)
        }
        return .success(undo)
    }
}

/// The failover state machine, in the style of swift-nio's `*StateMachine` types: a value whose
/// attempt lives inside its states, one method per input, each returning what the driver must
/// do, in order. It never performs I/O; the driver (dashboard or headless command) evaluates
/// gates, runs steps and writes the audit log as asked, and feeds back what happened. The same
/// machine runs switchovers, failovers, failbacks, drills, resumes and roll backs.
///
/// An operator's input that does not apply in the current state changes nothing and returns
/// `.rejected(why)`; a step report the machine did not ask for is a programming error.
public struct FailoverMachine: Sendable, Equatable {
    private enum State: Sendable, Equatable {
        case steady
        case preflight(FailoverAttempt)
        case awaitingConfirmation(FailoverAttempt)
        /// Step `step` is the one the machine asked to run (it may not have started yet).
        case executing(FailoverAttempt, step: Int)
        /// Completed, failed, aborted or refused: shown until acknowledged or replaced.
        case finished(FailoverAttempt, FailoverMachineState)
    }

    private var current = State.steady
    /// An attempt that aborted or failed after changing something (a fence, a promotion, a
    /// program): kept, even once acknowledged, until a resume or roll back of it completes or
    /// a later move completes. The operator sees which steps ran and chooses.
    public private(set) var unresolved: FailoverAttempt?

    /// A machine at rest; `unresolved` is an attempt found half-done in the audit history.
    public init(unresolved: FailoverAttempt? = nil) {
        self.unresolved = unresolved
    }

    /// Where the attempt is.
    public var state: FailoverMachineState {
        switch current {
        case .steady: .steady
        case .preflight: .preflight
        case .awaitingConfirmation: .awaitingConfirmation
        case .executing(let attempt, let step): .executing(step: step, of: attempt.steps.count)
        case .finished(_, let final): final
        }
    }

    /// The attempt under way or last finished; `nil` at rest.
    public var attempt: FailoverAttempt? {
        switch current {
        case .steady: nil
        case .preflight(let attempt), .awaitingConfirmation(let attempt), .executing(let attempt, _),
            .finished(let attempt, _):
            attempt
        }
    }

    /// Applies one event by calling the method for it (for drivers that queue events).
    public mutating func handle(_ event: FailoverEvent) -> [FailoverAction] {
        switch event {
        case .start(let request, let at): start(request, at: at)
        case .gatesEvaluated(let results, let dataLoss, let at): gatesEvaluated(results, dataLoss: dataLoss, at: at)
        case .confirm(let typed, let reason, let at): confirm(typedTarget: typed, reason: reason, at: at)
        case .abort(let at): abort(at: at)
        case .stepStarted(let index, let at): stepStarted(index: index, at: at)
        case .stepFinished(let index, let outcome, let output, let at):
            stepFinished(index: index, outcome: outcome, output: output, at: at)
        case .acknowledge: acknowledge()
        case .auditFailed(let at): auditFailed(at: at)
        }
    }

    /// The operator asks for a move: the gates are evaluated next.
    public mutating func start(_ request: FailoverRequest, at: Timestamp) -> [FailoverAction] {
        switch current {
        case .steady, .finished:
            current = .preflight(FailoverAttempt(request: request, requestedAt: at))
            return [.evaluateGates]
        case .preflight, .awaitingConfirmation, .executing:
            return [.rejected("an attempt is under way (\(state.name)): finish or abort it first")]
        }
    }

    /// The gates' verdicts, with the estimated data loss at that moment: first in preflight,
    /// then again while the operator confirms (what is shown is what will be used), and just
    /// before every step with side effects (a gate turned red stops the plan there).
    public mutating func gatesEvaluated(
        _ results: [FailoverGateResult], dataLoss: DataLossEstimate, at: Timestamp
    ) -> [FailoverAction] {
        switch current {
        case .preflight(var attempt):
            attempt.gates = attempt.request.applyingForces(to: results)
            attempt.dataLoss = dataLoss
            if attempt.gates.contains(where: { !$0.allows }) { return finish(attempt, as: .refused, at: at) }
            current = .awaitingConfirmation(attempt)
            return [.askForConfirmation]

        case .awaitingConfirmation(var attempt):
            // Shown as they are now; a gate that is red at confirmation refuses then.
            attempt.gates = attempt.request.applyingForces(to: results)
            attempt.dataLoss = dataLoss
            current = .awaitingConfirmation(attempt)
            return []

        case .executing(var attempt, let step):
            guard attempt.steps[step].startedAt == nil else {
                return [.rejected("gates evaluated after step \(step + 1) started: not used")]
            }
            // Esc while the gates were re-checked: the step does not run.
            if attempt.abortRequested { return finish(attempt, as: .aborted, at: at) }
            let gates = attempt.request.applyingForces(to: results)
            attempt.dataLoss = dataLoss
            if attempt.request.steps[step].action.isPromotion { attempt.dataLossAtPromotion = dataLoss }
            let recheck = FailoverAction.audit(
                .gatesRechecked(id: attempt.request.id, index: step, gates: gates, dataLoss: dataLoss))
            let refusing = gates.filter { !$0.allows }
            guard refusing.isEmpty else {
                attempt.gates = gates
                attempt.steps[step].startedAt = at
                attempt.steps[step].endedAt = at
                attempt.steps[step].outcome = .blocked
                attempt.steps[step].output =
                    "stopped before this step: "
                    + refusing.map { "\($0.gate.rawValue): \($0.measured)" }.joined(separator: "; ")
                let blocked = FailoverAction.audit(
                    .stepFinished(id: attempt.request.id, index: step, step: attempt.steps[step]))
                return [recheck, blocked] + finish(attempt, as: .failed, at: at)
            }
            current = .executing(attempt, step: step)
            return [recheck]

        case .steady, .finished:
            return [.rejected("gates evaluated after the attempt moved on (\(state.name)): not used")]
        }
    }

    /// The operator typed a target name and a reason.
    public mutating func confirm(typedTarget: String, reason: String, at: Timestamp) -> [FailoverAction] {
        guard case .awaitingConfirmation(var attempt) = current else {
            return [.rejected("nothing awaits confirmation (\(state.name))")]
        }
        guard typedTarget.trimmed() == attempt.request.to else {
            return [.rejectConfirmation("type the target region's name exactly: \(attempt.request.to)")]
        }
        let trimmedReason = reason.trimmed()
        guard !trimmedReason.isEmpty else { return [.rejectConfirmation("give a reason: it goes into the audit log")] }
        attempt.reason = trimmedReason
        attempt.confirmedAt = at
        // A gate that turned red while the dialog was open: nothing runs.
        if attempt.gates.contains(where: { !$0.allows }) { return finish(attempt, as: .refused, at: at) }
        let confirmed = FailoverAction.audit(.confirmed(attempt))
        // A resume starts after the steps its earlier attempt ran.
        guard let first = attempt.steps.firstIndex(where: { $0.outcome == nil }) else {
            return [confirmed] + finish(attempt, as: .completed, at: at)
        }
        current = .executing(attempt, step: first)
        return [confirmed, .runStep(first)]
    }

    /// Esc: before confirmation it cancels; during execution it stops before the next step
    /// (at once when that step has not started).
    public mutating func abort(at: Timestamp) -> [FailoverAction] {
        switch current {
        case .preflight(let attempt), .awaitingConfirmation(let attempt):
            return finish(attempt, as: .aborted, at: at)
        case .executing(var attempt, let step):
            if attempt.steps[step].startedAt == nil { return finish(attempt, as: .aborted, at: at) }
            attempt.abortRequested = true
            current = .executing(attempt, step: step)
            return []
        case .steady, .finished:
            return [.rejected("nothing to abort (\(state.name))")]
        }
    }

    /// The runner started the step the machine asked for.
    public mutating func stepStarted(index: Int, at: Timestamp) -> [FailoverAction] {
        guard case .executing(var attempt, let step) = current, index == step, attempt.steps[step].startedAt == nil
        else {
            preconditionFailure("impossible failover transition: step \(index + 1) started in state \(state.name)")
        }
        attempt.steps[index].startedAt = at
        current = .executing(attempt, step: step)
        return [.audit(.stepStarted(id: attempt.request.id, index: index, step: attempt.steps[index]))]
    }

    /// The runner finished the step the machine asked for: the next step, or the end.
    public mutating func stepFinished(
        index: Int, outcome: FailoverStepOutcome, output: String, at: Timestamp
    ) -> [FailoverAction] {
        guard case .executing(var attempt, let step) = current, index == step else {
            preconditionFailure("impossible failover transition: step \(index + 1) finished in state \(state.name)")
        }
        if attempt.steps[index].startedAt == nil { attempt.steps[index].startedAt = at }
        attempt.steps[index].endedAt = at
        attempt.steps[index].outcome = outcome
        attempt.steps[index].output = output
        if outcome == .succeeded, attempt.request.steps[index].action.isPromotion, attempt.request.kind != .drill {
            attempt.isPromoted = true
        }
        let recorded = FailoverAction.audit(
            .stepFinished(id: attempt.request.id, index: index, step: attempt.steps[index]))
        if outcome == .failed || outcome == .timedOut, attempt.request.steps[index].onFailure == .abort {
            return [recorded] + finish(attempt, as: .failed, at: at)
        }
        if attempt.abortRequested { return [recorded] + finish(attempt, as: .aborted, at: at) }
        // The next step not already done (a resume carries the steps that ran).
        guard let next = attempt.steps.indices.first(where: { $0 > index && attempt.steps[$0].outcome == nil }) else {
            return [recorded] + finish(attempt, as: .completed, at: at)
        }
        current = .executing(attempt, step: next)
        return [recorded, .runStep(next)]
    }

    /// The operator acknowledged a finished attempt: it leaves the screen.
    public mutating func acknowledge() -> [FailoverAction] {
        guard case .finished = current else { return [.rejected("nothing finished to acknowledge (\(state.name))")] }
        current = .steady
        return []
    }

    /// The audit history (read again, possibly another operator's) names the attempt that
    /// stopped half-way, or none. Taken only at rest: an attempt under way knows better.
    public mutating func historyRead(unresolved found: FailoverAttempt?) -> [FailoverAction] {
        switch current {
        case .steady, .finished:
            unresolved = found
            return []
        case .preflight, .awaitingConfirmation, .executing:
            return [.rejected("history read while an attempt is under way (\(state.name)): not used")]
        }
    }

    /// The audit log could not be written: nothing more may happen unrecorded. Ends any attempt
    /// under way as failed (a step that started is marked failed: its end was not recorded).
    public mutating func auditFailed(at: Timestamp) -> [FailoverAction] {
        switch current {
        case .preflight(let attempt), .awaitingConfirmation(let attempt):
            return finish(attempt, as: .failed, at: at)
        case .executing(var attempt, let step):
            if attempt.steps[step].startedAt != nil, attempt.steps[step].outcome == nil {
                attempt.steps[step].endedAt = at
                attempt.steps[step].outcome = .failed
                attempt.steps[step].output = "the audit log could not be written: stopped"
            }
            return finish(attempt, as: .failed, at: at)
        case .steady, .finished:
            return []
        }
    }

    private mutating func finish(
        _ ending: FailoverAttempt, as final: FailoverMachineState, at: Timestamp
    ) -> [FailoverAction] {
        var attempt = ending
        attempt.endedAt = at
        for index in attempt.steps.indices where attempt.steps[index].outcome == nil {
            attempt.steps[index].outcome = .skipped
        }
        current = .finished(attempt, final)
        unresolved = Self.unresolved(after: attempt, ended: final, before: unresolved)
        return [.audit(.finished(attempt, state: final)), .finished(final)]
    }

    /// What stays half-done once `attempt` ended as `final`: a completed move resolves
    /// everything; a move stopped after a side effect is the new half-done one; a roll back
    /// stopped half-way leaves the attempt it rolled back minus what it undid. A drill changes
    /// nothing real: it neither leaves nor resolves a half-done move.
    public static func unresolved(
        after attempt: FailoverAttempt, ended final: FailoverMachineState, before: FailoverAttempt?
    ) -> FailoverAttempt? {
        guard attempt.request.kind != .drill else { return before }
        switch final {
        case .completed:
            return nil
        case .aborted, .failed:
            if case .rollsBack(let id) = attempt.request.continuation {
                guard let rolledBack = before, rolledBack.request.id == id else { return before }
                return rolledBack.undoing(attempt.steps, by: attempt.request.id)
            }
            return attempt.changedSteps.isEmpty ? before : attempt
        default:
            return before
        }
    }
}

/// Why an attempt cannot be rolled back.
public struct FailoverRollbackProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// One line of the audit log.
public enum FailoverAuditRecord: Sendable, Equatable {
    /// The operator confirmed: gates, forced gates, reason, the plan.
    case confirmed(FailoverAttempt)
    case stepStarted(id: String, index: Int, step: FailoverStepRecord)
    case stepFinished(id: String, index: Int, step: FailoverStepRecord)
    /// The gates as re-checked just before step `index` (which has side effects).
    case gatesRechecked(id: String, index: Int, gates: [FailoverGateResult], dataLoss: DataLossEstimate)
    /// The attempt ended (completed, failed, aborted or refused), with every step and the RTO.
    case finished(FailoverAttempt, state: FailoverMachineState)

    /// The attempt this record belongs to.
    public var attemptID: String {
        switch self {
        case .confirmed(let attempt), .finished(let attempt, _): attempt.request.id
        case .stepStarted(let id, _, _), .stepFinished(let id, _, _), .gatesRechecked(let id, _, _, _): id
        }
    }
}
