import RegionWatchCore
import RegionWatchTerminal

/// The failover dialog, over whatever screen is shown: candidates, gates, plan and the typed
/// confirmation; then step-by-step progress against the RTO clock; then the outcome.
struct FailoverDialog {
    let context: ScreenContext

    func lines(width: Int) -> [Line] {
        let theme = context.theme
        let state = context.state
        let failover = state.failover
        guard let attempt = failover.machine.attempt else { return [] }
        let request = attempt.request
        let machineState = failover.machine.state
        let now = state.now
        let rto = state.topology.objectives.rtoSeconds
        var lines: [Line] = []

        let prefix: String =
            switch request.continuation {
            case .resumes?: "RESUME OF "
            case .rollsBack?: "ROLL BACK OF "
            case nil: ""
            }
        var title = Line(prefix + request.kind.rawValue.uppercased(), style: theme[.title])
        title.append("  \(request.from) → \(request.to)", style: theme[.text].adding(.bold))
        title.append("  by \(request.operatorName)", style: theme[.muted])
        lines.append(title)
        let kindNote: String =
            switch request.kind {
            case .switchover: "planned: the primary is healthy; the target catches up before it is promoted"
            case .failover: "emergency: the primary is down or unreachable; promote now and accept the data loss shown"
            case .failback: "return the primary role to the configured primary"
            case .drill: "rehearsal: only steps marked safe run; the result is recorded as a drill"
            }
        lines.append(Line(kindNote, style: theme[.muted]))
        lines.append(Line())

        if machineState == .preflight || machineState == .awaitingConfirmation || machineState == .refused {
            lines += candidateLines()
            lines.append(Line())
        }

        lines.append(Line("Gates", style: theme[.tableHeader]))
        if attempt.gates.isEmpty {
            lines.append(Line(machineState == .preflight ? "  evaluating…" : "  none recorded", style: theme[.muted]))
        }
        for gate in attempt.gates {
            let (mark, style): (String, Style) =
                gate.passed
                ? ("✓ pass  ", theme[.ok])
                : (gate.forcedReason != nil ? ("! FORCED", theme[.warning]) : ("✗ FAIL  ", theme[.down].adding(.bold)))
            var line = Line("  " + mark + " ", style: style)
            line.append(TextFit.fit(gate.gate.rawValue, to: 15), style: theme[.text])
            line.append(gate.measured, style: gate.passed ? theme[.muted] : style)
            if let reason = gate.forcedReason { line.append(" (forced: \(reason))", style: theme[.warning]) }
            lines.append(line)
        }
        if attempt.dataLoss != .unknown {
            let within = attempt.dataLoss.known?.certainlyWithin(context.rpo) ?? false
            lines.append(
                Line(
                    "  data loss: \(attempt.dataLoss.text(at: context.now))",
                    style: within ? theme[.muted] : theme[.down]))
        }
        lines.append(Line())

        lines.append(Line("Plan", style: theme[.tableHeader]))
        let executing: Int? = if case .executing(let step, _) = machineState { step } else { nil }
        for (index, step) in attempt.steps.enumerated() {
            let glyph: String
            let style: Style
            switch step.outcome {
            case .succeeded?: (glyph, style) = ("✓", theme[.ok])
            case .failed?, .timedOut?, .blocked?: (glyph, style) = ("✗", theme[.down].adding(.bold))
            case .warning?: (glyph, style) = ("⚠", theme[.warning].adding(.bold))
            case .skipped?: (glyph, style) = ("–", theme[.muted])
            case nil: (glyph, style) = index == executing ? ("▶", theme[.warning].adding(.bold)) : ("·", theme[.muted])
            }
            var line = Line("  \(glyph) \(index + 1). ", style: style)
            line.append(step.name, style: index == executing ? theme[.text].adding(.bold) : theme[.text])
            line.append("  [\(step.kind)", style: theme[.muted])
            if index < request.steps.count {
                line.append(", timeout \(Format.duration(request.steps[index].timeoutSeconds))", style: theme[.muted])
            }
            line.append("]", style: theme[.muted])
            if let seconds = step.seconds(at: now) {
                line.append("  \(Format.fixed(seconds, decimals: 1))s", style: style)
            }
            if let outcome = step.outcome, outcome != .succeeded { line.append("  \(outcome.rawValue)", style: style) }
            lines.append(line)
            if let outcome = step.outcome, [.failed, .timedOut, .blocked, .warning].contains(outcome) {
                for output in step.output.split(separator: "\n").suffix(3) {
                    lines.append(Line("       " + output, style: theme[.error]))
                }
            }
        }
        lines.append(Line())

        if let elapsed = attempt.measuredRTO(at: now) {
            var clock = Line("RTO clock  ", style: theme[.tableHeader])
            clock.append(
                "\(Format.fixed(elapsed, decimals: 1))s",
                style: elapsed > rto ? theme[.down].adding(.bold) : theme[.text].adding(.bold))
            clock.append(" of \(Format.duration(rto))", style: theme[.muted])
            lines.append(clock)
        }

        switch machineState {
        case .awaitingConfirmation:
            let input = context.view.failoverInput
            lines.append(Line("Type the target region's name and a reason to proceed.", style: theme[.text]))
            var name = Line("  target  ", style: input.field == .target ? theme[.key] : theme[.muted])
            name.append(input.target + (input.field == .target ? "█" : ""), style: theme[.commandLine])
            if input.target != request.to { name.append("   (type: \(request.to))", style: theme[.muted]) }
            lines.append(name)
            var reason = Line("  reason  ", style: input.field == .reason ? theme[.key] : theme[.muted])
            reason.append(input.reason + (input.field == .reason ? "█" : ""), style: theme[.commandLine])
            lines.append(reason)
            if let problem = failover.progress.confirmationProblem {
                lines.append(Line("  " + problem, style: theme[.error]))
            }
        case .refused:
            let refusing = attempt.gates.filter { !$0.allows }
            for gate in refusing {
                lines.append(
                    Line("REFUSED by \(gate.gate.rawValue): \(gate.measured)", style: theme[.down].adding(.bold)))
            }
            if refusing.isEmpty, let problem = failover.progress.problem {
                lines.append(Line("REFUSED: \(problem)", style: theme[.down].adding(.bold)))
            }
            let forceable = !refusing.isEmpty && refusing.allSatisfy(\.gate.isForceable)
            if let reason = context.view.failoverInput.forceReason {
                lines.append(
                    Line(
                        "Force \(refusing.map(\.gate.rawValue).joined(separator: ", ")): type the reason (recorded), Enter retries, Esc cancels",
                        style: theme[.warning]))
                var input = Line("  reason  ", style: theme[.key])
                input.append(reason + "█", style: theme[.commandLine])
                lines.append(input)
            } else if forceable {
                lines.append(
                    Line(
                        "f forces \(refusing.count == 1 ? "this gate" : "these gates") with a reason (recorded) · Enter or Esc closes",
                        style: theme[.muted]))
            } else {
                lines.append(Line("This gate cannot be forced.", style: theme[.muted]))
            }
        case .completed, .failed, .aborted:
            if machineState != .completed, let unresolved = state.unresolvedFailover {
                lines.append(Line("UNRESOLVED: " + unresolved.summary, style: theme[.warning].adding(.bold)))
            }
            let rtoText = FailoverFormat.measuredRTO(attempt.measuredRTO(at: attempt.endedAt ?? now))
            let loss = FailoverFormat.dataLoss(attempt.recordedDataLoss, at: now)
            let warned = machineState == .completed && attempt.hasWarnings
            let style =
                machineState == .completed
                ? (warned ? theme[.warning] : theme[.ok]).adding(.bold) : theme[.down].adding(.bold)
            let outcome = FailoverFormat.outcome(machineState.name, hasWarnings: attempt.hasWarnings)
            lines.append(
                Line(
                    "\(outcome) · measured RTO \(rtoText) of \(Format.duration(rto)) · data loss \(loss)", style: style)
            )
        default:
            if failover.machine.attempt?.abortRequested == true {
                lines.append(Line("abort requested: the remaining steps will not run", style: theme[.warning]))
            }
        }
        if let problem = failover.progress.problem, machineState != .refused {
            lines.append(Line(problem, style: theme[.error]))
        }
        return lines
    }

    /// Every possible target with health, lag, bytes behind and the gate that blocks it.
    private func candidateLines() -> [Line] {
        let theme = context.theme
        let state = context.state
        guard let attempt = state.failover.machine.attempt else { return [] }
        var lines = [Line("Candidates", style: theme[.tableHeader])]
        let gateContext = FailoverGateContext(isReadOnly: state.failover.isReadOnly)
        for region in state.regions where region.role != .primary || attempt.request.kind == .drill {
            let (gates, loss) = FailoverGates.evaluate(
                kind: attempt.request.kind, target: region.name, in: state, context: gateContext)
            let blocking = gates.first { !$0.passed }
            var line = Line(region.name == attempt.request.to ? "  ▸ " : "    ", style: theme[.key])
            line.append(TextFit.fit(region.name, to: 16), style: theme[.text])
            line.append(
                "\(RegionText.glyph(region.health)) \(TextFit.fit(region.health.label, to: 9))",
                style: theme.style(for: region.health))
            let lossText = (loss.known?.compactText ?? Format.unknown) + (loss.unknownAfter == nil ? "" : "+?")
            line.append(
                " loss \(TextFit.fit(lossText, to: 8))",
                style: theme.lagStyle(state.replicationLag(of: region.name), rpo: context.rpo))
            line.append(
                " \(TextFit.fit(loss.knownBytes.map(Format.bytes) ?? Format.unknown, to: 8)) not received ",
                style: theme[.muted])
            line.append(
                blocking.map { "blocked by \($0.gate.rawValue)" } ?? "ready",
                style: blocking == nil ? theme[.ok] : theme[.warning])
            lines.append(line)
        }
        return lines
    }

    func render(in area: Rect, into frame: inout Frame) {
        let width = min(area.width - 2, 100)
        guard width >= 30 else { return }
        let content = context.wrap(lines(width: width - 4), width: width - 4, indent: 4)
        let height = min(area.height - 2, content.count + 2)
        guard height >= 3 else { return }
        let box = area.centered(width: width, height: height)
        let machineState = context.state.failover.machine.state
        let unresolved = context.state.unresolvedFailover != nil
        let note: String =
            switch machineState {
            case .awaitingConfirmation: KeyMap.hintLine(for: .failoverDialog)
            case .executing:
                "\(KeyMap.hints(for: .failoverDialog, isDemo: false).first { $0.binding.action == .cancel }?.hint.key ?? "Esc") aborts the remaining steps"
            case .preflight: "evaluating gates · " + KeyMap.hintLine(for: .failoverDialog) { $0 == .cancel }
            default:
                KeyMap.hintLine(for: .finishedAttempt) {
                    unresolved || !KeyMap.needsUnresolvedAttempt($0)
                }
            }
        let block = Block(
            title: Line("Failover", style: context.theme[.title]),
            note: Line(note, style: context.theme[.muted]),
            borders: .double, borderStyle: context.theme[.focusBorder], fillStyle: context.theme[.text]
        )
        frame.fill(box, style: .plain)
        block.render(in: box, into: &frame)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        // Keep the end (confirmation, progress, outcome) in view when the dialog is too tall.
        let scroll = max(0, content.count - inner.height)
        Paragraph(content, scroll: scroll).render(in: inner, into: &frame)
    }
}
