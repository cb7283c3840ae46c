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
            if !result.passed, result.gate.isForceable, let reason = forcedGates[result.gate] { result.forcedReason = reason }
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
            if request.priorSteps[index].outcome == .succeeded, request.steps[index].action.isPromotion { isPromoted = true }
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

    /// Indices of steps that changed something and ran (succeeded, or ran with a warning).
    public var completedSideEffects: [Int] {
        steps.indices.filter { index in
            [.succeeded, .warning].contains(steps[index].outcome) && request.steps[index].action.hasSideEffects
        }
    }

    /// The records a resume carries over: every step that ran to its end (succeeded, or with a
    /// warning), by position; the others are run again.
    public var stepsDone: [FailoverStepRecord] {
        steps.map { [.succeeded, .warning].contains($0.outcome) ? $0 : FailoverStepRecord(name: $0.name, kind: $0.kind) }
    }

    /// Whether a promotion may have happened: it succeeded, or it started and its end is not
    /// known (a crash, a timeout: the server may have promoted anyway).
    public var mayHavePromoted: Bool {
        isPromoted || steps.indices.contains { index in
            request.steps[index].action.isPromotion && steps[index].startedAt != nil && ![.failed, .blocked, .skipped].contains(steps[index].outcome)
        }
    }

    /// The steps a roll back runs: the undo of each completed step, newest first; or why it
    /// cannot be rolled back (a promotion ran, or a completed step has no undo).
    public var rollbackSteps: Result<[FailoverPlanStep], FailoverRollbackProblem> {
        if mayHavePromoted { return .failure(FailoverRollbackProblem(description: "\(request.to) was promoted: fail back instead")) }
        var undo: [FailoverPlanStep] = []
        for index in completedSideEffects.reversed() {
            guard let step = request.steps[index].undoStep else {
                return .failure(FailoverRollbackProblem(description: "step \(index + 1) (\(request.steps[index].name)) has no undo: configure one with undo:"))
            }
            undo.append(step)
        }
        return .success(undo)
    }
}

/// The failover state machine: a value, events in, actions out. It never performs I/O; the
/// driver (dashboard or headless command) evaluates gates, runs steps and writes the audit log
/// as asked, and feeds back what happened. The same machine runs switchovers, failovers,
/// failbacks and drills.
public struct FailoverMachine: Sendable, Equatable {
    public private(set) var state: FailoverMachineState = .steady
    public private(set) var attempt: FailoverAttempt?
    /// An attempt that aborted or failed after changing something (a fence, a promotion, a
    /// program): kept, even once acknowledged, until a resume or roll back of it completes or
    /// a later move completes. The operator sees which steps ran and chooses.
    public private(set) var unresolved: FailoverAttempt?

    /// A machine at rest; `unresolved` is an attempt found half-done in the audit log.
    public init(unresolved: FailoverAttempt? = nil) {
        self.unresolved = unresolved
    }

    /// Applies one event and returns what to do, in order.
    public mutating func handle(_ event: FailoverEvent) -> [FailoverAction] {
        switch (state, event) {
        case (_, .start(let request, let at)) where state == .steady || state.isFinal:
            attempt = FailoverAttempt(request: request, requestedAt: at)
            state = .preflight
            return [.evaluateGates]

        case (.preflight, .gatesEvaluated(let results, let dataLoss, let at)):
            guard var attempt else { return [] }
            attempt.gates = attempt.request.applyingForces(to: results)
            attempt.dataLoss = dataLoss
            self.attempt = attempt
            if attempt.gates.contains(where: { !$0.allows }) {
                return finish(.refused, at: at)
            }
            state = .awaitingConfirmation
            return [.askForConfirmation]

        case (.awaitingConfirmation, .gatesEvaluated(let results, let dataLoss, _)):
            // Shown as they are now; a gate that is red at confirmation refuses then.
            guard var attempt else { return [] }
            attempt.gates = attempt.request.applyingForces(to: results)
            attempt.dataLoss = dataLoss
            self.attempt = attempt
            return []

        case (.executing(let step, _), .gatesEvaluated(let results, let dataLoss, let at)):
            guard var attempt, attempt.steps[step].startedAt == nil else { return [] }
            // Esc while the gates were re-checked: the step does not run.
            if attempt.abortRequested { return finish(.aborted, at: at) }
            let gates = attempt.request.applyingForces(to: results)
            attempt.dataLoss = dataLoss
            if attempt.request.steps[step].action.isPromotion { attempt.dataLossAtPromotion = dataLoss }
            var actions: [FailoverAction] = [.audit(.gatesRechecked(id: attempt.request.id, index: step, gates: gates, dataLoss: dataLoss))]
            let refusing = gates.filter { !$0.allows }
            if !refusing.isEmpty {
                attempt.steps[step].startedAt = at
                attempt.steps[step].endedAt = at
                attempt.steps[step].outcome = .blocked
                attempt.steps[step].output = "stopped before this step: " + refusing.map { "\($0.gate.rawValue): \($0.measured)" }.joined(separator: "; ")
                attempt.gates = gates
                self.attempt = attempt
                actions.append(.audit(.stepFinished(id: attempt.request.id, index: step, step: attempt.steps[step])))
                return actions + finish(.failed, at: at)
            }
            self.attempt = attempt
            return actions

        case (.awaitingConfirmation, .confirm(let typed, let reason, let at)):
            guard var attempt else { return [] }
            guard typed.trimmed() == attempt.request.to else {
                return [.rejectConfirmation("type the target region's name exactly: \(attempt.request.to)")]
            }
            let trimmedReason = reason.trimmed()
            guard !trimmedReason.isEmpty else { return [.rejectConfirmation("give a reason: it goes into the audit log")] }
            attempt.reason = trimmedReason
            attempt.confirmedAt = at
            self.attempt = attempt
            if attempt.gates.contains(where: { !$0.allows }) {
                // A gate turned red while the dialog was open: nothing runs.
                return finish(.refused, at: at)
            }
            var actions: [FailoverAction] = [.audit(.confirmed(attempt))]
            // A resume starts after the steps its earlier attempt ran.
            guard let first = attempt.steps.firstIndex(where: { $0.outcome == nil }) else { return actions + finish(.completed, at: at) }
            state = .executing(step: first, of: attempt.steps.count)
            actions.append(.runStep(first))
            return actions

        case (.preflight, .abort(let at)), (.awaitingConfirmation, .abort(let at)):
            return finish(.aborted, at: at)

        case (.executing(let step, _), .abort(let at)):
            attempt?.abortRequested = true
            // Between steps (the next one not started yet): it ends now, not after that step.
            if attempt?.steps[step].startedAt == nil { return finish(.aborted, at: at) }
            return []

        case (.executing(let step, _), .stepStarted(let index, let at)) where index == step:
            attempt?.steps[index].startedAt = at
            guard let attempt else { return [] }
            return [.audit(.stepStarted(id: attempt.request.id, index: index, step: attempt.steps[index]))]

        case (.executing(let step, let count), .stepFinished(let index, let outcome, let output, let at)) where index == step:
            guard var attempt else { return [] }
            if attempt.steps[index].startedAt == nil { attempt.steps[index].startedAt = at }
            attempt.steps[index].endedAt = at
            attempt.steps[index].outcome = outcome
            attempt.steps[index].output = output
            if outcome == .succeeded, attempt.request.steps[index].action.isPromotion, attempt.request.kind != .drill { attempt.isPromoted = true }
            self.attempt = attempt
            var actions: [FailoverAction] = [.audit(.stepFinished(id: attempt.request.id, index: index, step: attempt.steps[index]))]
            let failed = outcome == .failed || outcome == .timedOut
            if failed, attempt.request.steps[index].onFailure == .abort {
                return actions + finish(.failed, at: at)
            }
            if attempt.abortRequested {
                return actions + finish(.aborted, at: at)
            }
            // The next step not already done (a resume carries the steps that ran).
            guard let next = attempt.steps.indices.first(where: { $0 > index && attempt.steps[$0].outcome == nil }) else {
                return actions + finish(.completed, at: at)
            }
            state = .executing(step: next, of: count)
            actions.append(.runStep(next))
            return actions

        case (_, .acknowledge) where state.isFinal:
            state = .steady
            attempt = nil
            return []

        case (_, .auditFailed(let at)) where !state.isFinal && state != .steady:
            guard var attempt else { return [] }
            if case .executing(let step, _) = state, attempt.steps[step].startedAt != nil, attempt.steps[step].outcome == nil {
                attempt.steps[step].endedAt = at
                attempt.steps[step].outcome = .failed
                attempt.steps[step].output = "the audit log could not be written: stopped"
                self.attempt = attempt
            }
            return finish(.failed, at: at)
        case (_, .auditFailed):
            return []

        // What an operator (or a gate evaluation that an abort overtook) may send at any time.
        case (_, .start):
            return [.rejected("an attempt is under way (\(state.name)): finish or abort it first")]
        case (_, .confirm):
            return [.rejected("nothing awaits confirmation (\(state.name))")]
        case (_, .abort):
            return [.rejected("nothing to abort (\(state.name))")]
        case (_, .acknowledge):
            return [.rejected("nothing finished to acknowledge (\(state.name))")]
        case (_, .gatesEvaluated):
            return [.rejected("gates evaluated after the attempt moved on (\(state.name)): not used")]

        // Steps are reported only by the runner of the step the machine asked for.
        case (_, .stepStarted), (_, .stepFinished):
            preconditionFailure("impossible failover transition: \(event) in state \(state.name)")
        }
    }

    private mutating func finish(_ final: FailoverMachineState, at: Timestamp) -> [FailoverAction] {
        guard var attempt else { return [] }
        attempt.endedAt = at
        for index in attempt.steps.indices where attempt.steps[index].outcome == nil {
            attempt.steps[index].outcome = .skipped
        }
        self.attempt = attempt
        state = final
        // A drill changes nothing real: it neither leaves nor resolves a half-done move.
        switch final {
        case .completed where attempt.request.kind != .drill:
            unresolved = nil
        case .aborted where attempt.request.kind != .drill, .failed where attempt.request.kind != .drill:
            if !attempt.completedSideEffects.isEmpty { unresolved = attempt }
        default:
            break
        }
        return [.audit(.finished(attempt, state: final)), .finished(final)]
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
