/// The last switchover, failover or failback that completed, as the shared history says: the
/// cool-down counts from it (refused, aborted, failed and dry-run attempts never reset it).
public struct CompletedFailover: Sendable, Equatable {
    public var kind: String
    public var from: String
    public var to: String
    public var operatorName: String
    /// When it finished.
    public var at: Timestamp

    public init(kind: String, from: String, to: String, operatorName: String, at: Timestamp) {
        self.kind = kind
        self.from = from
        self.to = to
        self.operatorName = operatorName
        self.at = at
    }
}

/// What the gates need besides the dashboard state.
public struct FailoverGateContext: Sendable, Equatable {
    /// Who holds the failover lock, when someone else does.
    public var lockHolder: String?
    /// Why the lock could not be taken at all (a permission problem, an unreachable server):
    /// said as such, never as another operator holding it.
    public var lockProblem: String?
    /// The last completed failover (not drill).
    public var lastFailover: CompletedFailover?
    public var coolDownSeconds: Double
    public var isReadOnly: Bool

    public init(
        lockHolder: String? = nil, lastFailover: CompletedFailover? = nil, coolDownSeconds: Double = 600,
        isReadOnly: Bool = false
    ) {
        self.lockHolder = lockHolder
        self.lastFailover = lastFailover
        self.coolDownSeconds = coolDownSeconds
        self.isReadOnly = isReadOnly
    }
}

/// Why a region cannot be the target of a move at all (never forceable).
public struct FailoverTargetProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    /// The regions that can be targets now.
    public var validTargets: [String]
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
        guard region.role == .standby || region.role == .unknown else {
            return "\(target) is \(region.roleDescription), not a standby"
        }
        let primary = currentPrimary(in: state)
        if let source = state.writeSource(of: target), let primary, source != primary {
            return "\(target) replicates from \(source), not from the primary \(primary)"
        }
        if state.inboundLinks(of: target).isEmpty { return "nothing is known of replication into \(target)" }
        return primary.map { "\($0) has not been observed" } ?? "no primary is known"
    }

    /// Regions a move could target now: standbys (not the primary, not fenced, not unknown).
    public static func validTargets(kind: FailoverKind, in state: DashboardState) -> [String] {
        state.regions.map(\.name).filter { whyNoTarget(kind: kind, target: $0, in: state) == nil }
    }

    /// Why `target` cannot be promoted by a move of `kind` at all, or `nil` when it can be
    /// (whether it should is for the gates): it must be a configured region that is not the
    /// current primary, not fenced and whose role is known. A failback targets the configured
    /// primary. Checked before anything is collected, locked or recorded; never forceable.
    public static func targetProblem(
        kind: FailoverKind, target: String, in state: DashboardState
    ) -> FailoverTargetProblem? {
        whyNoTarget(kind: kind, target: target, in: state).map { reason in
            FailoverTargetProblem(
                description: reason, validTargets: validTargets(kind: kind, in: state).filter { $0 != target })
        }
    }

    private static func whyNoTarget(kind: FailoverKind, target: String, in state: DashboardState) -> String? {
        guard let region = state.region(named: target) else { return "\(target) is not a configured region" }
        if kind == .failback, let original = state.topology.regions.first(where: { $0.role == .primary })?.name,
            target != original
        {
            return "a failback returns the role to the configured primary \(original), not \(target)"
        }
        if target == currentPrimary(in: state) || region.role == .primary { return "\(target) is the current primary" }
        switch region.role {
        case .fenced: return "\(target) is fenced (a former primary that refuses writes), not a standby"
        case .unknown: return "the role of \(target) is unknown (its server cannot be reached)"
        case .primary, .standby, .active: return nil
        }
    }

    /// The lock gate: another holder, a problem taking the lock (said as such), or free.
    public static func lockGate(holder: String?, problem: String?) -> FailoverGateResult {
        if let holder {
            return FailoverGateResult(
                gate: .lock, passed: false, measured: "another failover holds the lock: \(holder)")
        }
        if let problem {
            return FailoverGateResult(gate: .lock, passed: false, measured: "the lock cannot be taken: \(problem)")
        }
        return FailoverGateResult(gate: .lock, passed: true, measured: "free")
    }

    /// Every gate for moving the primary role to `target`, judged on the facts `state` gives.
    public static func evaluate(
        kind: FailoverKind, target: String, in state: DashboardState, context: FailoverGateContext
    ) -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate) {
        evaluate(kind: kind, target: target, facts: FailoverFacts(state, about: [target]), context: context)
    }

    /// Every gate for moving the primary role to `target`. Reads only `facts`: what the gates
    /// need, taken from the state at one moment.
    public static func evaluate(
        kind: FailoverKind, target: String, facts: FailoverFacts, context: FailoverGateContext
    ) -> (gates: [FailoverGateResult], dataLoss: DataLossEstimate) {
        let now = facts.now
        var gates: [FailoverGateResult] = []
        let region = facts.regions[target]
        let loss = region?.dataLoss ?? .unknown

        // Healthy and fresh, as published and as the signals say right now (a target that has
        // just started failing is not promoted while its health waits out the sustain time).
        // Findings about replication from the old primary are expected in a failover (that is
        // why it is one) and are judged by the lag gate instead.
        if let region {
            let age = region.dataAgeSeconds.map(Format.age) ?? "no data"
            let health = max(region.health, region.rawHealth)
            let reasons = region.reasons
            let otherReasons = reasons.filter {
                !$0.hasPrefix("replication ") && !$0.hasPrefix("not yet ") && !$0.hasPrefix("recovering (")
                    && !$0.hasPrefix("was: ")
            }
            let healthy = health == .ok || (health == .degraded && otherReasons.isEmpty)
            let detail = healthy ? "" : ": " + (otherReasons.first ?? reasons.first ?? "")
            gates.append(
                FailoverGateResult(
                    gate: .targetHealthy, passed: healthy, measured: "\(health.label), data \(age) old\(detail)"))
        } else {
            gates.append(
                FailoverGateResult(
                    gate: .targetHealthy, passed: false, measured: "\(target) is not a configured region"))
        }

        // Decided on the known loss; the unknown window (the primary not observed) is shown,
        // never added to it.
        let rpo = facts.rpoSeconds
        if let known = loss.known {
            gates.append(
                FailoverGateResult(
                    gate: .lagWithinRPO, passed: known.certainlyWithin(rpo),
                    measured: "data loss \(loss.text(at: now)) vs RPO \(Format.duration(rpo))"))
        } else {
            let reason = region?.unknownLossReason ?? "not a configured region"
            gates.append(
                FailoverGateResult(
                    gate: .lagWithinRPO, passed: false,
                    measured: "data loss of \(target) unknown (\(reason)) vs RPO \(Format.duration(rpo))"))
        }

        gates.append(lockGate(holder: context.lockHolder, problem: context.lockProblem))

        if let last = context.lastFailover {
            let elapsed = now.seconds(since: last.at)
            let measured =
                "\(last.to) ← \(last.from) \(last.kind) completed \(Format.duration(max(0, elapsed))) ago by \(last.operatorName), cool-down \(Format.duration(context.coolDownSeconds))"
            gates.append(
                FailoverGateResult(gate: .coolDown, passed: elapsed >= context.coolDownSeconds, measured: measured))
        } else {
            gates.append(FailoverGateResult(gate: .coolDown, passed: true, measured: "no earlier failover recorded"))
        }

        gates.append(
            FailoverGateResult(
                gate: .readOnly, passed: !context.isReadOnly,
                measured: context.isReadOnly ? "regionwatch runs read-only" : "read-write"))

        if kind == .failback {
            let original = facts.configuredPrimary
            if target != original {
                gates.append(
                    FailoverGateResult(
                        gate: .rejoined, passed: false,
                        measured: "failback returns the role to \(original ?? "the configured primary"), not \(target)")
                )
            } else if let region {
                let caughtUp = loss.known?.certainlyWithin(1) ?? false
                let rejoined = region.role == .standby && region.health == .ok && caughtUp
                gates.append(
                    FailoverGateResult(
                        gate: .rejoined, passed: rejoined,
                        measured:
                            "\(target) is \(region.roleDescription), \(region.health.label), lag \(loss.known?.text ?? "unknown")"
                    ))
            }
        }
        return (gates, loss)
    }
}

/// What the gates read, taken from the dashboard state at one moment: a narrow value, not the
/// state (gates cannot depend on anything else, and a test can state the facts directly).
public struct FailoverFacts: Sendable, Equatable {
    /// One region as the gates see it.
    public struct Region: Sendable, Equatable {
        public var role: RegionRole
        public var roleDescription: String
        /// Published health, and the health the signals give right now.
        public var health: Health
        public var rawHealth: Health
        /// Published reasons, then the raw ones not among them.
        public var reasons: [String]
        public var dataAgeSeconds: Double?
        /// What promoting it would lose now.
        public var dataLoss: DataLossEstimate
        /// Why `dataLoss` has no known part, when it has none.
        public var unknownLossReason: String

        public init(
            role: RegionRole, roleDescription: String? = nil, health: Health, rawHealth: Health? = nil,
            reasons: [String] = [], dataAgeSeconds: Double?, dataLoss: DataLossEstimate, unknownLossReason: String = ""
        ) {
            self.role = role
            self.roleDescription = roleDescription ?? role.rawValue
            self.health = health
            self.rawHealth = rawHealth ?? health
            self.reasons = reasons
            self.dataAgeSeconds = dataAgeSeconds
            self.dataLoss = dataLoss
            self.unknownLossReason = unknownLossReason
        }
    }

    public var now: Timestamp
    public var rpoSeconds: Double
    /// The region the configuration names primary (a failback's target).
    public var configuredPrimary: String?
    public var regions: [String: Region]

    public init(now: Timestamp, rpoSeconds: Double, configuredPrimary: String?, regions: [String: Region]) {
        self.now = now
        self.rpoSeconds = rpoSeconds
        self.configuredPrimary = configuredPrimary
        self.regions = regions
    }

    /// The facts about `names` (every region when `nil`).
    public init(_ state: DashboardState, about names: Set<String>? = nil) {
        now = state.now
        rpoSeconds = state.topology.objectives.rpoSeconds
        configuredPrimary = state.topology.regions.first { $0.role == .primary }?.name
        var regions: [String: Region] = [:]
        for region in state.regions where names?.contains(region.name) ?? true {
            let loss = state.dataLoss(promoting: region.name)
            regions[region.name] = Region(
                role: region.role, roleDescription: region.roleDescription,
                health: region.health, rawHealth: region.rawAssessment.health,
                reasons: region.assessment.reasons
                    + region.rawAssessment.reasons.filter { !region.assessment.reasons.contains($0) },
                dataAgeSeconds: region.dataAge(at: state.now), dataLoss: loss,
                unknownLossReason: loss.known == nil ? FailoverGates.unknownLossReason(region.name, in: state) : ""
            )
        }
        self.regions = regions
    }
}
