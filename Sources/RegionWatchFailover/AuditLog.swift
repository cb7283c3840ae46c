import Foundation
import RegionWatchCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One line of the audit log (JSON Lines). Every transition of an attempt is one line.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// `confirmed`, `gates-rechecked`, `step-started`, `step-finished`, `finished` or
    /// `acknowledged`.
    public var type: String
    public var at: String
    public var atEpochSeconds: Double
    public var id: String
    public var kind: String?
    public var from: String?
    public var to: String?
    public var operatorName: String?
    public var reason: String?
    public var gates: [FailoverGateResult]?
    /// `finished`: the data the attempt lost, measured at promotion; absent when nothing was
    /// promoted. `gates-rechecked`: the estimate at that moment. `confirmed` of a resume after
    /// the promotion: the loss measured at it.
    public var dataLoss: DataLossEstimate?
    /// `confirmed`: the data a promotion would have lost at confirmation (an estimate, not a
    /// loss).
    public var estimatedDataLoss: DataLossEstimate?
    public var rtoObjectiveSeconds: Double?
    public var stepIndex: Int?
    public var step: FailoverStepRecord?
    /// `finished`: every step and its outcome. `confirmed`: the plan as confirmed (a resume's
    /// steps that already ran carry their outcome).
    public var steps: [FailoverStepRecord]?
    /// The attempt this one resumes or rolls back.
    public var resumes: String?
    public var rollsBack: String?
    /// For `finished`: completed, failed, aborted or refused.
    public var state: String?
    public var measuredRtoSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case type, at, atEpochSeconds, id, kind, from, to
        case operatorName = "operator"
        case reason, gates, dataLoss, estimatedDataLoss, resumes, rollsBack, rtoObjectiveSeconds, stepIndex, step,
            steps, state, measuredRtoSeconds
    }

    /// The entry for a machine's audit record.
    public init(_ record: FailoverAuditRecord, at time: Timestamp, rtoObjectiveSeconds: Double) {
        at = time.iso8601
        atEpochSeconds = time.secondsSinceEpoch
        id = record.attemptID
        switch record {
        case .confirmed(let attempt):
            type = "confirmed"
            fill(from: attempt)
            estimatedDataLoss = attempt.dataLoss
            // The plan as confirmed, with the steps a resumed attempt already ran: a crash
            // before the finish record leaves enough to rebuild it.
            steps = attempt.steps
            // A resume after the promotion: the loss measured at it.
            if attempt.isPromoted { dataLoss = attempt.dataLossAtPromotion }
            self.rtoObjectiveSeconds = rtoObjectiveSeconds
        case .gatesRechecked(_, let index, let gates, let loss):
            type = "gates-rechecked"
            stepIndex = index
            self.gates = gates
            dataLoss = loss
        case .stepStarted(_, let index, let step):
            type = "step-started"
            stepIndex = index
            self.step = step
        case .stepFinished(_, let index, let step):
            type = "step-finished"
            stepIndex = index
            self.step = step
        case .finished(let attempt, let final):
            type = "finished"
            fill(from: attempt)
            dataLoss = attempt.recordedDataLoss
            state = final.name
            steps = attempt.steps
            self.rtoObjectiveSeconds = rtoObjectiveSeconds
            measuredRtoSeconds = final == .refused ? nil : attempt.measuredRTO(at: time)
        }
    }

    /// An operator's acknowledgement of an interrupted attempt.
    public init(acknowledging id: String, at time: Timestamp, operatorName: String) {
        type = "acknowledged"
        at = time.iso8601
        atEpochSeconds = time.secondsSinceEpoch
        self.id = id
        self.operatorName = operatorName
    }

    private mutating func fill(from attempt: FailoverAttempt) {
        kind = attempt.request.kind.rawValue
        from = attempt.request.from
        to = attempt.request.to
        operatorName = attempt.request.operatorName
        reason = attempt.reason
        gates = attempt.gates
        switch attempt.request.continuation {
        case .resumes(let id): resumes = id
        case .rollsBack(let id): rollsBack = id
        case nil: break
        }
    }
}

/// What the audit log says: finished attempts, and attempts that started and never finished.
public struct AuditHistory: Sendable, Equatable {
    /// Attempts in log order, each with its entries.
    public var attempts: [AuditedAttempt] = []
    /// Lines that could not be read (a torn last line after a crash, hand edits).
    public var unreadableLines: [Int] = []

    /// Confirmed, never finished, not acknowledged, and not since resumed or rolled back: a
    /// failover interrupted by a crash.
    public var interrupted: [AuditedAttempt] {
        let continued = Set(attempts.compactMap { $0.confirmed?.resumes ?? $0.confirmed?.rollsBack })
        return attempts.filter {
            $0.confirmed != nil && $0.finished == nil && !$0.isAcknowledged && !continued.contains($0.id)
        }
    }

    /// The most recent attempt of `kinds` that completed (the cool-down counts from it: a
    /// refused, aborted or failed attempt after it changes nothing).
    public func lastCompleted(kinds: Set<String>) -> CompletedFailover? {
        attempts.compactMap { attempt -> CompletedFailover? in
            // A roll back restores; it is no move of the primary role.
            guard let finished = attempt.finished, finished.state == "completed", finished.rollsBack == nil,
                let kind = finished.kind, kinds.contains(kind)
            else { return nil }
            return CompletedFailover(
                kind: kind, from: finished.from ?? "?", to: finished.to ?? "?",
                operatorName: finished.operatorName ?? "?",
                at: Timestamp(secondsSinceEpoch: finished.atEpochSeconds)
            )
        }.max { $0.at < $1.at }
    }
}

/// One attempt's entries.
public struct AuditedAttempt: Sendable, Equatable {
    public var id: String
    public var confirmed: AuditEntry?
    public var finished: AuditEntry?
    public var stepEntries: [AuditEntry] = []
    /// An operator's acknowledgement of it (interrupted attempts only): who and when.
    public var acknowledgement: AuditEntry?

    public init(
        id: String, confirmed: AuditEntry? = nil, finished: AuditEntry? = nil, stepEntries: [AuditEntry] = [],
        acknowledgement: AuditEntry? = nil
    ) {
        self.id = id
        self.confirmed = confirmed
        self.finished = finished
        self.stepEntries = stepEntries
        self.acknowledgement = acknowledgement
    }

    public var isAcknowledged: Bool { acknowledgement != nil }

    public var kind: String? { finished?.kind ?? confirmed?.kind }
    public var summaryEntry: AuditEntry? { finished ?? confirmed }
}

/// The append-only audit log: one JSON object per line, written with `O_APPEND` and made
/// durable (`fsync`) before the transition it records takes effect.
public final class AuditLog: Sendable {
    public let path: String
    /// The history shared by every operator, when configured (`lock: postgres`): every record
    /// goes there first, and history is read from there.
    public let shared: SharedAuditHistory?
    private let incremental = Mutex(IncrementalAuditRead())

    public init(path: String, shared: SharedAuditHistory? = nil) {
        self.path = path
        self.shared = shared
    }

    /// The log `settings` name (`failover.auditLog`), else the default path; shared through
    /// the PostgreSQL server `failover.sharedHistory` names.
    public convenience init(settings: FailoverSettings, environment: [String: String]) {
        self.init(
            path: settings.auditLogPath ?? Self.defaultPath(environment: environment),
            shared: settings.sharedHistory.map(SharedAuditHistory.init)
        )
    }

    /// Records `entry`: in the shared history first (when configured), then in the local file.
    /// Throws when either cannot be written: the transition it records must not take effect.
    public func record(_ entry: AuditEntry) async throws {
        try await shared?.append(entry)
        try append(entry)
    }

    /// The history: the shared one when configured, else the local file. When the shared one
    /// cannot be read, the local copy with the reason (gates that need the history say so).
    public func history() async -> (history: AuditHistory, problem: String?) {
        guard let shared else { return (read(), nil) }
        do {
            return (try await shared.read(), nil)
        } catch {
            return (read(), "\(error); read the local copy \(path)")
        }
    }

    /// One entry as a JSON line (without the newline).
    static func encode(_ entry: AuditEntry) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(entry)
    }

    /// `$XDG_STATE_HOME/regionwatch/audit.jsonl` (default `~/.local/state/...`).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base =
            environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
        return base + "/regionwatch/audit.jsonl"
    }

    /// Appends `entry` and syncs it to disk.
    public func append(_ entry: AuditEntry) throws {
        var line = try Self.encode(entry)
        line.append(UInt8(ascii: "\n"))
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw AuditLogError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // A crash can leave a torn last line: start on a fresh line so this entry stays whole.
        let size = lseek(descriptor, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(descriptor, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") {
                line.insert(UInt8(ascii: "\n"), at: 0)
            }
        }
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            let reason =
                written < 0
                ? String(cString: strerror(errno)) : "only \(written) of \(line.count) bytes written (disk full?)"
            // A short write would leave a torn line: cut the file back to its last whole line.
            if written > 0, size >= 0 { _ = ftruncate(descriptor, size) }
            throw AuditLogError("cannot write \(path): \(reason)")
        }
        guard fsync(descriptor) == 0 else {
            throw AuditLogError("cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads the log. The file only grows, so only what was appended since the last read is
    /// parsed (a log rewritten or replaced is read again from the start): a long history costs
    /// its parsing once, not at every gate re-check. A missing file is an empty history.
    public func read() -> AuditHistory {
        incremental.withLock { $0.read(path) }
    }

    /// Lines parsed by `read()` so far (tests check that a read parses only what is new).
    var parsedLines: Int { incremental.withLock { $0.builder.lineCount } }

    /// Parses log bytes; unreadable lines are reported by number and skipped.
    public static func parse(_ data: Data) -> AuditHistory {
        var builder = AuditHistoryBuilder()
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) { builder.add(line) }
        return builder.history
    }
}

/// Builds an audit history line by line.
struct AuditHistoryBuilder: Sendable {
    private(set) var history = AuditHistory()
    private var positions: [String: Int] = [:]
    /// Lines added (empty ones included: line numbers count them).
    private(set) var lineCount = 0

    mutating func add<Line: Collection>(_ line: Line) where Line.Element == UInt8 {
        lineCount += 1
        guard !line.isEmpty else { return }
        guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(line)) else {
            history.unreadableLines.append(lineCount)
            return
        }
        let position: Int
        if let existing = positions[entry.id] {
            position = existing
        } else {
            position = history.attempts.count
            positions[entry.id] = position
            history.attempts.append(AuditedAttempt(id: entry.id))
        }
        switch entry.type {
        case "confirmed": history.attempts[position].confirmed = entry
        case "finished": history.attempts[position].finished = entry
        case "acknowledged": history.attempts[position].acknowledgement = entry
        default: history.attempts[position].stepEntries.append(entry)
        }
    }
}

/// Where the last read of a log stopped: the file (device and inode), the offset after its
/// last whole line, and the history of everything before it.
struct IncrementalAuditRead: Sendable {
    var file: (device: UInt64, inode: UInt64)?
    var offset: Int = 0
    var builder = AuditHistoryBuilder()

    mutating func read(_ path: String) -> AuditHistory {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            self = IncrementalAuditRead()
            return AuditHistory()
        }
        defer { close(descriptor) }
        var information = stat()
        guard fstat(descriptor, &information) == 0 else { return builder.history }
        let identity = (device: UInt64(information.st_dev), inode: UInt64(information.st_ino))
        if file.map({ $0 != identity }) ?? true || Int(information.st_size) < offset {
            self = IncrementalAuditRead()
            file = identity
        }
        let size = Int(information.st_size)
        var appended = [UInt8](repeating: 0, count: max(0, size - offset))
        let count = appended.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard count > 0 else { return builder.history }
        appended.removeSubrange(count...)
        // Whole lines are kept; a last line without its newline (being written, or torn by a
        // crash) is parsed into this answer only, and read again next time.
        let wholeEnd = (appended.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        let whole = appended[..<wholeEnd]
        for line in whole.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            builder.add(line)
        }
        offset += wholeEnd
        guard wholeEnd < appended.count else { return builder.history }
        var withPartial = builder
        withPartial.add(appended[wholeEnd...])
        return withPartial.history
    }
}

public struct AuditLogError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
