import ArgumentParser
import Foundation
import RegionWatchCollectors
import RegionWatchCore
#if canImport(Glibc)
import Glibc
#endif

/// `regionwatch failover`: the same machine, gates and audit as the dashboard, without the UI.
struct FailoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Move the primary role to another region: gates, typed confirmation, the plan, the audit log.",
        discussion: "Exit status: 0 completed (or a dry run that gates allow), 1 a step failed or the run was aborted, 2 refused by a gate or not confirmed."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("The region to promote.", valueName: "REGION"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("Why: recorded in the audit log.", valueName: "TEXT"))
    var reason: String?

    @Flag(name: .long, help: "Print the gates and the plan; execute nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Confirm without typing the target's name (for automation).")
    var yes = false

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Force a gate that refuses (target-healthy, lag-within-rpo, lock, cool-down, rejoined); needs --reason.", valueName: "GATE"))
    var force: [String] = []

    @Flag(name: .long, help: "Run a drill: only steps marked drill: true (everything in the demo).")
    var drill = false

    @Flag(name: .long, help: "Return the primary role to the configured primary (a failback).")
    var failback = false

    @Flag(name: .long, help: "Print the outcome as JSON (the audit record).")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds to collect before evaluating gates (default: one collection interval).", valueName: "SECONDS"))
    var wait: Double?

    @OptionGroup var logging: LogOptions

    func validate() throws {
        if drill, failback { throw ValidationError("--drill and --failback cannot be used together") }
        for gate in force {
            guard let kind = FailoverGateKind(rawValue: gate) else {
                throw ValidationError("--force \(gate): not a gate (one of \(FailoverGateKind.allCases.filter(\.isForceable).map(\.rawValue).joined(separator: ", ")))")
            }
            guard kind.isForceable else { throw ValidationError("--force read-only: read-only mode cannot be forced") }
        }
        if !force.isEmpty, (reason ?? "").isEmpty { throw ValidationError("--force needs --reason: a forced gate is recorded with its reason") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try source.loadConfiguration(environment: environment)
        let clock = SystemWallClock()
        let collection = HeadlessCollection(configuration: configuration, clock: clock)
        defer { collection.shutdown() }
        collection.collect(for: wait ?? max(configuration.longestIntervalSeconds * 2, 1.5))

        let state = collection.world.currentState()
        let kind: FailoverKind = drill ? .drill : (failback ? .failback : FailoverGates.kind(from: FailoverGates.currentPrimary(in: state), in: state))
        let coordinator = FailoverRuntime.coordinator(configuration: configuration, world: collection.world, clock: clock, environment: environment) { snapshot in
            FailoverCommand.progress(snapshot)
        }
        let forced = Dictionary(force.compactMap { FailoverGateKind(rawValue: $0) }.map { ($0, reason ?? "") }) { first, _ in first }
        let begun = blocking { await coordinator.begin(kind: kind, to: to, forcedGates: forced) }
        guard let attempt = begun.machine.attempt else { throw ExitCode(2) }
        Console.error(FailoverText.gates(attempt))
        if dryRun {
            Console.error(FailoverText.plan(attempt))
            if begun.machine.state == .awaitingConfirmation { blocking { await coordinator.abort() } }
            throw ExitCode(begun.machine.state == .refused ? 2 : 0)
        }
        if begun.machine.state == .refused {
            if json { Console.output(FailoverText.json(blocking { await coordinator.snapshot }, rtoObjective: configuration.topology.objectives.rtoSeconds)) }
            Console.error("refused: " + FailoverText.refusal(attempt))
            throw ExitCode(2)
        }
        Console.error(FailoverText.plan(attempt))
        var typed = to
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                blocking { await coordinator.abort() }
                Console.error("not confirmed: standard input is not a terminal; type the confirmation on a terminal or pass --yes")
                throw ExitCode(2)
            }
            Console.error("Type the target region's name (\(to)) to confirm: ", newline: false)
            typed = readLine() ?? ""
        }
        var reasonText = reason ?? ""
        if reasonText.isEmpty, !yes, isatty(STDIN_FILENO) == 1 {
            Console.error("Reason (recorded in the audit log): ", newline: false)
            reasonText = readLine() ?? ""
        }
        let (finalTyped, finalReason) = (typed, reasonText)
        let confirmed = blocking { await coordinator.confirm(typedTarget: finalTyped, reason: finalReason) }
        if let problem = confirmed.confirmationProblem {
            blocking { await coordinator.abort() }
            Console.error("not confirmed: \(problem)")
            throw ExitCode(2)
        }
        blocking { await coordinator.waitUntilFinished() }
        let final = blocking { await coordinator.snapshot }
        if json { Console.output(FailoverText.json(final, rtoObjective: configuration.topology.objectives.rtoSeconds)) }
        if let finished = final.machine.attempt { Console.error(FailoverText.summary(finished, state: final.machine.state, rtoObjective: configuration.topology.objectives.rtoSeconds)) }
        switch final.machine.state {
        case .completed: return
        case .refused: throw ExitCode(2)
        default: throw ExitCode(1)
        }
    }

    static func progress(_ snapshot: FailoverSnapshot) {
        guard case .executing(let step, let count) = snapshot.machine.state, let attempt = snapshot.machine.attempt else { return }
        let record = attempt.steps[step]
        if record.startedAt != nil, record.outcome == nil {
            Console.error("[\(step + 1)/\(count)] \(record.name) …")
        }
        if step > 0, let previous = attempt.steps[step - 1].outcome, previous != .skipped, attempt.steps[step].startedAt == nil {
            Console.error("[\(step)/\(count)] \(attempt.steps[step - 1].name): \(previous.rawValue)")
        }
    }
}

/// Runs async work from a synchronous command.
func blocking<Value: Sendable>(_ work: @escaping @Sendable () async -> Value) -> Value {
    let box = ResultBox<Value>()
    let semaphore = DispatchSemaphore(value: 0)
    Task {
        box.value = await work()
        semaphore.signal()
    }
    semaphore.wait()
    return box.value!
}

private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}

/// Builds coordinators from configuration (for the command and the dashboard).
public enum FailoverRuntime {
    public static func coordinator(configuration: RegionWatchConfiguration, world: FailoverWorld, clock: WallClock, environment: [String: String], audit: AuditLog? = nil, observer: @escaping @Sendable (FailoverSnapshot) -> Void) -> FailoverCoordinator {
        let settings = configuration.failover
        let audit = audit ?? AuditLog(configuration: configuration, environment: environment)
        let lock: FailoverLock = switch settings.lock {
        case .file: FileFailoverLock(auditLogPath: audit.path)
        case .postgres(let dsn): PostgresFailoverLock(dsn: dsn)
        }
        return FailoverCoordinator(
            settings: settings, audit: audit, lock: lock, runner: StepRunner(world: world), clock: clock,
            operatorName: FailoverCoordinator.defaultOperatorName(environment: environment),
            rtoObjectiveSeconds: configuration.topology.objectives.rtoSeconds, observer: observer
        )
    }
}

/// Plain-text renderings of an attempt for the command line.
enum FailoverText {
    static func gates(_ attempt: FailoverAttempt) -> String {
        var lines = ["\(attempt.request.kind.rawValue) \(attempt.request.from) → \(attempt.request.to) by \(attempt.request.operatorName)", "GATES"]
        for gate in attempt.gates {
            let verdict = gate.passed ? "pass" : (gate.forcedReason != nil ? "FORCED" : "FAIL")
            lines.append("  \(verdict.padding(toLength: 7, withPad: " ", startingAt: 0)) \(gate.gate.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(gate.measured)\(gate.forcedReason.map { " (forced: \($0))" } ?? "")")
        }
        return lines.joined(separator: "\n")
    }

    static func plan(_ attempt: FailoverAttempt) -> String {
        (["PLAN"] + attempt.request.steps.enumerated().map { index, step in
            "  \(index + 1). \(step.name) [\(step.action.kind), timeout \(Format.duration(step.timeoutSeconds))\(step.onFailure == .continue ? ", continue on failure" : "")]"
        }).joined(separator: "\n")
    }

    static func refusal(_ attempt: FailoverAttempt) -> String {
        attempt.gates.filter { !$0.allows }.map { "\($0.gate.rawValue): \($0.measured)" }.joined(separator: "; ")
    }

    static func summary(_ attempt: FailoverAttempt, state: FailoverMachineState, rtoObjective: Double) -> String {
        var lines = ["STEPS"]
        for (index, step) in attempt.steps.enumerated() {
            let seconds = step.startedAt.flatMap { start in step.endedAt.map { $0.seconds(since: start) } }.map { " in \(Format.fixed($0, decimals: 2))s" } ?? ""
            lines.append("  \(index + 1). \(step.name): \(step.outcome?.rawValue ?? "pending")\(seconds)")
            if step.outcome == .failed || step.outcome == .timedOut, !step.output.isEmpty {
                lines += step.output.split(separator: "\n").suffix(5).map { "       \($0)" }
            }
        }
        let rto = attempt.measuredRTO(at: attempt.endedAt ?? attempt.requestedAt).map { "\(Format.fixed($0, decimals: 2))s" } ?? "n/a"
        let loss = attempt.dataLoss.text(at: attempt.requestedAt)
        lines.append("\(state.name.uppercased()) · measured RTO \(rto) (objective \(Format.duration(rtoObjective))) · data loss \(loss)")
        return lines.joined(separator: "\n")
    }

    static func json(_ snapshot: FailoverSnapshot, rtoObjective: Double) -> String {
        guard let attempt = snapshot.machine.attempt else { return "{}\n" }
        let entry = AuditEntry(.finished(attempt, state: snapshot.machine.state), at: attempt.endedAt ?? attempt.requestedAt, rtoObjectiveSeconds: rtoObjective)
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
