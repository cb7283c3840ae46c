import RegionWatchCore

/// Finds, in the audit history, the attempt that stopped half-way (aborted, failed or
/// interrupted by a crash after a step changed something) and rebuilds it against the
/// configured plan, so a restarted regionwatch, or another operator, shows it and can resume or
/// roll it back without running a finished step again.
public enum UnresolvedAttempts {
    /// Replays the history as the failover machine would have lived it: a completed move
    /// resolves everything; a move (or resume) stopped after a side effect is the half-done
    /// one; a roll back stopped half-way leaves that attempt minus what it undid. `nil` when
    /// nothing is half-done, or when the plan changed so that steps no longer match by name.
    public static func find(in history: AuditHistory, settings: FailoverSettings) -> FailoverAttempt? {
        var unresolved: FailoverAttempt?
        for audited in history.attempts where audited.kind != "drill" && audited.confirmed != nil {
            let final = audited.finished?.state
            if final == "completed" {
                unresolved = nil
                continue
            }
            // Refused attempts change nothing; any other end, or none (a crash), may have.
            guard final == nil || final == "aborted" || final == "failed" else { continue }
            if let rolledBack = audited.confirmed?.rollsBack {
                if unresolved?.request.id == rolledBack {
                    unresolved = unresolved?.undoing(audited.finished?.steps ?? stepRecords(audited), by: audited.id)
                }
                continue
            }
            guard let attempt = rebuild(audited, settings: settings) else { continue }
            // A crash leaves no finish: the machine's rules apply as if it had failed.
            unresolved = FailoverMachine.unresolved(after: attempt, ended: .failed, before: unresolved)
        }
        return unresolved
    }

    /// The attempt as its records say: request, reason, gates, and each step's outcome (a step
    /// started and never finished has none: its effect is unknown).
    static func rebuild(_ audited: AuditedAttempt, settings: FailoverSettings) -> FailoverAttempt? {
        guard let confirmed = audited.confirmed, let kindName = confirmed.kind,
            let kind = FailoverKind(rawValue: kindName),
            confirmed.rollsBack == nil
        else { return nil }
        var records = audited.finished?.steps ?? stepRecords(audited)
        let names = records.map(\.name)
        let candidates = [settings.steps(for: kind), settings.steps(for: kind, acceptingDataLoss: true)]
        guard
            let plan = candidates.first(where: {
                $0.count >= names.count && $0.prefix(names.count).map(\.name) == names
            })
        else { return nil }
        // Logs written before confirmations listed the plan name only the steps that started.
        records += plan.dropFirst(records.count).map { FailoverStepRecord(name: $0.name, kind: $0.action.kind) }
        var forced: [FailoverGateKind: String] = [:]
        for gate in confirmed.gates ?? [] { if let reason = gate.forcedReason { forced[gate.gate] = reason } }
        let request = FailoverRequest(
            id: audited.id, kind: kind, from: confirmed.from ?? "?", to: confirmed.to ?? "?",
            operatorName: confirmed.operatorName ?? "?", steps: plan, forcedGates: forced,
            continuation: confirmed.resumes.map { .resumes($0) }
        )
        var attempt = FailoverAttempt(
            request: request, requestedAt: Timestamp(secondsSinceEpoch: confirmed.atEpochSeconds))
        attempt.reason = confirmed.reason
        attempt.gates = confirmed.gates ?? []
        attempt.confirmedAt = Timestamp(secondsSinceEpoch: confirmed.atEpochSeconds)
        attempt.steps = records
        attempt.isPromoted = records.indices.contains {
            records[$0].outcome == .succeeded && plan[$0].action.isPromotion
        }
        if let finished = audited.finished {
            attempt.endedAt = Timestamp(secondsSinceEpoch: finished.atEpochSeconds)
            attempt.dataLossAtPromotion = finished.dataLoss
        } else if attempt.isPromoted {
            // Interrupted after the promotion: the re-check just before it measured the loss
            // (a resume's confirmation carries the loss its earlier attempt measured).
            let promotion = plan.indices.first { plan[$0].action.isPromotion }
            attempt.dataLossAtPromotion =
                audited.stepEntries.last { $0.type == "gates-rechecked" && $0.stepIndex == promotion }?.dataLoss
                ?? confirmed.dataLoss
        }
        return attempt
    }

    /// Step records of an attempt that never finished: the plan as confirmed (with a resume's
    /// steps that ran before), updated by its `step-started` and `step-finished` entries.
    public static func stepRecords(_ audited: AuditedAttempt) -> [FailoverStepRecord] {
        var records = audited.confirmed?.steps ?? []
        for entry in audited.stepEntries {
            guard let index = entry.stepIndex, let step = entry.step,
                entry.type == "step-started" || entry.type == "step-finished"
            else { continue }
            while records.count <= index { records.append(FailoverStepRecord(name: "?", kind: "?")) }
            records[index] = step
        }
        return records
    }
}
