import RegionWatchCore

/// Finds, in the audit log, the attempt that stopped half-way (aborted, failed or interrupted by
/// a crash after a step changed something) and rebuilds it against the configured plan, so a
/// restarted regionwatch shows it and can resume or roll it back without running a finished
/// step again.
public enum UnresolvedAttempts {
    /// The newest such attempt, unless a later move completed. `nil` when none, or when the
    /// plan changed so that its steps can no longer be matched by name.
    public static func find(in history: AuditHistory, settings: FailoverSettings) -> FailoverAttempt? {
        for audited in history.attempts.reversed() where audited.kind != "drill" {
            guard let state = audited.finished?.state else {
                // Confirmed and never finished: a crash. Resumable once its steps are known.
                guard audited.confirmed != nil else { continue }
                return rebuild(audited, settings: settings).flatMap { $0.completedSideEffects.isEmpty ? nil : $0 }
            }
            switch state {
            case "completed": return nil
            case "aborted", "failed":
                if let attempt = rebuild(audited, settings: settings), !attempt.completedSideEffects.isEmpty { return attempt }
                return nil
            default: continue
            }
        }
        return nil
    }

    /// The attempt as its records say: request, reason, gates, and each step's outcome (a step
    /// started and never finished has none: its effect is unknown).
    static func rebuild(_ audited: AuditedAttempt, settings: FailoverSettings) -> FailoverAttempt? {
        guard let confirmed = audited.confirmed, let kindName = confirmed.kind, let kind = FailoverKind(rawValue: kindName),
              confirmed.rollsBack == nil else { return nil }
        var records = audited.finished?.steps ?? stepRecords(audited)
        let names = records.map(\.name)
        let candidates = [settings.steps(for: kind), settings.steps(for: kind, acceptingDataLoss: true)]
        guard let plan = candidates.first(where: { $0.count >= names.count && $0.prefix(names.count).map(\.name) == names }) else { return nil }
        records += plan.dropFirst(records.count).map { FailoverStepRecord(name: $0.name, kind: $0.action.kind) }
        var forced: [FailoverGateKind: String] = [:]
        for gate in confirmed.gates ?? [] { if let reason = gate.forcedReason { forced[gate.gate] = reason } }
        let request = FailoverRequest(
            id: audited.id, kind: kind, from: confirmed.from ?? "?", to: confirmed.to ?? "?",
            operatorName: confirmed.operatorName ?? "?", steps: plan, forcedGates: forced,
            continuation: confirmed.resumes.map { .resumes($0) }
        )
        var attempt = FailoverAttempt(request: request, requestedAt: Timestamp(secondsSinceEpoch: confirmed.atEpochSeconds))
        attempt.reason = confirmed.reason
        attempt.gates = confirmed.gates ?? []
        attempt.confirmedAt = Timestamp(secondsSinceEpoch: confirmed.atEpochSeconds)
        attempt.steps = records
        attempt.isPromoted = records.indices.contains { records[$0].outcome == .succeeded && plan[$0].action.isPromotion }
        if let finished = audited.finished {
            attempt.endedAt = Timestamp(secondsSinceEpoch: finished.atEpochSeconds)
            attempt.dataLossAtPromotion = finished.dataLoss
        } else if attempt.isPromoted {
            // Interrupted after the promotion: the re-check just before it measured the loss.
            let promotion = plan.indices.first { plan[$0].action.isPromotion }
            attempt.dataLossAtPromotion = audited.stepEntries.last { $0.type == "gates-rechecked" && $0.stepIndex == promotion }?.dataLoss
        }
        return attempt
    }

    /// Step records from `step-started` and `step-finished` entries (an interrupted attempt
    /// has no `finished` entry listing them all).
    private static func stepRecords(_ audited: AuditedAttempt) -> [FailoverStepRecord] {
        var records: [Int: FailoverStepRecord] = [:]
        for entry in audited.stepEntries {
            guard let index = entry.stepIndex, let step = entry.step, entry.type == "step-started" || entry.type == "step-finished" else { continue }
            records[index] = step
        }
        guard let last = records.keys.max() else { return [] }
        return (0...last).map { records[$0] ?? FailoverStepRecord(name: "?", kind: "?") }
    }
}
