import Foundation
import Logging
import RegionWatchCore
import RegionWatchUI

/// Connects the dashboard to a `FailoverCoordinator`: key intents go in, progress and the
/// audit history come back as events on the bus, so the state changes only through `apply`.
final class FailoverDriver: Sendable {
    let coordinator: FailoverCoordinator
    private let bus: EventBus<DashboardEvent>
    private let clock: WallClock
    private let logger: Logger
    private let isReadOnly: Bool

    init(configuration: RegionWatchConfiguration, world: FailoverWorld, bus: EventBus<DashboardEvent>, clock: WallClock, logger: Logger) {
        self.bus = bus
        self.clock = clock
        self.logger = logger
        isReadOnly = configuration.failover.isReadOnly
        let environment = ProcessInfo.processInfo.environment
        let historyRefresh = HistoryRefresh()
        coordinator = FailoverRuntime.coordinator(configuration: configuration, world: world, clock: clock, environment: environment) { snapshot in
            bus.publish(.failoverProgress(FailoverProgress(machine: snapshot.machine, confirmationProblem: snapshot.confirmationProblem, problem: snapshot.problem)))
            if snapshot.machine.state.isFinal { historyRefresh.request() }
        }
        let coordinator = coordinator
        let readOnly = isReadOnly
        historyRefresh.action = {
            let audit = coordinator.audit
            bus.publish(.failoverHistory(FailoverHistoryReader.summary(audit.read(), path: audit.path), isReadOnly: readOnly))
        }
    }

    /// Reads the audit log and publishes what it says (interrupted attempts included).
    func publishHistory() {
        let audit = coordinator.audit
        bus.publish(.failoverHistory(FailoverHistoryReader.summary(audit.read(), path: audit.path), isReadOnly: isReadOnly))
    }

    func handle(_ intent: FailoverIntent) {
        let coordinator = coordinator
        let logger = logger
        switch intent {
        case .begin(let kind, let target, let forced):
            logger.info("failover requested", metadata: ["kind": "\(kind.rawValue)", "to": "\(target)", "forced": "\(forced.keys.map(\.rawValue).sorted())"])
            Task { await coordinator.begin(kind: kind, to: target, forcedGates: forced) }
        case .confirm(let typed, let reason):
            Task {
                let snapshot = await coordinator.confirm(typedTarget: typed, reason: reason)
                if snapshot.confirmationProblem == nil { logger.info("failover confirmed", metadata: ["state": "\(snapshot.machine.state.name)"]) }
            }
        case .abort:
            Task { await coordinator.abort() }
        case .acknowledge:
            Task { await coordinator.acknowledge() }
        case .acknowledgeInterrupted(let id):
            do {
                try coordinator.audit.append(AuditEntry(acknowledging: id, at: clock.now(), operatorName: coordinator.operatorName))
            } catch {
                logger.error("cannot acknowledge \(id): \(error)")
            }
            publishHistory()
        }
    }
}

/// Runs a refresh once asked (set after construction).
private final class HistoryRefresh: @unchecked Sendable {
    var action: (@Sendable () -> Void)?
    func request() { action?() }
}

/// Turns the audit log into what the dashboard shows.
public enum FailoverHistoryReader {
    public static let recentLimit = 100

    public static func summary(_ history: AuditHistory, path: String) -> FailoverHistorySummary {
        let recent = history.attempts.compactMap { attempt -> FailoverRecordSummary? in
            guard let entry = attempt.finished else { return nil }
            return record(entry, steps: entry.steps ?? [])
        }
        let interrupted = history.interrupted.compactMap { attempt -> FailoverRecordSummary? in
            guard let entry = attempt.confirmed else { return nil }
            var summary = record(entry, steps: attempt.stepEntries.compactMap(\.step))
            summary.state = "interrupted"
            return summary
        }
        return FailoverHistorySummary(recent: Array(recent.suffix(recentLimit)), interrupted: interrupted, auditLogPath: path, unreadableLines: history.unreadableLines.count)
    }

    static func record(_ entry: AuditEntry, steps: [FailoverStepRecord]) -> FailoverRecordSummary {
        FailoverRecordSummary(
            id: entry.id, at: Timestamp(secondsSinceEpoch: entry.atEpochSeconds), kind: entry.kind ?? "failover",
            from: entry.from ?? "?", to: entry.to ?? "?", state: entry.state ?? "confirmed",
            measuredRTOSeconds: entry.measuredRtoSeconds, dataLossSeconds: entry.dataLoss?.seconds,
            operatorName: entry.operatorName ?? "?", reason: entry.reason,
            failedGates: (entry.gates ?? []).filter { !$0.passed }.map { "\($0.gate.rawValue): \($0.measured)\($0.forcedReason.map { " (FORCED: \($0))" } ?? "")" },
            steps: steps.map { step in
                let seconds = step.startedAt.flatMap { start in step.endedAt.map { $0.seconds(since: start) } }.map { " \(Format.fixed($0, decimals: 2))s" } ?? ""
                return "\(step.name): \(step.outcome?.rawValue ?? "started")\(seconds)"
            }
        )
    }
}
