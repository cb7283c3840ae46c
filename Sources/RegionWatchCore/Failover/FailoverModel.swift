/// What kind of role move an operator asked for.
public enum FailoverKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// Planned: the current primary is healthy; wait for the target to catch up, then promote.
    case switchover
    /// Emergency: the primary is down or unreachable; promote now and state the data loss.
    case failover
    /// Return the primary role to the original region once it is a healthy, caught-up standby.
    case failback
    /// Rehearsal: only steps marked safe run (everything in the demo); measures the RTO.
    case drill
}

/// The preflight checks a move must pass (or have explicitly forced, with a reason).
public enum FailoverGateKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// The target is healthy and its data fresh.
    case targetHealthy = "target-healthy"
    /// The target's replication lag is within the RPO (the estimated data loss).
    case lagWithinRPO = "lag-within-rpo"
    /// No other failover holds the lock.
    case lock
    /// The cool-down since the last failover has elapsed (anti-flapping).
    case coolDown = "cool-down"
    /// Not in read-only mode. Never forceable.
    case readOnly = "read-only"
    /// For a failback: the original region has rejoined as a healthy, caught-up standby.
    case rejoined

    /// Whether an operator may force this gate (read-only mode is a promise, not a check).
    public var isForceable: Bool { self != .readOnly }
}

/// One gate's verdict, with what was measured.
public struct FailoverGateResult: Sendable, Equatable, Codable {
    public var gate: FailoverGateKind
    public var passed: Bool
    /// The measured value, for example `lag 4.2s (12 KiB) vs RPO 30s`.
    public var measured: String
    /// Set when the gate failed and the operator forced it.
    public var forcedReason: String?

    public init(gate: FailoverGateKind, passed: Bool, measured: String, forcedReason: String? = nil) {
        self.gate = gate
        self.passed = passed
        self.measured = measured
        self.forcedReason = forcedReason
    }

    /// Passed, or failed and forced.
    public var allows: Bool { passed || forcedReason != nil }
}

/// What one plan step does.
public enum FailoverStepAction: Sendable, Equatable {
    /// A program and its arguments, never through a shell; `{from}`, `{to}`, `{reason}` are
    /// substituted into arguments.
    case exec(program: String, arguments: [String])
    /// An HTTP request; placeholders in URL, headers and body.
    case http(method: String, url: String, headers: [String: String], body: String?, expectStatus: Set<Int>)
    /// On the target: `pg_promote(wait => true)`, then verify it left recovery and takes writes.
    /// DSNs by region (the key `""` is the default).
    case postgresPromote(dsns: [String: String])
    /// On the old primary when reachable: refuse writes and end open sessions. DSNs by region.
    case postgresFence(dsns: [String: String])
    /// Undoes a fence on the old primary: takes writes again (a roll back). DSNs by region.
    case postgresUnfence(dsns: [String: String])
    /// Waits until a condition on collected state holds.
    case waitFor(FailoverCondition)
    /// Demo: the simulator performs the change.
    case simulated(SimulatedFailoverChange)

    /// Whether running it changes something outside regionwatch (a server, traffic, a program
    /// or endpoint that may act): gates are re-checked just before such a step. Waiting, a
    /// simulated verification and a `GET`/`HEAD` request only look.
    public var hasSideEffects: Bool {
        switch self {
        case .waitFor: false
        case .simulated(let change): change != .verify
        case .http(let method, _, _, _, _): !["GET", "HEAD"].contains(method.uppercased())
        case .exec, .postgresPromote, .postgresFence, .postgresUnfence: true
        }
    }

    /// What undoes it when a plan is rolled back, unless the step configures its own `undo`:
    /// a fence is lifted, traffic shifted back; looking needs no undo (`nil`); a promotion has
    /// none (fail back instead), nor has a program or request without a configured `undo`.
    public var defaultUndo: FailoverStepAction? {
        switch self {
        case .postgresFence(let dsns): .postgresUnfence(dsns: dsns)
        case .simulated(.fence): .simulated(.unfence)
        case .simulated(.shiftTraffic): .simulated(.unshiftTraffic)
        default: nil
        }
    }

    /// Whether it promotes the target (the moment data loss becomes real).
    public var isPromotion: Bool {
        switch self {
        case .postgresPromote: true
        case .simulated(let change): change == .promote
        default: false
        }
    }

    /// The kind as written in the configuration.
    public var kind: String {
        switch self {
        case .exec: "exec"
        case .http: "http"
        case .postgresPromote: "postgres-promote"
        case .postgresFence: "postgres-fence"
        case .postgresUnfence: "postgres-unfence"
        case .waitFor: "wait-for"
        case .simulated: "simulated"
        }
    }
}

/// Conditions a `wait-for` step waits on.
public enum FailoverCondition: String, Sendable, Equatable, Codable {
    /// The target's replication lag is zero (a switchover before promotion).
    case targetCaughtUp = "target-caught-up"
    /// The target reports the primary role.
    case targetIsPrimary = "target-is-primary"
    /// The target is healthy.
    case targetHealthy = "target-healthy"
}

/// What the demo's simulator changes for a simulated step.
public enum SimulatedFailoverChange: String, Sendable, Equatable, Codable {
    case fence
    case promote
    case shiftTraffic = "shift-traffic"
    case verify
    /// Rolls back a fence: the old primary takes writes again.
    case unfence
    /// Rolls back a traffic shift: the target's traffic goes back to the old primary.
    case unshiftTraffic = "unshift-traffic"
}

/// What to do when a step fails.
public enum FailoverStepFailurePolicy: String, Sendable, Equatable, Codable {
    case abort
    case `continue`
}

/// One configured plan step.
public struct FailoverPlanStep: Sendable, Equatable {
    public var name: String
    public var action: FailoverStepAction
    public var timeoutSeconds: Double
    public var onFailure: FailoverStepFailurePolicy
    /// Safe to run in a drill.
    public var isDrillSafe: Bool
    /// What undoes it when the plan is rolled back (`undo:` in the configuration); `nil` uses
    /// `action.defaultUndo`.
    public var undo: FailoverStepAction?

    public init(
        name: String, action: FailoverStepAction, timeoutSeconds: Double = 60,
        onFailure: FailoverStepFailurePolicy = .abort, isDrillSafe: Bool = false, undo: FailoverStepAction? = nil
    ) {
        self.name = name
        self.action = action
        self.timeoutSeconds = timeoutSeconds
        self.onFailure = onFailure
        self.isDrillSafe = isDrillSafe
        self.undo = undo
    }

    /// The step that undoes this one in a roll back, if any.
    public var undoStep: FailoverPlanStep? {
        (undo ?? action.defaultUndo).map {
            FailoverPlanStep(name: "undo: \(name)", action: $0, timeoutSeconds: timeoutSeconds)
        }
    }
}

/// How a step ended.
public enum FailoverStepOutcome: String, Sendable, Equatable, Codable {
    case succeeded
    case failed
    case timedOut = "timed-out"
    /// Not run: the operator aborted or an earlier step failed.
    case skipped
    /// Not run: a gate re-checked just before it refused (the output says which and why).
    case blocked
    /// Ran without doing its work, and the attempt may go on: a fence that could not reach the
    /// old primary (the output says why). The attempt completes "with warnings".
    case warning

    /// Whether the step did what it is for (a warning did not, yet lets the plan go on).
    public var isSuccess: Bool { self == .succeeded }
}

/// A step's record: when it ran, how it ended, what it printed.
public struct FailoverStepRecord: Sendable, Equatable, Codable {
    public var name: String
    public var kind: String
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var outcome: FailoverStepOutcome?
    /// Captured output (standard output and error, or the response), bounded.
    public var output: String

    public init(
        name: String, kind: String, startedAt: Timestamp? = nil, endedAt: Timestamp? = nil,
        outcome: FailoverStepOutcome? = nil, output: String = ""
    ) {
        self.name = name
        self.kind = kind
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.output = output
    }

    /// Seconds the step took (or has taken by `now`); never negative, even when `now` comes from
    /// a clock a moment behind the one that started it.
    public func seconds(at now: Timestamp) -> Double? {
        startedAt.map { max(0, (endedAt ?? now).seconds(since: $0)) }
    }
}

/// Replaces `{from}`, `{to}`, `{reason}`, `{kind}` in one argument. The result is one argument,
/// whatever it contains: nothing is ever split or interpreted by a shell.
public enum FailoverPlaceholders {
    public static func substitute(
        _ text: String, from: String, to: String, reason: String, kind: FailoverKind
    ) -> String {
        var result = ""
        var rest = Substring(text)
        let values = ["{from}": from, "{to}": to, "{reason}": reason, "{kind}": kind.rawValue]
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let candidate = rest[open...]
            if let match = values.first(where: { candidate.hasPrefix($0.key) }) {
                result += match.value
                rest = candidate.dropFirst(match.key.count)
            } else {
                result.append("{")
                rest = candidate.dropFirst()
            }
        }
        return result + rest
    }
}
