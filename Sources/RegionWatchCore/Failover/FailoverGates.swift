/// What the gates need besides the dashboard state.
public struct FailoverGateContext: Sendable, Equatable {
    /// Who holds the failover lock, when someone else does.
    public var lockHolder: String?
    /// When the last failover (not drill) finished.
    public var lastFailoverAt: Timestamp?
    public var coolDownSeconds: Double
    public var isReadOnly: Bool

    public init(lockHolder: String? = nil, lastFailoverAt: Timestamp? = nil, coolDownSeconds: Double = 600, isReadOnly: Bool = false) {
        self.lockHolder = lockHolder
        self.lastFailoverAt = lastFailoverAt
        self.coolDownSeconds = coolDownSeconds
        self.isReadOnly = isReadOnly
    }
}

/// The preflight gates, evaluated from what the dashboard knows now. Pure.
public enum FailoverGates {
    /// The current primary: the region accepting writes on the newest timeline, else the one
    /// last known as primary (unreachable now: the `from` of an emergency failover).
    public static func currentPrimary(in state: DashboardState) -> String? {
        state.primary.current ?? state.primary.lastKnown
    }

    /// Switchover when the current primary is healthy enough to hand over; failover when it is
    /// down, stale or unknown.
    public static func kind(from: String?, in state: DashboardState) -> FailoverKind {
        guard let from, let region = state.region(named: from) else { return .failover }
        let health = max(region.health, region.rawAssessment.health)
        let unreachable = region.role == .unknown || region.assessment == .awaitingData
        return health == .down || health == .stale || unreachable ? .failover : .switchover
    }

    /// The data a promotion of `target` would lose now: known, plus the unknown window.
    public static func dataLoss(promoting target: String, in state: DashboardState) -> DataLossEstimate {
        state.dataLoss(promoting: target)
    }

    /// Why the data a promotion of `target` would lose cannot be known.
    static func unknownLossReason(_ target: String, in state: DashboardState) -> String {
        guard let region = state.region(named: target) else { return "not a configured region" }
        guard region.role == .standby || region.role == .unknown else { return "\(target) is \(region.roleDescription), not a standby" }
        let primary = currentPrimary(in: state)
        if let source = state.writeSource(of: target), let primary, source != primary {
            return "\(target) replicates from \(source), not from the primary \(primary)"
        }
        if state.inboundLinks(of: target).isEmpty { return "nothing is known of replication into \(target)" }
        return primary.map { "\($0) has not been observed" } ?? "no primary is known"
    }

    /// Every gate for moving the primary role to `target`.
    public static func evaluate(kind: FailoverKind, target: String, in state: DashboardState, context: FailoverGateContext) -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate) {
        let now = state.now
        var gates: [FailoverGateResult] = []
        let region = state.region(named: target)
        let loss = dataLoss(promoting: target, in: state)

        // Healthy and fresh, as published and as the signals say right now (a target that has
        // just started failing is not promoted while its health waits out the sustain time).
        // Findings about replication from the old primary are expected in a failover (that is
        // why it is one) and are judged by the lag gate instead.
        if let region {
            let age = region.dataAge(at: now).map(Format.age) ?? "no data"
            let health = max(region.health, region.rawAssessment.health)
            let reasons = region.assessment.reasons + region.rawAssessment.reasons.filter { !region.assessment.reasons.contains($0) }
            let otherReasons = reasons.filter { !$0.hasPrefix("replication ") && !$0.hasPrefix("not yet ") && !$0.hasPrefix("recovering (") && !$0.hasPrefix("was: ") }
            let healthy = health == .ok || (health == .degraded && otherReasons.isEmpty)
            let detail = healthy ? "" : ": " + (otherReasons.first ?? reasons.first ?? "")
            gates.append(FailoverGateResult(gate: .targetHealthy, passed: healthy, measured: "\(health.label), data \(age) old\(detail)"))
        } else {
            gates.append(FailoverGateResult(gate: .targetHealthy, passed: false, measured: "\(target) is not a configured region"))
        }

        // Decided on the known loss; the unknown window (the primary not observed) is shown,
        // never added to it.
        let rpo = state.topology.objectives.rpoSeconds
        if let known = loss.known {
            gates.append(FailoverGateResult(gate: .lagWithinRPO, passed: known.certainlyWithin(rpo), measured: "data loss \(loss.text(at: now)) vs RPO \(Format.duration(rpo))"))
        } else {
            gates.append(FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "data loss of \(target) unknown (\(unknownLossReason(target, in: state))) vs RPO \(Format.duration(rpo))"))
        }

        if let holder = context.lockHolder {
            gates.append(FailoverGateResult(gate: .lock, passed: false, measured: "another failover holds the lock: \(holder)"))
        } else {
            gates.append(FailoverGateResult(gate: .lock, passed: true, measured: "free"))
        }

        if let last = context.lastFailoverAt {
            let elapsed = now.seconds(since: last)
            gates.append(FailoverGateResult(gate: .coolDown, passed: elapsed >= context.coolDownSeconds, measured: "last failover \(Format.duration(max(0, elapsed))) ago, cool-down \(Format.duration(context.coolDownSeconds))"))
        } else {
            gates.append(FailoverGateResult(gate: .coolDown, passed: true, measured: "no earlier failover recorded"))
        }

        gates.append(FailoverGateResult(gate: .readOnly, passed: !context.isReadOnly, measured: context.isReadOnly ? "regionwatch runs read-only" : "read-write"))

        if kind == .failback {
            let original = state.topology.regions.first { $0.role == .primary }?.name
            if target != original {
                gates.append(FailoverGateResult(gate: .rejoined, passed: false, measured: "failback returns the role to \(original ?? "the configured primary"), not \(target)"))
            } else if let region {
                let caughtUp = loss.known?.certainlyWithin(1) ?? false
                let rejoined = region.role == .standby && region.health == .ok && caughtUp
                gates.append(FailoverGateResult(gate: .rejoined, passed: rejoined, measured: "\(target) is \(region.roleDescription), \(region.health.label), lag \(loss.known?.text ?? "unknown")"))
            }
        }
        return (gates, loss)
    }
}
