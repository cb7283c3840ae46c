import ArgumentParser
import Foundation
import RegionWatchCore
import RegionWatchFailover

/// `regionwatch audit`: the failover audit log, newest last; interrupted attempts first.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the failover audit log (failovers, switchovers, failbacks, drills, refusals)."
    )

    @OptionGroup var source: SourceOptions

    @Flag(name: .long, help: "Print the entries as JSON Lines, as stored.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Mark an interrupted attempt as seen.", valueName: "ID"))
    var acknowledge: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try source.loadConfiguration(environment: environment)
        let log = AuditLog(settings: configuration.failover, environment: environment)
        if let acknowledge {
            let entry = AuditEntry(acknowledging: acknowledge, at: SystemWallClock().now(), operatorName: FailoverCoordinator.defaultOperatorName(environment: environment))
            let failure = blocking { () -> String? in
                do { try await log.record(entry) } catch { return "\(error)" }
                return nil
            }
            if let failure {
                Console.error("cannot acknowledge \(acknowledge): \(failure)")
                throw ExitCode(1)
            }
            Console.error("acknowledged \(acknowledge)")
            return
        }
        if json {
            // The shared history when configured (every operator's records), else the file.
            if let shared = log.shared {
                let result = blocking { () -> Result<Data, AuditLogError> in
                    do { return .success(try await shared.lines()) } catch { return .failure(error as? AuditLogError ?? AuditLogError("\(error)")) }
                }
                switch result {
                case .success(let lines):
                    Console.output(String(decoding: lines, as: UTF8.self))
                    return
                case .failure(let error):
                    Console.error("warning: \(error); the local copy \(log.path) follows")
                }
            }
            Console.output((try? String(contentsOfFile: log.path, encoding: .utf8)) ?? "")
            return
        }
        let (history, problem) = blocking { await log.history() }
        if let problem { Console.error("warning: \(problem)") }
        Console.output(AuditText.render(history, path: log.shared.map { "\($0.dsn.displayAddress) (\(SharedAuditHistory.table)), local copy \(log.path)" } ?? log.path))
    }
}

/// The audit log as a table.
public enum AuditText {
    public static func render(_ history: AuditHistory, path: String) -> String {
        var lines = ["AUDIT LOG \(path)"]
        for attempt in history.interrupted {
            let entry = attempt.confirmed
            lines.append("INTERRUPTED \(entry?.kind ?? "failover") \(entry?.from ?? "?") → \(entry?.to ?? "?") confirmed \(entry?.at ?? "?") by \(entry?.operatorName ?? "?"): started, never finished (acknowledge with --acknowledge \(attempt.id))")
            for step in attempt.stepEntries {
                lines.append("    \(step.type) \(step.step?.name ?? "") \(step.step?.outcome?.rawValue ?? "")")
            }
        }
        if history.attempts.isEmpty { lines.append("no failover, drill or refusal recorded") }
        for attempt in history.attempts {
            if attempt.finished == nil, let entry = attempt.confirmed, let acknowledgement = attempt.acknowledgement {
                lines.append("\(entry.at)  INTERRUPTED \(entry.kind ?? "?") \(entry.from ?? "?") → \(entry.to ?? "?")  by \(entry.operatorName ?? "?")\(entry.reason.map { ": \($0)" } ?? "") — acknowledged by \(acknowledgement.operatorName ?? "?") at \(acknowledgement.at)")
                for step in attempt.stepEntries where step.type == "step-finished" {
                    lines.append("    step \(step.step?.name ?? ""): \(step.step?.outcome?.rawValue ?? "")")
                }
                continue
            }
            guard let entry = attempt.finished else { continue }
            let rto = entry.measuredRtoSeconds.map { "RTO \(Format.fixed($0, decimals: 2))s" } ?? "RTO n/a"
            let loss = "loss " + (entry.dataLoss?.text(at: Timestamp(secondsSinceEpoch: entry.atEpochSeconds)) ?? "none (nothing promoted)")
            lines.append("\(entry.at)  \((entry.state ?? "?").uppercased().padding(toLength: 9, withPad: " ", startingAt: 0)) \(entry.kind ?? "?") \(entry.from ?? "?") → \(entry.to ?? "?")  \(rto)  \(loss)  by \(entry.operatorName ?? "?")\(entry.reason.map { ": \($0)" } ?? "")")
            for gate in entry.gates ?? [] where !gate.passed {
                lines.append("    gate \(gate.gate.rawValue): \(gate.measured)\(gate.forcedReason.map { " — FORCED: \($0)" } ?? "")")
            }
            for step in entry.steps ?? [] {
                let seconds = step.startedAt.flatMap { start in step.endedAt.map { $0.seconds(since: start) } }.map { " \(Format.fixed($0, decimals: 2))s" } ?? ""
                lines.append("    step \(step.name): \(step.outcome?.rawValue ?? "pending")\(seconds)")
            }
        }
        if !history.unreadableLines.isEmpty {
            lines.append("unreadable lines: \(history.unreadableLines.map(String.init).joined(separator: ", "))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
