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
    /// The current primary: the region whose role is primary now.
    public static func currentPrimary(in state: DashboardState) -> String? {
        state.regions.first { $0.role == .primary }?.name
    }

    /// Switchover when the current primary is healthy enough to hand over; failover when it is
    /// down, stale or unknown.
    public static func kind(from: String?, in state: DashboardState) -> FailoverKind {
        guard let from, let region = state.region(named: from) else { return .failover }
        return region.health == .down || region.health == .stale || region.assessment == .awaitingData ? .failover : .switchover
    }

    /// The data a promotion of `target` would lose now.
    public static func dataLoss(promoting target: String, in state: DashboardState) -> DataLossEstimate {
        guard let lag = state.replicationLag(of: target) else { return .unknown }
        return DataLossEstimate(seconds: lag.seconds, bytes: lag.bytes, isLowerBound: lag.isLowerBound)
    }

    /// Every gate for moving the primary role to `target`.
    public static func evaluate(kind: FailoverKind, target: String, in state: DashboardState, context: FailoverGateContext) -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate) {
        let now = state.now
        var gates: [FailoverGateResult] = []
        let region = state.region(named: target)
        let loss = dataLoss(promoting: target, in: state)

        // Healthy and fresh. Findings about replication from the old primary are expected in a
        // failover (that is why it is one) and are judged by the lag gate instead.
        if let region {
            let age = region.dataAge(at: now).map(Format.age) ?? "no data"
            let otherReasons = region.assessment.reasons.filter { !$0.hasPrefix("replication ") }
            let healthy = region.health == .ok || (region.health == .degraded && otherReasons.isEmpty)
            let detail = healthy ? "" : ": " + (otherReasons.first ?? region.assessment.reasons.first ?? "")
            gates.append(FailoverGateResult(gate: .targetHealthy, passed: healthy, measured: "\(region.health.label), data \(age) old\(detail)"))
        } else {
            gates.append(FailoverGateResult(gate: .targetHealthy, passed: false, measured: "\(target) is not a configured region"))
        }

        let rpo = state.topology.objectives.rpoSeconds
        if let seconds = loss.seconds {
            let bytes = loss.bytes.map { ", \(Format.bytes($0))" } ?? ""
            let shown = "\(loss.isLowerBound ? "at least " : "")\(Format.fixed(seconds, decimals: 1))s\(bytes)"
            gates.append(FailoverGateResult(gate: .lagWithinRPO, passed: seconds <= rpo, measured: "estimated data loss \(shown) vs RPO \(Format.duration(rpo))"))
        } else {
            gates.append(FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "replication lag of \(target) unknown vs RPO \(Format.duration(rpo))"))
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
                let caughtUp = (loss.seconds ?? .infinity) < 1 && !loss.isLowerBound
                let rejoined = region.role == .standby && region.health == .ok && caughtUp
                gates.append(FailoverGateResult(gate: .rejoined, passed: rejoined, measured: "\(target) is \(region.role.rawValue), \(region.health.label), lag \(loss.seconds.map { Format.fixed($0, decimals: 1) + "s" } ?? "unknown")"))
            }
        }
        return (gates, loss)
    }
}
