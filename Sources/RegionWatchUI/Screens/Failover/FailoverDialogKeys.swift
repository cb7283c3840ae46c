import RegionWatchCore
import RegionWatchTerminal

/// The failover dialog's keys, one context per phase: typing the confirmation, a refusal (force
/// it), and an attempt that ended (close it, or resume or roll back one that stopped half-way).
enum FailoverDialogKeys {
    static let bindings: [KeyBinding] = [
        KeyBinding(
            [.tab, .backTab], "Tab", .switchField, "switch between the name and reason fields", .failoverDialog,
            hints: KeyHint.on([.failoverDialog], "Tab", "field")),
        KeyBinding(
            [.enter], "Enter", .confirm, "next field; on the reason field, confirm (the name must match)",
            .failoverDialog,
            hints: KeyHint.on([.failoverDialog], "Enter", "confirm")
        ),
        KeyBinding([.backspace], "Backspace", .deleteBackward, "delete the last character", .failoverDialog),
        KeyBinding(
            [.escape], "Esc", .cancel, "cancel before confirmation; abort the remaining steps while running",
            .failoverDialog,
            hints: KeyHint.on([.failoverDialog], "Esc", "cancel")
        ),
        KeyBinding(
            [.character("f")], "f", .force,
            "force the refusing gates: type a reason (recorded; line keys as on the command line), Enter retries, Esc cancels",
            .refusal, hints: KeyHint.on([.refusal], "f", "force")),
        KeyBinding(
            [.enter, .escape, .character("q")], "Enter Esc q", .confirm,
            "acknowledge the finished attempt and close the dialog", .finishedAttempt,
            hints: KeyHint.on([.finishedAttempt], "Enter Esc", "close")
        ),
        KeyBinding(
            [.character("C")], "C", .resumeUnresolved, "resume the attempt that stopped half-way", .finishedAttempt,
            hints: KeyHint.on([.finishedAttempt], "C", "resume")),
        KeyBinding(
            [.character("U")], "U", .rollBackUnresolved, "roll back the attempt that stopped half-way",
            .finishedAttempt, hints: KeyHint.on([.finishedAttempt], "U", "roll back")),
    ]
}

extension ViewState {
    /// Keys while an attempt is shown, from the dialog's key contexts: typing the
    /// confirmation, forcing a refusal, closing a finished attempt, Esc.
    mutating func handleFailoverKey(_ key: Key, state: DashboardState) -> [UIEffect] {
        let machine = state.failover.machine.state
        if machine == .refused, let attempt = state.failover.machine.attempt {
            let refusing = attempt.gates.filter { !$0.allows }
            let forceable = refusing.filter(\.gate.isForceable).map(\.gate)
            if let reason = failoverInput.forceReason {
                switch KeyMap.action(for: key, in: .typedLine, isDemo: false) {
                case .cancel:
                    failoverInput.forceReason = nil
                case .confirm:
                    let trimmed = reason.trimmed()
                    guard !trimmed.isEmpty else { return [] }
                    failoverInput = FailoverDialogInput()
                    // Gates forced before stay forced; a refused resume or roll back is retried
                    // as one (a fresh move would run the steps already done again).
                    let forced = attempt.request.forcedGates.merging(forceable.map { ($0, trimmed) }) { _, new in new }
                    let retry: FailoverIntent =
                        switch attempt.request.continuation {
                        case .resumes: .resume(forcedGates: forced)
                        case .rollsBack: .rollBack(forcedGates: forced)
                        case nil: .begin(kind: attempt.request.kind, target: attempt.request.to, forcedGates: forced)
                        }
                    return [.failover(retry)]
                default:
                    failoverInput.forceReason = LineEditor.edit(reason, with: key, maximumLength: 500) ?? reason
                }
                return []
            }
            if KeyMap.action(for: key, in: .refusal, isDemo: false) == .force {
                if !forceable.isEmpty, forceable.count == refusing.count {
                    failoverInput.forceReason = ""
                } else {
                    let unforceable = refusing.filter { !$0.gate.isForceable }.map(\.gate.rawValue)
                    message = StatusMessage(
                        unforceable.isEmpty
                            ? "nothing to force: no gate refused (\(state.failover.progress.problem ?? "the attempt could not start"))"
                            : "\(unforceable.joined(separator: ", ")) cannot be forced",
                        isError: true)
                }
                return []
            }
        }
        if machine.isFinal {
            switch KeyMap.action(for: key, in: .finishedAttempt, isDemo: false) {
            case .confirm:
                failoverInput = FailoverDialogInput()
                return [.failover(.acknowledge)]
            case .resumeUnresolved, .rollBackUnresolved:
                return continueUnresolved(resume: key == .character("C"), state: state)
            default:
                return []
            }
        }
        let action = KeyMap.action(for: key, in: .failoverDialog, isDemo: false)
        guard machine == .awaitingConfirmation else {
            return action == .cancel ? [.failover(.abort)] : []
        }
        switch action {
        case .cancel:
            return [.failover(.abort)]
        case .switchField:
            failoverInput.field = failoverInput.field == .target ? .reason : .target
        case .confirm:
            if failoverInput.field == .target {
                failoverInput.field = .reason
            } else {
                return [.failover(.confirm(typedTarget: failoverInput.target, reason: failoverInput.reason))]
            }
        default:
            if failoverInput.field == .target {
                failoverInput.target =
                    LineEditor.edit(failoverInput.target, with: key, maximumLength: 64) ?? failoverInput.target
            } else {
                failoverInput.reason =
                    LineEditor.edit(failoverInput.reason, with: key, maximumLength: 500) ?? failoverInput.reason
            }
        }
        return []
    }
}
