import Foundation
import Synchronization
import Logging
import RegionWatchCore
import RegionWatchUI
import RegionWatchFailover

/// Connects the dashboard to a `FailoverCoordinator`: key intents go in, progress and the
/// audit history come back as events on the bus, so the state changes only through `apply`.
final class FailoverDriver: Sendable {
    let coordinator: FailoverCoordinator
    private let world: LiveFailoverWorld
    private let bus: EventBus<DashboardEvent>
    private let clock: WallClock
    private let logger: Logger
    private let isReadOnly: Bool

    init(
        configuration: RegionWatchConfiguration, world: LiveFailoverWorld, bus: EventBus<DashboardEvent>,
        clock: WallClock, logger: Logger,
        pacing: StepRunner.Pacing = .realistic
    ) {
        self.world = world
        self.bus = bus
        self.clock = clock
        self.logger = logger
        isReadOnly = configuration.failover.isReadOnly
        let environment = ProcessInfo.processInfo.environment
        let audit = AuditLog(settings: configuration.failover, environment: environment)
        let readOnly = isReadOnly
        let settings = configuration.failover
        let coordinator = FailoverRuntime.coordinator(
            configuration: configuration, world: world, clock: clock, environment: environment, audit: audit,
            pacing: pacing
        ) { snapshot in
            let problem = snapshot.targetProblem.map { FailoverText.targetProblem($0) } ?? snapshot.problem
            bus.publish(
                .failoverProgress(
                    FailoverProgress(
                        machine: snapshot.machine, confirmationProblem: snapshot.confirmationProblem, problem: problem))
            )
            // A finished attempt is in the log now: show it in the panel and audit screen.
            if snapshot.machine.state.isFinal {
                Self.publishHistory(of: audit, settings: settings, readOnly: readOnly, on: bus)
            }
        }
        self.coordinator = coordinator
        let (stream, continuation) = AsyncStream.makeStream(of: Request.self, bufferingPolicy: .unbounded)
        requests = continuation
        let pending = recheckPending
        consumer = Task {
            // The half-done attempt may be another operator's: the shared history says.
            await coordinator.readHistory()
            for await request in stream {
                switch request {
                case .recheck:
                    pending.lower()
                    await coordinator.recheck()
                case .intent(.begin(let kind, let target, let forced)):
                    await coordinator.begin(kind: kind, to: target, forcedGates: forced)
                case .intent(.confirm(let typed, let reason)):
                    let snapshot = await coordinator.confirm(typedTarget: typed, reason: reason)
                    if snapshot.confirmationProblem == nil {
                        logger.info("failover confirmed", metadata: ["state": "\(snapshot.machine.state.name)"])
                    }
                case .intent(.abort):
                    await coordinator.abort()
                case .intent(.acknowledge):
                    await coordinator.acknowledge()
                case .intent(.resume(let forced)):
                    await coordinator.resume(forcedGates: forced)
                case .intent(.rollBack(let forced)):
                    await coordinator.rollBack(forcedGates: forced)
                case .intent(.acknowledgeInterrupted(let id)):
                    do {
                        try await coordinator.audit.record(
                            AuditEntry(acknowledging: id, at: clock.now(), operatorName: coordinator.operatorName))
                    } catch {
                        logger.error("cannot acknowledge \(id): \(error)")
                    }
                    Self.publishHistory(of: coordinator.audit, settings: settings, readOnly: readOnly, on: bus)
                }
            }
        }
    }

    deinit {
        requests.finish()
        consumer.cancel()
    }

    /// Reads the audit log and publishes what it says (interrupted attempts included).
    func publishHistory() {
        Self.publishHistory(of: coordinator.audit, settings: coordinator.settings, readOnly: isReadOnly, on: bus)
    }

    /// Reads the history (the shared one when configured) in the background and publishes it.
    private static func publishHistory(
        of audit: AuditLog, settings: FailoverSettings, readOnly: Bool, on bus: EventBus<DashboardEvent>
    ) {
        Task {
            let (history, _) = await audit.history()
            bus.publish(
                .failoverHistory(
                    FailoverHistoryReader.summary(history, path: audit.path, settings: settings), isReadOnly: readOnly))
        }
    }

    /// What the coordinator is asked to do, in the order the operator asked.
    private enum Request: Sendable {
        case intent(FailoverIntent)
        case recheck
    }

    /// One ordered stream into the coordinator: a key press never overtakes an earlier one.
    private let requests: AsyncStream<Request>.Continuation
    private let consumer: Task<Void, Never>

    /// The gates of an attempt awaiting confirmation, re-evaluated against the state the loop
    /// has just published (the dialog shows what confirming would use).
    func recheck() {
        // One pending re-check at most: a burst of events never queues ahead of Esc or Enter.
        guard recheckPending.raise() else { return }
        requests.yield(.recheck)
    }

    private let recheckPending = PendingFlag()

    /// Acts on `intent`; `state` is what the operator sees now (live, even while the display
    /// is paused). The gates judge that.
    func handle(_ intent: FailoverIntent, seeing state: DashboardState) {
        switch intent {
        case .begin(let kind, let target, let forced):
            world.publish(state.snapshotWithoutTraces())
            logger.info(
                "failover requested",
                metadata: [
                    "kind": "\(kind.rawValue)", "to": "\(target)", "forced": "\(forced.keys.map(\.rawValue).sorted())",
                ])
            requests.yield(.intent(intent))
        case .confirm, .resume, .rollBack:
            // The gates and the "target not promoted" check judge what is true now, not the
            // state of the last open attempt (a fresh dashboard has none).
            world.publish(state.snapshotWithoutTraces())
            requests.yield(.intent(intent))
        case .abort, .acknowledge, .acknowledgeInterrupted:
            requests.yield(.intent(intent))
        }
    }
}

/// Turns the audit log into what the dashboard shows.
public enum FailoverHistoryReader {
    public static let recentLimit = 100

    public static func summary(
        _ history: AuditHistory, path: String, settings: FailoverSettings = FailoverSettings()
    ) -> FailoverHistorySummary {
        // Finished attempts, and interrupted ones an operator acknowledged (they stay listed).
        let recent = history.attempts.compactMap { attempt -> FailoverRecordSummary? in
            if let entry = attempt.finished {
                let steps = entry.steps ?? []
                let unfenced =
                    entry.state == "completed"
                    && steps.contains { $0.outcome == .warning && ["postgres-fence", "simulated"].contains($0.kind) }
                var summary = record(entry, steps: steps).noting(notFenced: unfenced ? entry.from : nil)
                summary.rollsBack = entry.rollsBack
                if entry.rollsBack != nil { summary.kind = "roll back of \(entry.kind ?? "failover")" }
                return summary
            }
            guard let entry = attempt.confirmed, let acknowledgement = attempt.acknowledgement else { return nil }
            var summary = record(entry, steps: UnresolvedAttempts.stepRecords(attempt))
            summary.state = "interrupted"
            summary.acknowledged = "acknowledged by \(acknowledgement.operatorName ?? "?") at \(acknowledgement.at)"
            return summary
        }
        let interrupted = history.interrupted.compactMap { attempt -> FailoverRecordSummary? in
            guard let entry = attempt.confirmed else { return nil }
            var summary = record(entry, steps: UnresolvedAttempts.stepRecords(attempt))
            summary.state = "interrupted"
            return summary
        }
        return FailoverHistorySummary(
            recent: Array(recent.suffix(recentLimit)), interrupted: interrupted, auditLogPath: path,
            unreadableLines: history.unreadableLines.count,
            unresolved: UnresolvedAttempts.find(in: history, settings: settings)
        )
    }

    static func record(_ entry: AuditEntry, steps: [FailoverStepRecord]) -> FailoverRecordSummary {
        FailoverRecordSummary(
            id: entry.id, at: Timestamp(secondsSinceEpoch: entry.atEpochSeconds), kind: entry.kind ?? "failover",
            from: entry.from ?? "?", to: entry.to ?? "?", state: entry.state ?? "confirmed",
            measuredRTOSeconds: entry.measuredRtoSeconds, dataLoss: entry.dataLoss,
            operatorName: entry.operatorName ?? "?", reason: entry.reason,
            failedGates: (entry.gates ?? []).filter { !$0.passed }.map {
                FailoverFormat.gate($0.gate.rawValue, measured: $0.measured, forcedReason: $0.forcedReason)
            },
            steps: steps.map { step in
                "\(step.name): \(step.outcome?.rawValue ?? "started")\(FailoverFormat.stepDuration(startedAt: step.startedAt, endedAt: step.endedAt))"
            }
        )
    }
}

/// A flag raised by one thread and lowered by another: at most one request pending.
final class PendingFlag: Sendable {
    private let raised = Mutex(false)

    /// Raises it; `false` when it was raised already.
    func raise() -> Bool {
        raised.withLock { value in
            defer { value = true }
            return !value
        }
    }

    func lower() {
        raised.withLock { $0 = false }
    }
}
