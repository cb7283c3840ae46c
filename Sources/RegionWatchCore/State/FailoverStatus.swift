/// A finished attempt as the dashboard lists it (from the audit log).
public struct FailoverRecordSummary: Sendable, Equatable {
    public var id: String
    public var at: Timestamp
    public var kind: String
    public var from: String
    public var to: String
    /// completed, failed, aborted or refused.
    public var state: String
    public var measuredRTOSeconds: Double?
    /// The data loss recorded: known, and the window when the primary was not observed.
    public var dataLoss: DataLossEstimate?
    public var operatorName: String
    public var reason: String?
    /// `gate: measured` for every gate that failed (forced or not).
    public var failedGates: [String]
    /// `name: outcome (seconds)` per step.
    public var steps: [String]
    /// The old primary a fence step could not reach (it may still take writes).
    public var notFenced: String?
    /// For an interrupted attempt an operator acknowledged: by whom and when.
    public var acknowledged: String?
    /// Set when the attempt rolled back another (it restores; it is no move of the role).
    public var rollsBack: String?

    public init(
        id: String, at: Timestamp, kind: String, from: String, to: String, state: String, measuredRTOSeconds: Double?,
        dataLoss: DataLossEstimate?, operatorName: String, reason: String?, failedGates: [String], steps: [String]
    ) {
        self.id = id
        self.at = at
        self.kind = kind
        self.from = from
        self.to = to
        self.state = state
        self.measuredRTOSeconds = measuredRTOSeconds
        self.dataLoss = dataLoss
        self.operatorName = operatorName
        self.reason = reason
        self.failedGates = failedGates
        self.steps = steps
    }

    /// Builds a record that also names a server its fence step could not reach.
    public func noting(notFenced region: String?) -> Self {
        var record = self
        record.notFenced = region
        return record
    }
}

/// What the audit log says, for the dashboard: recent records, and interrupted attempts.
public struct FailoverHistorySummary: Sendable, Equatable {
    /// Newest last, bounded.
    public var recent: [FailoverRecordSummary]
    /// Attempts confirmed and never finished (a crash): shown until acknowledged. The newest
    /// `interruptedLimit` only: the screen is drawn from it every frame.
    public var interrupted: [FailoverRecordSummary]
    /// How many there are in all.
    public var interruptedCount = 0
    public static let interruptedLimit = 20
    public var auditLogPath: String
    public var unreadableLines: Int
    /// The attempt the log shows stopped half-way (see `FailoverMachine.unresolved`).
    public var unresolved: FailoverAttempt?

    public init(
        recent: [FailoverRecordSummary] = [], interrupted: [FailoverRecordSummary] = [], auditLogPath: String = "",
        unreadableLines: Int = 0, unresolved: FailoverAttempt? = nil
    ) {
        self.recent = recent
        self.interrupted = Array(interrupted.suffix(Self.interruptedLimit))
        interruptedCount = interrupted.count
        self.auditLogPath = auditLogPath
        self.unreadableLines = unreadableLines
        self.unresolved = unresolved
    }

    public var lastFailover: FailoverRecordSummary? {
        recent.last { $0.kind != "drill" && $0.rollsBack == nil && $0.state == "completed" }
    }
    /// The newest move that did not complete (aborted, failed, refused), when it came after
    /// the last completed one: the panel shows it too.
    public var lastUnfinished: FailoverRecordSummary? {
        guard let newest = recent.last(where: { $0.kind != "drill" && $0.rollsBack == nil }),
            newest.state != "completed"
        else { return nil }
        return newest
    }
    public var lastDrill: FailoverRecordSummary? { recent.last { $0.kind == "drill" && $0.state != "refused" } }
}

/// The current attempt as the driver reports it.
public struct FailoverProgress: Sendable, Equatable {
    public var machine: FailoverMachine
    public var confirmationProblem: String?
    public var problem: String?

    public init(machine: FailoverMachine, confirmationProblem: String? = nil, problem: String? = nil) {
        self.machine = machine
        self.confirmationProblem = confirmationProblem
        self.problem = problem
    }
}

/// An old primary that a failover's fence step could not reach: it may take writes when it
/// comes back. Shown until the server is seen fenced or in recovery.
public struct NotFencedServer: Equatable, Sendable {
    public var region: String
    /// The attempt whose fence did not reach it.
    public var attemptID: String
    public var since: Timestamp
}

/// The failover panel's facts: what is happening now and what happened before.
public struct FailoverStatus: Equatable, Sendable {
    public internal(set) var progress = FailoverProgress(machine: FailoverMachine())
    public internal(set) var history = FailoverHistorySummary()
    public internal(set) var isReadOnly = false
    /// Old primaries left unfenced, until seen fenced or in recovery.
    public internal(set) var notFenced: [NotFencedServer] = []
    /// Attempts whose unfenced server has since been seen fenced or in recovery.
    var resolvedNotFenced: Set<String> = []

    /// Notes `region` as not fenced by `attemptID` (unless already noted or resolved).
    mutating func noteNotFenced(_ region: String, attemptID: String, at time: Timestamp) {
        guard !resolvedNotFenced.contains(attemptID), !notFenced.contains(where: { $0.attemptID == attemptID }) else {
            return
        }
        notFenced.append(NotFencedServer(region: region, attemptID: attemptID, since: time))
    }

    /// Drops the notices of servers now seen refusing writes (`isSafe`).
    mutating func resolveNotFenced(where isSafe: (String) -> Bool) {
        for server in notFenced where isSafe(server.region) { resolvedNotFenced.insert(server.attemptID) }
        notFenced.removeAll { resolvedNotFenced.contains($0.attemptID) }
    }

    public init() {}

    public var machine: FailoverMachine { progress.machine }

    /// The state's name for `status` (steady, preflight, executing step 2 of 5, …).
    public var stateName: String { progress.machine.state.name }

    /// One-line description for the panel.
    /// The summary for a header, where room is short: `none` while steady.
    public var headerSummary: String {
        progress.machine.state == .steady ? "none" : summary
    }

    public var summary: String {
        guard let attempt = progress.machine.attempt else { return "no failover in progress" }
        let request = attempt.request
        switch progress.machine.state {
        case .steady: return "no failover in progress"
        case .preflight: return "\(request.kind.rawValue) to \(request.to): preflight"
        case .awaitingConfirmation: return "\(request.kind.rawValue) to \(request.to): awaiting confirmation"
        case .executing(let step, let count):
            return "\(request.title): step \(step + 1)/\(count) \(attempt.steps[step].name)"
        case .completed, .failed, .aborted, .refused:
            return "\(request.title): \(progress.machine.state.name.uppercased())"
        }
    }
}

/// An attempt that aborted or failed after changing something, as it stands now.
public struct UnresolvedFailover: Sendable, Equatable {
    public var attempt: FailoverAttempt
    /// Names of the steps that ran.
    public var stepsDone: [String]
    /// The old primary's and the target's role as observed now.
    public var regionRoles: [RegionRoleNow]

    /// A region and its role as observed now.
    public struct RegionRoleNow: Sendable, Equatable {
        public var region: String
        public var role: String
    }

    /// One line for the panel and the dialog.
    public var summary: String {
        let request = attempt.request
        let roles = regionRoles.map { "\($0.region) \($0.role)" }.joined(separator: ", ")
        let ran = stepsDone.isEmpty ? "no step" : stepsDone.joined(separator: ", ")
        return
            "\(request.kind.rawValue) \(request.from) → \(request.to) stopped after: \(ran); now \(roles). C resumes, U rolls back"
    }
}
