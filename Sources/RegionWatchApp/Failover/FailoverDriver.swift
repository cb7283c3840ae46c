import Foundation
import Logging
import RegionWatchCore
import RegionWatchUI

/// Connects the dashboard to a `FailoverCoordinator`: key intents go in, progress and the
/// audit history come back as events on the bus, so the state changes only through `apply`.
final class FailoverDriver: Sendable {
    let coordinator: FailoverCoordinator
    private let world: LiveFailoverWorld
    private let bus: EventBus<DashboardEvent>
    private let clock: WallClock
    private let logger: Logger
    private let isReadOnly: Bool

    init(configuration: RegionWatchConfiguration, world: LiveFailoverWorld, bus: EventBus<DashboardEvent>, clock: WallClock, logger: Logger) {
        self.world = world
        self.bus = bus
        self.clock = clock
        self.logger = logger
        isReadOnly = configuration.failover.isReadOnly
        let environment = ProcessInfo.processInfo.environment
        let audit = AuditLog(configuration: configuration, environment: environment)
        let readOnly = isReadOnly
        coordinator = FailoverRuntime.coordinator(configuration: configuration, world: world, clock: clock, environment: environment, audit: audit) { snapshot in
            bus.publish(.failoverProgress(FailoverProgress(machine: snapshot.machine, confirmationProblem: snapshot.confirmationProblem, problem: snapshot.problem)))
            // A finished attempt is in the log now: show it in the panel and audit screen.
            if snapshot.machine.state.isFinal { Self.publishHistory(of: audit, readOnly: readOnly, on: bus) }
        }
    }

    /// Reads the audit log and publishes what it says (interrupted attempts included).
    func publishHistory() {
        Self.publishHistory(of: coordinator.audit, readOnly: isReadOnly, on: bus)
    }

    private static func publishHistory(of audit: AuditLog, readOnly: Bool, on bus: EventBus<DashboardEvent>) {
        bus.publish(.failoverHistory(FailoverHistoryReader.summary(audit.read(), path: audit.path), isReadOnly: readOnly))
    }

    /// Acts on `intent`; `state` is what the operator sees now. The gates judge that (the loop
    /// publishes state to the world only while an attempt runs, not on every refresh).
    func handle(_ intent: FailoverIntent, seeing state: DashboardState) {
        let coordinator = coordinator
        let logger = logger
        switch intent {
        case .begin(let kind, let target, let forced):
            world.publish(state.snapshotWithoutTraces())
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
            measuredRTOSeconds: entry.measuredRtoSeconds, dataLoss: entry.dataLoss,
            operatorName: entry.operatorName ?? "?", reason: entry.reason,
            failedGates: (entry.gates ?? []).filter { !$0.passed }.map { "\($0.gate.rawValue): \($0.measured)\($0.forcedReason.map { " (FORCED: \($0))" } ?? "")" },
            steps: steps.map { step in
                let seconds = step.startedAt.flatMap { start in step.endedAt.map { $0.seconds(since: start) } }.map { " \(Format.fixed($0, decimals: 2))s" } ?? ""
                return "\(step.name): \(step.outcome?.rawValue ?? "started")\(seconds)"
            }
        )
    }
}
