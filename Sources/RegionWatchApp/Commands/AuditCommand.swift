import ArgumentParser
import Foundation
import RegionWatchCore
import RegionWatchFailover

/// `regionwatch audit`: the failover audit log, newest last; interrupted attempts first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the failover audit log (failovers, switchovers, failbacks, drills, refusals)."
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file naming the audit log (default: $XDG_CONFIG_HOME/regionwatch/config.yaml, else the demo's log).",
            valueName: "FILE"))
    var config: String?

    @Flag(name: .long, help: "Print the entries as JSON Lines, as stored.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Mark an interrupted attempt as seen.", valueName: "ID"))
    var acknowledge: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        // Reading needs only the failover section: a variable another part needs (a collector's
        // DSN) may be unset; one the shared history needs leaves the local copy to read. An
        // acknowledgement is written, and must reach the shared history: every variable then.
        let unsetVariables: UnsetVariables = acknowledge == nil ? .areWarnings : .areErrors
        let configuration = try ConfigurationLoading.load(
            path: config, demo: false, environment: environment, unsetVariables: unsetVariables)
        let log = AuditLog(settings: configuration.failover, environment: environment)
        if let acknowledge {
            let entry = AuditEntry(
                acknowledging: acknowledge, at: SystemWallClock().now(),
                operatorName: FailoverCoordinator.defaultOperatorName(environment: environment))
            do {
                try await log.record(entry)
            } catch {
                Console.error("cannot acknowledge \(acknowledge): \(error)")
                throw ExitCode(1)
            }
            Console.error("acknowledged \(acknowledge)")
            return
        }
        if json {
            // The shared history when configured (every operator's records), else the file.
            if let shared = log.shared {
                switch await Self.lines(of: shared) {
                case .success(let lines):
                    Console.output(String(decoding: lines, as: UTF8.self))
                    return
                case .failure(let error):
                    Console.error("warning: \(error); the local copy \(log.path) follows")
                }
            }
            do {
                try LineReader.copy(log.path, to: Console.output)
            } catch  where !FileManager.default.fileExists(atPath: log.path) {
                // No log yet: nothing recorded.
            }
            return
        }
        let title =
            log.shared.map { "\($0.dsn.displayAddress) (\(SharedAuditHistory.table)), local copy \(log.path)" }
            ?? log.path
        var stream = AuditTextStream(path: title, write: Console.output)
        if let shared = log.shared {
            // The shared history comes from one query; the file is read a chunk at a time.
            switch await Self.lines(of: shared) {
            case .success(let lines):
                for line in lines.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                    stream.add(line: line)
                }
                stream.finish()
                return
            case .failure(let error):
                Console.error("warning: \(error); the local copy \(log.path) follows")
            }
        }
        do {
            try LineReader.forEachLine(in: log.path) { stream.add(line: $0) }
        } catch  where !FileManager.default.fileExists(atPath: log.path) {
            // No log yet: nothing recorded.
        }
        stream.finish()
    }

    /// Every record of the shared history, as stored, or why it could not be read.
    private static func lines(of shared: SharedAuditHistory) async -> Result<Data, AuditLogError> {
        do {
            return .success(try await shared.lines())
        } catch {
            return .failure(error as? AuditLogError ?? AuditLogError("\(error)"))
        }
    }
}
