import Foundation
import Testing
import RegionWatchCore
@testable import RegionWatchApp
@testable import RegionWatchFailover

/// `regionwatch audit` writes the table as it reads the log: memory holds only open attempts.
@Suite("The audit table streams")
struct AuditStreamTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    static func attempt(_ id: String, continuation: FailoverContinuation? = nil) -> FailoverAttempt {
        var request = FailoverRequest(
            id: id, kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "op@host", steps: [])
        request.continuation = continuation
        var attempt = FailoverAttempt(request: request, requestedAt: t0)
        attempt.confirmedAt = t0
        return attempt
    }

    /// A log: finished attempts, an interrupted one, an acknowledged one, one resumed later.
    static func log(finished: Int) throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for index in 0..<finished {
            let attempt = attempt("f\(index)")
            entries.append(
                AuditEntry(.confirmed(attempt), at: t0.adding(seconds: Double(index)), rtoObjectiveSeconds: 300))
            entries.append(
                AuditEntry(
                    .finished(attempt, state: .completed), at: t0.adding(seconds: Double(index) + 0.5),
                    rtoObjectiveSeconds: 300))
        }
        entries.append(AuditEntry(.confirmed(attempt("crashed")), at: t0, rtoObjectiveSeconds: 300))
        entries.append(AuditEntry(.confirmed(attempt("seen")), at: t0, rtoObjectiveSeconds: 300))
        entries.append(AuditEntry(acknowledging: "seen", at: t0.adding(seconds: 60), operatorName: "bob@ops2"))
        entries.append(AuditEntry(.confirmed(attempt("halted")), at: t0, rtoObjectiveSeconds: 300))
        let resume = attempt("resume", continuation: .resumes("halted"))
        entries.append(AuditEntry(.confirmed(resume), at: t0.adding(seconds: 90), rtoObjectiveSeconds: 300))
        entries.append(
            AuditEntry(.finished(resume, state: .completed), at: t0.adding(seconds: 95), rtoObjectiveSeconds: 300))
        return entries
    }

    static func jsonLines(_ entries: [AuditEntry]) throws -> String {
        try entries.map { String(decoding: try AuditLog.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
    }

    @Test func theStreamSaysWhatTheWholeHistorySays() throws {
        let text = try Self.jsonLines(Self.log(finished: 50))
        var streamed = ""
        var stream = AuditTextStream(path: "audit.jsonl") { streamed += $0 }
        for line in Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            stream.add(line: line)
        }
        stream.finish()
        // The independent reading: the whole history, parsed and grouped by AuditLog.
        let history = AuditLog.parse(Data(text.utf8))
        let interruptedIDs = history.interrupted.map(\.id)
        #expect(interruptedIDs == ["crashed"])
        for id in interruptedIDs { #expect(streamed.contains("(acknowledge with --acknowledge \(id))")) }
        #expect(streamed.components(separatedBy: "--acknowledge ").count - 1 == interruptedIDs.count)
        let finished = history.attempts.filter { $0.finished != nil }
        #expect(streamed.split(separator: "\n").filter { $0.contains(" COMPLETED ") }.count == finished.count)
        let acknowledged = history.attempts.filter { $0.finished == nil && $0.isAcknowledged }
        #expect(streamed.components(separatedBy: "— acknowledged by").count - 1 == acknowledged.count)
        #expect(streamed.components(separatedBy: "COMPLETED").count - 1 == 51)
        #expect(
            streamed.contains("INTERRUPTED failover us-east-1 → eu-west-1 confirmed")
                && streamed.contains("--acknowledge crashed"))
        #expect(!streamed.contains("--acknowledge halted"), "a resumed attempt is not interrupted")
        #expect(streamed.contains("acknowledged by bob@ops2"))
        #expect(
            streamed.hasSuffix("(acknowledge with --acknowledge crashed)\n"),
            "the interrupted attempts come last, where the eye ends")
    }

    @Test func openAttemptsAndUnreadableLinesAreBounded() {
        var written = 0
        var last = ""
        var stream = AuditTextStream(path: "audit.jsonl") { text in
            written += 1
            last = text
        }
        for index in 0..<(AuditTextStream.openAttemptLimit + 500) {
            stream.add(
                AuditEntry(
                    .confirmed(Self.attempt("i\(index)")), at: Self.t0.adding(seconds: Double(index)),
                    rtoObjectiveSeconds: 300))
        }
        for _ in 0..<100 { stream.add(line: Array("{not json".utf8)) }
        stream.finish()
        #expect(
            written == 1 + AuditTextStream.openAttemptLimit + 2,
            "title, the newest open attempts, the count, the unreadable lines")
        #expect(
            last
                == "unreadable lines: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 and 80 more\n"
        )
    }

    @Test func anEmptyLogSaysSo() {
        var text = ""
        var stream = AuditTextStream(path: "audit.jsonl") { text += $0 }
        stream.finish()
        #expect(text == "AUDIT LOG audit.jsonl\nno failover, drill or refusal recorded\n")
    }

    @Test(arguments: [1, 2, 7, 64, 65_536])
    func linesAreReadWholeAcrossChunkBoundaries(chunkSize: Int) throws {
        let path = scratch("lines") + "/log"
        let content = "first line\n\nthird, a longer line that spans chunks\nlast without newline"
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        var lines: [String] = []
        try LineReader.forEachLine(in: path, chunkSize: chunkSize) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["first line", "", "third, a longer line that spans chunks", "last without newline"])
        #expect(throws: AuditLogError.self) { try LineReader.forEachLine(in: path + "-missing") { _ in } }
    }
}
