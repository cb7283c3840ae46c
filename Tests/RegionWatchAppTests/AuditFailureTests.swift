import Foundation
import Testing
import RegionWatchCore
@testable import RegionWatchApp
@testable import RegionWatchFailover
#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted for a test (root only, as in CI); unmounted when released.
final class SmallFilesystem {
    let path: String

    /// `nil` when this user cannot mount one: not root (a developer's machine; said on the
    /// output, not a failure) or a mount that fails as root (recorded as a failure: CI runs as
    /// root and must test the full-disk paths).
    init?(kilobytes: Int) {
        path = scratch("tmpfs")
        guard getuid() == 0 else {
            // CI (REGIONWATCH_REQUIRE_ALL=1) must test the full-disk paths: there it fails.
            if ProcessInfo.processInfo.environment["REGIONWATCH_REQUIRE_ALL"] == "1" {
                Issue.record(
                    "mounting a tmpfs for the full-disk test needs root, and REGIONWATCH_REQUIRE_ALL=1 forbids skipping it"
                )
            } else {
                print("skipped: mounting a tmpfs for the full-disk test needs root (CI runs as root)")
            }
            return nil
        }
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(kilobytes)k") == 0 else {
            Issue.record("cannot mount a tmpfs as root: \(String(cString: strerror(errno)))")
            return nil
        }
    }

    deinit { umount2(path, Int32(MNT_DETACH)) }

    /// Fills every free byte with a file of zeros.
    func fill() {
        let descriptor = open(path + "/filler", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }
}

@Suite("Audit write failures are loud and final", .serialized)
struct AuditFailureTests {
    static let fence = FailoverPlanStep(name: "fence", action: .simulated(.fence), timeoutSeconds: 2)
    static let promote = FailoverPlanStep(name: "promote", action: .simulated(.promote), timeoutSeconds: 2)

    static func coordinator(world: FailoverWorld, auditPath: String, plan: [FailoverPlanStep]) -> FailoverCoordinator {
        FailoverCoordinator(
            settings: FailoverSettings(plan: plan), audit: AuditLog(path: auditPath),
            lock: FileFailoverLock(auditLogPath: scratch("audit-lock") + "/audit.jsonl"),
            runner: StepRunner(world: world),
            clock: SystemWallClock(), operatorName: "tester@host", rtoObjectiveSeconds: 300
        )
    }

    @Test func anAuditLogThatCannotBeWrittenStopsBeforeAnythingRunsAndSaysWhy() async throws {
        let world = FixedWorld(demoState(seconds: 45))
        let coordinator = Self.coordinator(world: world, auditPath: "/dev/full", plan: [Self.fence, Self.promote])
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        let confirmed = await coordinator.confirm(typedTarget: "eu-west-1", reason: "down")
        await coordinator.waitUntilFinished()
        #expect(confirmed.machine.state == .failed)
        #expect(
            confirmed.problem == "audit log: cannot write /dev/full: No space left on device; stopping",
            "\(String(describing: confirmed.problem))")
        #expect(world.changes.withLock { $0 }.isEmpty, "nothing runs unrecorded")
    }

    @Test func aDiskThatFillsMidRunStopsBeforeTheNextStepAndLeavesNoTornLine() async throws {
        guard let disk = SmallFilesystem(kilobytes: 64) else { return }
        let fill = FailoverPlanStep(
            name: "fill the disk",
            action: .exec(program: "/bin/sh", arguments: ["-c", "cat /dev/zero > \(disk.path)/filler; true"]),
            timeoutSeconds: 10)
        let world = FixedWorld(demoState(seconds: 45))
        let coordinator = Self.coordinator(
            world: world, auditPath: disk.path + "/audit.jsonl", plan: [Self.fence, fill, Self.promote])
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "down")
        await coordinator.waitUntilFinished()
        let stopped = await coordinator.snapshot
        #expect(stopped.machine.state == .failed, "not left 'executing step 3 of 3'")
        #expect(
            stopped.problem?.hasPrefix("audit log: cannot write \(disk.path)/audit.jsonl: ") == true,
            "\(String(describing: stopped.problem))")
        #expect(world.changes.withLock { $0 } == ["fence us-east-1->eu-west-1"], "the promotion never ran")
        #expect((stopped.machine.attempt?.measuredRTO(at: SystemWallClock().now()) ?? -1) >= 0)
        let text = try String(contentsOfFile: disk.path + "/audit.jsonl", encoding: .utf8)
        #expect(text.hasSuffix("\n"), "no torn last line")
        #expect(AuditLog.parse(Data(text.utf8)).unreadableLines.isEmpty)
    }

    @Test func aShortWriteIsCutBackToTheLastWholeLine() throws {
        guard let disk = SmallFilesystem(kilobytes: 64) else { return }
        let log = AuditLog(path: disk.path + "/audit.jsonl")
        try log.append(
            AuditEntry(acknowledging: "a1", at: Timestamp(secondsSinceEpoch: 0), operatorName: "tester@host"))
        let before = try Data(contentsOf: URL(fileURLWithPath: log.path))
        disk.fill()
        // Larger than the slack in the log's last page: part of it fits, the rest does not.
        let large = AuditEntry(
            acknowledging: "a2", at: Timestamp(secondsSinceEpoch: 1), operatorName: String(repeating: "x", count: 8000))
        #expect { try log.append(large) } throws: { error in
            "\(error)".hasPrefix("cannot write \(log.path): only ")
                && "\(error)".hasSuffix("bytes written (disk full?)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: log.path)) == before, "cut back to the last whole line")
    }

    @Test func aLockThatCannotBeTakenIsSaidAsSuchNotAsAnotherHolder() async throws {
        let directory = scratch("lock-problem")
        // A directory where the lock file should be: it cannot be opened for writing.
        try FileManager.default.createDirectory(
            atPath: directory + "/audit.jsonl.lock", withIntermediateDirectories: true)
        let coordinator = FailoverCoordinator(
            settings: FailoverSettings(plan: [Self.fence]), audit: AuditLog(path: directory + "/audit.jsonl"),
            lock: FileFailoverLock(auditLogPath: directory + "/audit.jsonl"),
            runner: StepRunner(world: FixedWorld(demoState(seconds: 45))),
            clock: SystemWallClock(), operatorName: "tester@host", rtoObjectiveSeconds: 300
        )
        let begun = await coordinator.begin(kind: .failover, to: "eu-west-1")
        let lock = begun.machine.attempt?.gates.first { $0.gate == .lock }
        #expect(lock?.passed == false)
        #expect(
            lock?.measured == "the lock cannot be taken: cannot open \(directory)/audit.jsonl.lock: Is a directory",
            "\(String(describing: lock))")
    }

    /// 100,000 interrupted attempts in the log (each read once, not per frame): what the
    /// dashboard keeps and draws every frame stays small.
    @Test func manyInterruptedAttemptsKeepTheSummaryAndTheFrameSmall() {
        var history = AuditHistory()
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        for index in 0..<100_000 {
            var attempt = FailoverAttempt(
                request: FailoverRequest(
                    id: "i\(index)", kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "op@host",
                    steps: []), requestedAt: t0)
            attempt.confirmedAt = t0
            history.attempts.append(
                AuditedAttempt(
                    id: "i\(index)",
                    confirmed: AuditEntry(
                        .confirmed(attempt), at: t0.adding(seconds: Double(index)), rtoObjectiveSeconds: 300)))
        }
        let summary = FailoverHistoryReader.summary(history, path: "/tmp/audit.jsonl")
        #expect(summary.interrupted.count == FailoverHistorySummary.interruptedLimit)
        #expect(summary.interruptedCount == 100_000)
        #expect(summary.interrupted.last?.id == "i99999", "the newest are kept")
    }

    @Test func theLogIsReadIncrementallyAndAlwaysAsAWholeReadWouldSayIt() throws {
        let directory = scratch("incremental")
        let log = AuditLog(path: directory + "/audit.jsonl")
        #expect(log.read() == AuditHistory(), "no file: empty")
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        for index in 0..<1000 {
            try log.append(AuditEntry(acknowledging: "a\(index)", at: t0, operatorName: "op@host"))
        }
        let first = log.read()
        #expect(first.attempts.count == 1000)
        let parsed = log.parsedLines
        try log.append(AuditEntry(acknowledging: "b", at: t0, operatorName: "op@host"))
        let second = log.read()
        #expect(log.parsedLines == parsed + 1, "only the appended line is parsed")
        #expect(second == AuditLog.parse(try Data(contentsOf: URL(fileURLWithPath: log.path))))
        // A torn last line (a crash mid-write) is unreadable now, and whole once completed.
        let handle = try #require(FileHandle(forWritingAtPath: log.path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"type":"acknowledged","id":"c""#.utf8))
        let torn = log.read()
        #expect(torn.unreadableLines == [1002])
        #expect(torn == AuditLog.parse(try Data(contentsOf: URL(fileURLWithPath: log.path))))
        handle.write(Data(#","at":"x","atEpochSeconds":0}"#.utf8 + [UInt8(ascii: "\n")]))
        try handle.close()
        #expect(log.read().attempts.last?.id == "c")
        #expect(log.read().unreadableLines.isEmpty)
        // Replaced by another file (a restore, a rotation): read again from the start.
        try FileManager.default.removeItem(atPath: log.path)
        try log.append(AuditEntry(acknowledging: "fresh", at: t0, operatorName: "op@host"))
        #expect(log.read().attempts.map(\.id) == ["fresh"])
    }
}
