import ArgumentParser
import Foundation
import RegionWatchCollectors
import RegionWatchCore
#if canImport(Glibc)
import Glibc
import RegionWatchFailover
#endif

/// `regionwatch failover`: the same machine, gates and audit as the dashboard, without the UI.
struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Move the primary role to another region: gates, typed confirmation, the plan, the audit log.",
        discussion: """
            Exit status: 0 completed (or a dry run that gates allow), 1 a step failed or the run was aborted, \
            2 refused by a gate, not confirmed, or a usage error (an unknown or impossible target, a missing \
            reason, an unknown gate name). The result (gates, plan, outcome) goes to standard output; progress \
            and diagnostics to standard error.
            """
    )

    @OptionGroup var source: SourceOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The region to promote (a failback needs none: the configured primary).", valueName: "REGION"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("Why: recorded in the audit log.", valueName: "TEXT"))
    var reason: String?

    @Flag(name: .long, help: "Print the gates and the plan; execute nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Confirm without typing the target's name (for automation).")
    var yes = false

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Force a gate that refuses (target-healthy, lag-within-rpo, lock, cool-down, rejoined); needs --reason.",
            valueName: "GATE"))
    var force: [String] = []

    @Flag(name: .long, help: "Run a drill: only steps marked drill: true (everything in the demo).")
    var drill = false

    @Flag(name: .long, help: "Return the primary role to the configured primary (a failback).")
    var failback = false

    @Flag(
        name: .long,
        help:
            "Resume the attempt that stopped half-way (aborted, failed or interrupted): its remaining steps, gates re-checked."
    )
    var resume = false

    @Flag(
        name: .customLong("roll-back"),
        help: "Roll back the attempt that stopped half-way: undo its completed steps, newest first.")
    var rollBack = false

    @Flag(name: .long, help: "Print the outcome as JSON (the audit record).")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds to collect before evaluating gates (default: one collection interval).", valueName: "SECONDS"))
    var wait: Double?

    @OptionGroup var logging: LogOptions

    func validate() throws {
        if [drill, failback, resume, rollBack].filter({ $0 }).count > 1 {
            throw ValidationError("--drill, --failback, --resume and --roll-back exclude each other")
        }
    }

    /// The command's result in words: on standard output, unless `--json` makes the JSON
    /// record the result (then the words go to standard error, beside the progress).
    private func report(_ text: String) {
        if json { Console.error(text) } else { Console.output(text + "\n") }
    }

    /// Exits 2 with `message` on standard error: a usage problem found before anything ran.
    private func usage(_ message: String) -> ExitCode {
        Console.error("regionwatch failover: \(message)")
        return ExitCode(2)
    }

    /// The gates to force, each with the reason; exits 2 naming an unknown or unforceable gate.
    private func forcedGates() throws -> [FailoverGateKind: String] {
        let forceable = FailoverGateKind.allCases.filter(\.isForceable).map(\.rawValue).joined(separator: ", ")
        var forced: [FailoverGateKind: String] = [:]
        for name in force {
            guard let gate = FailoverGateKind(rawValue: name) else {
                throw usage("--force \(name): not a gate; one of \(forceable)")
            }
            guard gate.isForceable else {
                throw usage("--force \(name): read-only mode cannot be forced; forceable: \(forceable)")
            }
            forced[gate] = reason ?? ""
        }
        return forced
    }

    /// The target: `--to`, or for a failback the configured primary. Exits 2 when it names no
    /// configured region (checked before anything is collected, locked or recorded).
    private func target(in topology: Topology) throws -> String {
        let names = topology.regions.map(\.name)
        let configuredPrimary = topology.regions.first { $0.role == .primary }?.name
        guard let target = to ?? (failback ? configuredPrimary : nil) else {
            throw usage("--to REGION is required (one of \(names.joined(separator: ", ")))")
        }
        guard names.contains(target) else {
            throw usage("\(target) is not a configured region; regions: \(names.joined(separator: ", "))")
        }
        return target
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try source.loadConfiguration(environment: environment, listens: false)
        let forced = try forcedGates()
        let continuing = resume || rollBack
        if continuing, dryRun {
            throw usage(
                "--dry-run previews a new move; --resume and --roll-back show their plan before the confirmation")
        }
        let target = continuing ? (to ?? "") : try target(in: configuration.topology)
        if !dryRun, (reason ?? "").trimmed().isEmpty {
            throw usage(
                "--reason TEXT is required: it goes into the audit log\(force.isEmpty ? "" : " with every forced gate")"
            )
        }
        let clock = SystemWallClock()
        let collection = HeadlessCollection(configuration: configuration, clock: clock)
        defer { collection.shutdown() }
        await collection.collect(for: wait ?? max(configuration.longestIntervalSeconds * 2, 1.5))

        let state = collection.world.currentState()
        let kind: FailoverKind =
            drill
            ? .drill
            : (failback ? .failback : FailoverGates.kind(from: FailoverGates.currentPrimary(in: state), in: state))
        let coordinator = FailoverRuntime.coordinator(
            configuration: configuration, world: collection.world, clock: clock, environment: environment
        ) { snapshot in
            FailoverCommand.progress(snapshot)
        }
        if dryRun {
            switch await coordinator.preview(kind: kind, to: target, forcedGates: forced) {
            case .failure(let problem): throw usage(FailoverText.targetProblem(problem))
            case .success(let preview):
                if json {
                    Console.output(FailoverText.previewJSON(preview))
                } else {
                    Console.output(FailoverText.preview(preview))
                }
                throw ExitCode(preview.isAllowed ? 0 : 2)
            }
        }
        let begun: FailoverSnapshot
        if resume {
            begun = await coordinator.resume(forcedGates: forced)
        } else if rollBack {
            begun = await coordinator.rollBack(forcedGates: forced)
        } else {
            begun = await coordinator.begin(kind: kind, to: target, forcedGates: forced)
        }
        if let problem = begun.targetProblem { throw usage(FailoverText.targetProblem(problem)) }
        guard let attempt = begun.machine.attempt else {
            throw usage(begun.problem ?? "the attempt did not start")
        }
        if begun.machine.state == .failed, let problem = begun.problem {
            // The audit log refused its first record: nothing happened, and this is why.
            Console.error("stopped: \(problem)")
            throw ExitCode(1)
        }
        report(FailoverText.gates(attempt))
        if begun.machine.state == .refused {
            if json {
                Console.output(
                    FailoverText.json(
                        await coordinator.snapshot, rtoObjective: configuration.topology.objectives.rtoSeconds))
            }
            Console.error("refused: " + FailoverText.refusal(attempt))
            throw ExitCode(2)
        }
        report(FailoverText.plan(attempt))
        var typed = attempt.request.to
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                await coordinator.abort()
                Console.error(
                    "not confirmed: standard input is not a terminal; type the confirmation on a terminal or pass --yes"
                )
                throw ExitCode(2)
            }
            Console.error("Type the target region's name (\(attempt.request.to)) to confirm: ", newline: false)
            typed = await Self.readLineOffThePool()
        }
        let (finalTyped, finalReason) = (typed, reason ?? "")
        let confirmed = await coordinator.confirm(typedTarget: finalTyped, reason: finalReason)
        if let problem = confirmed.confirmationProblem {
            await coordinator.abort()
            Console.error("not confirmed: \(problem)")
            throw ExitCode(2)
        }
        await coordinator.waitUntilFinished()
        let final = await coordinator.snapshot
        if json { Console.output(FailoverText.json(final, rtoObjective: configuration.topology.objectives.rtoSeconds)) }
        if let finished = final.machine.attempt {
            report(
                FailoverText.summary(
                    finished, state: final.machine.state, rtoObjective: configuration.topology.objectives.rtoSeconds))
        }
        // A problem outside the plan (the audit log could not be written) is why it stopped.
        if let problem = final.problem ?? confirmed.problem, final.machine.state != .completed {
            Console.error("stopped: \(problem)")
        }
        switch final.machine.state {
        case .completed: return
        case .refused: throw ExitCode(2)
        default: throw ExitCode(1)
        }
    }

    /// A line from standard input, read on a thread of its own: waiting for the operator
    /// must not hold a thread of the cooperative pool, which the collectors and the coordinator
    /// run on (on a one-core machine it is the only one).
    static func readLineOffThePool() async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: readLine() ?? "") }
        }
    }

    static func progress(_ snapshot: FailoverSnapshot) {
        guard case .executing(let step, let count) = snapshot.machine.state, let attempt = snapshot.machine.attempt
        else { return }
        let record = attempt.steps[step]
        if record.startedAt != nil, record.outcome == nil {
            Console.error("[\(step + 1)/\(count)] \(record.name) …")
        }
        if step > 0, let previous = attempt.steps[step - 1].outcome, previous != .skipped,
            attempt.steps[step].startedAt == nil
        {
            Console.error("[\(step)/\(count)] \(attempt.steps[step - 1].name): \(previous.rawValue)")
        }
    }
}

/// Builds coordinators from configuration (for the command and the dashboard).
public enum FailoverRuntime {
    public static func coordinator(
        configuration: RegionWatchConfiguration, world: FailoverWorld, clock: WallClock, environment: [String: String],
        audit: AuditLog? = nil,
        pacing: StepRunner.Pacing = .realistic, observer: @escaping @Sendable (FailoverSnapshot) -> Void
    ) -> FailoverCoordinator {
        let settings = configuration.failover
        let audit = audit ?? AuditLog(settings: configuration.failover, environment: environment)
        let lock: FailoverLock =
            switch settings.lock {
            case .file: FileFailoverLock(auditLogPath: audit.path)
            case .postgres(let dsn): PostgresFailoverLock(dsn: dsn)
            }
        return FailoverCoordinator(
            settings: settings, audit: audit, lock: lock, runner: StepRunner(world: world, pacing: pacing),
            clock: clock,
            operatorName: FailoverCoordinator.defaultOperatorName(environment: environment),
            rtoObjectiveSeconds: configuration.topology.objectives.rtoSeconds, observer: observer
        )
    }
}

/// Plain-text renderings of an attempt for the command line.
enum FailoverText {
    static func gates(_ attempt: FailoverAttempt) -> String {
        var lines = [
            "\(attempt.request.kind.rawValue) \(attempt.request.from) → \(attempt.request.to) by \(attempt.request.operatorName)",
            "GATES",
        ]
        for gate in attempt.gates {
            let verdict = gate.passed ? "pass" : (gate.forcedReason != nil ? "FORCED" : "FAIL")
            lines.append(
                "  \(verdict.padding(toLength: 7, withPad: " ", startingAt: 0)) \(gate.gate.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(gate.measured)\(gate.forcedReason.map { " (forced: \($0))" } ?? "")"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func plan(_ attempt: FailoverAttempt) -> String {
        plan(attempt.request)
    }

    static func plan(_ request: FailoverRequest) -> String {
        (["PLAN"]
            + request.steps.enumerated().map { index, step in
                let effects = step.action.hasSideEffects ? "" : ", only looks"
                return
                    "  \(index + 1). \(step.name) [\(step.action.kind), timeout \(Format.duration(step.timeoutSeconds))\(effects)\(step.onFailure == .continue ? ", continue on failure" : "")]"
            }).joined(separator: "\n")
    }

    /// A target that cannot be one, with the regions that can.
    static func targetProblem(_ problem: FailoverTargetProblem) -> String {
        "\(problem.description); valid targets now: \(problem.validTargets.isEmpty ? "none" : problem.validTargets.joined(separator: ", "))"
    }

    /// A dry run's result: gates, candidates, the plan, and that nothing ran.
    static func preview(_ preview: FailoverPreview) -> String {
        var attempt = FailoverAttempt(request: preview.request, requestedAt: Timestamp(secondsSinceEpoch: 0))
        attempt.gates = preview.gates
        var lines = [
            gates(attempt), "data loss if promoted now: \(preview.dataLoss.text(at: preview.evaluatedAt))",
            "CANDIDATES",
        ]
        for candidate in preview.candidates {
            let verdict = candidate.blockedBy.map { "blocked by \($0.gate.rawValue): \($0.measured)" } ?? "ready"
            lines.append(
                "  \(candidate.region == preview.request.to ? "▸" : " ") \(candidate.region.padding(toLength: 16, withPad: " ", startingAt: 0)) \(verdict)"
            )
        }
        lines.append(plan(preview.request))
        lines.append(
            preview.isAllowed
                ? "gates allow it"
                : "REFUSED: "
                    + preview.gates.filter { !$0.allows }.map { "\($0.gate.rawValue): \($0.measured)" }.joined(
                        separator: "; "))
        lines.append("dry run: nothing executed")
        return lines.joined(separator: "\n") + "\n"
    }

    static func refusal(_ attempt: FailoverAttempt) -> String {
        attempt.gates.filter { !$0.allows }.map { "\($0.gate.rawValue): \($0.measured)" }.joined(separator: "; ")
    }

    static func summary(_ attempt: FailoverAttempt, state: FailoverMachineState, rtoObjective: Double) -> String {
        var lines = ["STEPS"]
        for (index, step) in attempt.steps.enumerated() {
            let seconds = FailoverFormat.stepDuration(startedAt: step.startedAt, endedAt: step.endedAt, prefix: " in ")
            lines.append("  \(index + 1). \(step.name): \(step.outcome?.rawValue ?? "pending")\(seconds)")
            if step.outcome == .failed || step.outcome == .timedOut, !step.output.isEmpty {
                lines += step.output.split(separator: "\n").suffix(5).map { "       \($0)" }
            }
        }
        let rto = FailoverFormat.measuredRTO(attempt.measuredRTO(at: attempt.endedAt ?? attempt.requestedAt))
        let loss = FailoverFormat.dataLoss(attempt.recordedDataLoss, at: attempt.requestedAt)
        let outcome = FailoverFormat.outcome(state.name, hasWarnings: attempt.hasWarnings)
        lines.append(
            "\(outcome) · measured RTO \(rto) (objective \(Format.duration(rtoObjective))) · data loss \(loss)")
        return lines.joined(separator: "\n")
    }

    /// A dry run as JSON: the request, gates, candidates and plan; `executed` is always false.
    static func previewJSON(_ preview: FailoverPreview) -> String {
        struct Preview: Encodable {
            var dryRun = true
            var executed = false
            var kind: String
            var from: String
            var to: String
            var allowed: Bool
            var gates: [FailoverGateResult]
            var dataLoss: DataLossEstimate
            var candidates: [FailoverCandidate]
            var plan: [String]
        }
        let request = preview.request
        let value = Preview(
            kind: request.kind.rawValue, from: request.from, to: request.to, allowed: preview.isAllowed,
            gates: preview.gates,
            dataLoss: preview.dataLoss, candidates: preview.candidates,
            plan: request.steps.map(\.name)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    static func json(_ snapshot: FailoverSnapshot, rtoObjective: Double) -> String {
        guard let attempt = snapshot.machine.attempt else { return "{}\n" }
        let entry = AuditEntry(
            .finished(attempt, state: snapshot.machine.state), at: attempt.endedAt ?? attempt.requestedAt,
            rtoObjectiveSeconds: rtoObjective)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(entry)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}

extension Console {
    static func error(_ text: String, newline: Bool) {
        FileHandle.standardError.write(Data((text + (newline ? "\n" : "")).utf8))
    }
}
