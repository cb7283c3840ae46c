import Foundation
import RegionWatchCore
import RegionWatchFailover

/// The audit log as a table, written as it is read: an attempt is written when it ends
/// (finished or acknowledged), the attempts still open at the end of the log are the
/// interrupted ones and come last. Memory holds only the open attempts (at most
/// `openAttemptLimit`) and the first unreadable line numbers, whatever the log's length.
public struct AuditTextStream {
    /// Most attempts held open at once; older open ones are counted, not shown.
    public static let openAttemptLimit = 1000
    /// Unreadable line numbers listed; the rest are counted.
    public static let unreadableLinesListed = 20

    private let write: (String) -> Void
    private var open = RecencyBoundedMap<String, AuditedAttempt>(capacity: AuditTextStream.openAttemptLimit)
    private var written = 0
    private var lineCount = 0
    private var unreadable: [Int] = []
    private var unreadableCount = 0

    /// A stream that hands each finished piece of text to `write`, starting with the title.
    public init(path: String, write: @escaping (String) -> Void) {
        self.write = write
        write("AUDIT LOG \(path)\n")
    }

    /// Reads one line of the log (JSON Lines; empty lines count for line numbers).
    public mutating func add<Bytes: Collection>(line: Bytes) where Bytes.Element == UInt8 {
        lineCount += 1
        guard !line.isEmpty else { return }
        guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(line)) else {
            unreadableCount += 1
            if unreadable.count < Self.unreadableLinesListed { unreadable.append(lineCount) }
            return
        }
        add(entry)
    }

    /// Reads one entry.
    public mutating func add(_ entry: AuditEntry) {
        if entry.type == "confirmed", let continued = entry.resumes ?? entry.rollsBack { open.remove(continued) }
        switch entry.type {
        case "finished":
            open.remove(entry.id)
            emit(Self.finishedLines(entry))
        case "acknowledged":
            guard var attempt = open[entry.id] else { return }
            open.remove(entry.id)
            attempt.acknowledgement = entry
            if let confirmed = attempt.confirmed {
                emit(Self.acknowledgedLines(attempt, confirmed: confirmed, acknowledgement: entry))
            }
        default:
            open.update(entry.id, default: AuditedAttempt(id: entry.id)) { attempt in
                if entry.type == "confirmed" { attempt.confirmed = entry } else { attempt.stepEntries.append(entry) }
            }
        }
    }

    /// Writes the interrupted attempts and the unreadable lines: the end of the table.
    public mutating func finish() {
        let interrupted = open.values.filter { $0.confirmed != nil }.sorted {
            ($0.confirmed?.atEpochSeconds ?? 0, $0.id) < ($1.confirmed?.atEpochSeconds ?? 0, $1.id)
        }
        if written == 0, interrupted.isEmpty, open.forgottenCount == 0 {
            write("no failover, drill or refusal recorded\n")
        }
        for attempt in interrupted { emit(Self.interruptedLines(attempt)) }
        if open.forgottenCount > 0 {
            write(
                "\(open.forgottenCount) older attempts were still open when more than \(Self.openAttemptLimit) were: not shown (see --json)\n"
            )
        }
        if unreadableCount > 0 {
            let more = unreadableCount > unreadable.count ? " and \(unreadableCount - unreadable.count) more" : ""
            write("unreadable lines: \(unreadable.map(String.init).joined(separator: ", "))\(more)\n")
        }
    }

    private mutating func emit(_ lines: [String]) {
        written += 1
        write(lines.joined(separator: "\n") + "\n")
    }

    static func finishedLines(_ entry: AuditEntry) -> [String] {
        let rto = "RTO " + FailoverFormat.measuredRTO(entry.measuredRtoSeconds)
        let loss =
            "loss " + FailoverFormat.dataLoss(entry.dataLoss, at: Timestamp(secondsSinceEpoch: entry.atEpochSeconds))
        let state = (entry.state ?? "?").uppercased().padding(toLength: 9, withPad: " ", startingAt: 0)
        var lines = [
            "\(entry.at)  \(state) \(entry.kind ?? "?") \(entry.from ?? "?") → \(entry.to ?? "?")  \(rto)  \(loss)  by \(entry.operatorName ?? "?")\(entry.reason.map { ": \($0)" } ?? "")"
        ]
        for gate in entry.gates ?? [] where !gate.passed {
            lines.append(
                "    gate "
                    + FailoverFormat.gate(gate.gate.rawValue, measured: gate.measured, forcedReason: gate.forcedReason))
        }
        for step in entry.steps ?? [] {
            let seconds = FailoverFormat.stepDuration(startedAt: step.startedAt, endedAt: step.endedAt)
            lines.append("    step \(step.name): \(step.outcome?.rawValue ?? "pending")\(seconds)")
        }
        return lines
    }

    static func acknowledgedLines(
        _ attempt: AuditedAttempt, confirmed entry: AuditEntry, acknowledgement: AuditEntry
    ) -> [String] {
        var lines = [
            "\(entry.at)  INTERRUPTED \(entry.kind ?? "?") \(entry.from ?? "?") → \(entry.to ?? "?")  by \(entry.operatorName ?? "?")\(entry.reason.map { ": \($0)" } ?? "") — acknowledged by \(acknowledgement.operatorName ?? "?") at \(acknowledgement.at)"
        ]
        for step in attempt.stepEntries where step.type == "step-finished" {
            lines.append("    step \(step.step?.name ?? ""): \(step.step?.outcome?.rawValue ?? "")")
        }
        return lines
    }

    static func interruptedLines(_ attempt: AuditedAttempt) -> [String] {
        let entry = attempt.confirmed
        var lines = [
            "INTERRUPTED \(entry?.kind ?? "failover") \(entry?.from ?? "?") → \(entry?.to ?? "?") confirmed \(entry?.at ?? "?") by \(entry?.operatorName ?? "?"): started, never finished (acknowledge with --acknowledge \(attempt.id))"
        ]
        for step in attempt.stepEntries {
            lines.append("    \(step.type) \(step.step?.name ?? "") \(step.step?.outcome?.rawValue ?? "")")
        }
        return lines
    }
}

/// The audit log as a table, from a history already read.
public enum AuditText {
    public static func render(_ history: AuditHistory, path: String) -> String {
        var text = ""
        var stream = AuditTextStream(path: path) { text += $0 }
        for attempt in history.attempts {
            for entry in [attempt.confirmed].compactMap({ $0 }) + attempt.stepEntries
                + [attempt.acknowledgement, attempt.finished].compactMap({ $0 })
            {
                stream.add(entry)
            }
        }
        stream.finish()
        if !history.unreadableLines.isEmpty {
            text += "unreadable lines: \(history.unreadableLines.map(String.init).joined(separator: ", "))\n"
        }
        return text
    }
}

/// The lines of a file, read in chunks: memory holds one chunk and one line, whatever the size.
enum LineReader {
    /// Calls `body` with each line (without its newline; a last line without one included).
    /// Throws when the file cannot be opened or read.
    static func forEachLine(in path: String, chunkSize: Int = 64 * 1024, _ body: (ArraySlice<UInt8>) -> Void) throws {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AuditLogError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw AuditLogError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            var start = 0
            while let newline = chunk[start..<count].firstIndex(of: UInt8(ascii: "\n")) {
                if pending.isEmpty {
                    body(chunk[start..<newline])
                } else {
                    pending += chunk[start..<newline]
                    body(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            pending += chunk[start..<count]
        }
        if !pending.isEmpty { body(pending[...]) }
    }

    /// Copies the file to standard output in chunks.
    static func copy(_ path: String, to output: (String) -> Void) throws {
        var text = ""
        try forEachLine(in: path) { line in
            text += String(decoding: line, as: UTF8.self) + "\n"
            if text.utf8.count >= 64 * 1024 {
                output(text)
                text = ""
            }
        }
        output(text)
    }
}
