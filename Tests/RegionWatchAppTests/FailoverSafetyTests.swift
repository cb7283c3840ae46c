import Foundation
import Synchronization
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp
@testable import RegionWatchFailover

/// `coordinator(world:directory:plan:readOnly:clock:)`, callable where a local is named so.
func makeCoordinator(
    world: FailoverWorld, directory: String, plan: [FailoverPlanStep], clock: WallClock = SystemWallClock()
) -> FailoverCoordinator {
    coordinator(world: world, directory: directory, plan: plan, clock: clock)
}

/// The demo with replication into eu-west-1 delayed past the 30 s RPO.
func laggingDemoState() -> DashboardState {
    DemoSimulation.replay(
        start: Timestamp(secondsSinceEpoch: 1_800_000_000), seconds: 45,
        commands: [2: .injectLag(region: "eu-west-1", seconds: 90)])
}

/// A world whose state turns to `after` when the first simulated change is made: what the
/// gates see changes between steps.
final class ChangingWorld: FailoverWorld {
    let state: Mutex<DashboardState>
    let after: DashboardState
    let changes = Mutex<[String]>([])

    init(before: DashboardState, after: DashboardState) {
        state = Mutex(before)
        self.after = after
    }

    func currentState() -> DashboardState { state.withLock { $0 } }

    func simulate(_ change: SimulatedFailoverChange, from: String, to: String) -> Bool {
        changes.withLock { $0.append("\(change.rawValue) \(from)->\(to)") }
        state.withLock { $0 = after }
        return true
    }

    func rehearse(_ change: SimulatedFailoverChange, from: String, to: String) -> String? { "would \(change.rawValue)" }
}

@Suite("Failover safety: targets, cool-down, gates that stay true, the record", .serialized)
struct FailoverSafetyTests {
    static let fence = FailoverPlanStep(name: "fence", action: .simulated(.fence), timeoutSeconds: 2)
    static let promote = FailoverPlanStep(name: "promote", action: .simulated(.promote), timeoutSeconds: 2)

    func records(in directory: String) -> [AuditEntry] {
        let data = FileManager.default.contents(atPath: directory + "/audit.jsonl") ?? Data()
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONDecoder().decode(AuditEntry.self, from: Data($0))
        }
    }

    @Test func impossibleTargetsStartNothingLockNothingAndRecordNothing() async throws {
        let directory = scratch("targets")
        let world = FixedWorld(demoState())
        let coordinator = makeCoordinator(world: world, directory: directory, plan: [Self.fence, Self.promote])
        for target in ["mars-1", "us-east-1"] {
            let forced: [FailoverGateKind: String] = [
                .targetHealthy: "x", .lagWithinRPO: "x", .coolDown: "x", .lock: "x",
            ]
            let snapshot = await coordinator.begin(kind: .failover, to: target, forcedGates: forced)
            #expect(snapshot.machine.state == .steady, "\(target)")
            #expect(snapshot.machine.attempt == nil)
            #expect(snapshot.targetProblem?.validTargets == ["eu-west-1", "ap-southeast-1"])
        }
        #expect(
            await coordinator.begin(kind: .failover, to: "mars-1").targetProblem?.description
                == "mars-1 is not a configured region")
        #expect(
            await coordinator.begin(kind: .switchover, to: "us-east-1").targetProblem?.description
                == "us-east-1 is the current primary")
        #expect(world.changes.withLock { $0 }.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory + "/audit.jsonl"))
        // Nothing held the lock: another operator can start at once.
        let other = makeCoordinator(world: world, directory: directory, plan: [Self.fence])
        #expect(await other.begin(kind: .failover, to: "eu-west-1").machine.state == .awaitingConfirmation)
        await other.abort()
    }

    @Test func fencedAndUnknownRegionsAreNoTargets() {
        var state = demoState()
        state.apply(
            .server(
                ServerSample(
                    region: "eu-west-1", source: "pg-eu", observedAt: state.now,
                    facts: ServerFacts(role: .fenced, timeline: 1, walPosition: WALPosition(offset: 1)))))
        #expect(
            FailoverGates.targetProblem(kind: .failover, target: "eu-west-1", in: state)?.description
                == "eu-west-1 is fenced (a former primary that refuses writes), not a standby")
        #expect(FailoverGates.targetProblem(kind: .failover, target: "ap-southeast-1", in: state) == nil)
        #expect(
            FailoverGates.targetProblem(kind: .failback, target: "ap-southeast-1", in: state)?.description
                == "a failback returns the role to the configured primary us-east-1, not ap-southeast-1")
    }

    @Test func coolDownCountsFromTheLastCompletedOneWhateverCameAfter() async throws {
        let directory = scratch("cooldown")
        let world = FixedWorld(demoState())
        let clock = ManualWallClock(world.currentState().now.adding(seconds: -120))
        let coordinator = makeCoordinator(world: world, directory: directory, plan: [Self.fence], clock: clock)
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "first")
        await coordinator.waitUntilFinished()
        #expect(await coordinator.snapshot.machine.state == .completed)
        // Refused, aborted and previewed attempts come after it: none resets the cool-down.
        clock.advance(by: 30)
        #expect(await coordinator.begin(kind: .failover, to: "ap-southeast-1").machine.state == .refused)
        #expect(
            await coordinator.begin(kind: .failover, to: "ap-southeast-1", forcedGates: [.coolDown: "testing"]).machine
                .state == .awaitingConfirmation)
        await coordinator.abort()
        _ = await coordinator.preview(kind: .failover, to: "ap-southeast-1")
        let again = await coordinator.begin(kind: .failover, to: "ap-southeast-1")
        #expect(again.machine.state == .refused)
        let gate = try #require(again.machine.attempt?.gates.first { $0.gate == .coolDown })
        #expect(!gate.passed)
        #expect(
            gate.measured == "eu-west-1 ← us-east-1 failover completed 2m ago by tester@host, cool-down 10m",
            "\(gate.measured)")
        // A forced cool-down keeps its reason in the record.
        _ = await coordinator.begin(
            kind: .failover, to: "ap-southeast-1", forcedGates: [.coolDown: "second region failing"])
        _ = await coordinator.confirm(typedTarget: "ap-southeast-1", reason: "second")
        await coordinator.waitUntilFinished()
        let last = try #require(records(in: directory).last)
        #expect(last.state == "completed")
        #expect(last.gates?.first { $0.gate == .coolDown }?.forcedReason == "second region failing")
    }

    @Test func aGateThatTurnsRedWhileConfirmingRefusesAtConfirmation() async throws {
        let directory = scratch("confirm-red")
        let world = FixedWorld(demoState(seconds: 45))
        let coordinator = makeCoordinator(world: world, directory: directory, plan: [Self.fence, Self.promote])
        let begun = await coordinator.begin(kind: .failover, to: "eu-west-1")
        #expect(begun.machine.state == .awaitingConfirmation)
        world.state.withLock { $0 = laggingDemoState() }
        // The dialog shows what confirming would use.
        await coordinator.recheck()
        let shown = await coordinator.snapshot.machine.attempt?.gates.first { $0.gate == .lagWithinRPO }
        #expect(shown?.passed == false, "\(String(describing: shown))")
        let confirmed = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        #expect(confirmed.machine.state == .refused)
        #expect(world.changes.withLock { $0 }.isEmpty, "nothing ran")
        let finished = try #require(records(in: directory).last)
        #expect(finished.state == "refused")
        #expect(finished.gates?.first { $0.gate == .lagWithinRPO }?.measured.hasPrefix("data loss ") == true)
    }

    @Test func aGateThatTurnsRedBetweenStepsStopsThePlanBeforeTheSideEffect() async throws {
        let directory = scratch("step-red")
        let world = ChangingWorld(before: demoState(seconds: 45), after: laggingDemoState())
        let marker = directory + "/promoted"
        let plan = [
            Self.fence,
            FailoverPlanStep(
                name: "promote for real", action: .exec(program: "/usr/bin/touch", arguments: [marker]),
                timeoutSeconds: 5),
        ]
        let coordinator = makeCoordinator(world: world, directory: directory, plan: plan)
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        await coordinator.waitUntilFinished()
        let final = await coordinator.snapshot
        #expect(final.machine.state == .failed)
        #expect(final.machine.attempt?.steps.map(\.outcome) == [.succeeded, .blocked])
        #expect(
            final.machine.attempt?.steps.last?.output.hasPrefix("stopped before this step: lag-within-rpo: data loss")
                == true)
        #expect(!FileManager.default.fileExists(atPath: marker), "the side effect never ran")
        let entries = records(in: directory)
        let recheck = try #require(entries.last { $0.type == "gates-rechecked" })
        #expect(recheck.stepIndex == 1)
        #expect(recheck.gates?.first { $0.gate == .lagWithinRPO }?.passed == false)
        #expect(entries.last?.dataLoss == nil, "nothing was promoted: nothing lost")

        // Forced up front, the same plan runs to the end, and the force is in every re-check.
        let forcedWorld = ChangingWorld(before: demoState(seconds: 45), after: laggingDemoState())
        let forced = makeCoordinator(world: forcedWorld, directory: scratch("step-forced"), plan: plan)
        _ = await forced.begin(kind: .failover, to: "eu-west-1", forcedGates: [.lagWithinRPO: "accept the loss"])
        _ = await forced.confirm(typedTarget: "eu-west-1", reason: "go")
        await forced.waitUntilFinished()
        #expect(await forced.snapshot.machine.state == .completed)
        #expect(FileManager.default.fileExists(atPath: marker))
    }

    @Test func theRecordHoldsTheLossMeasuredAtPromotionAndNoneWithoutOne() async throws {
        let directory = scratch("loss")
        let world = FixedWorld(demoState(seconds: 45))
        let coordinator = makeCoordinator(world: world, directory: directory, plan: [Self.fence, Self.promote])
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        await coordinator.waitUntilFinished()
        let entries = records(in: directory)
        let atPromotion = try #require(entries.last { $0.type == "gates-rechecked" && $0.stepIndex == 1 })
        #expect(entries.last?.dataLoss == atPromotion.dataLoss)
        #expect(entries.first { $0.type == "confirmed" }?.dataLoss == nil, "an estimate is not a loss")
        #expect(entries.first { $0.type == "confirmed" }?.estimatedDataLoss != nil)

        // Aborted before the promotion: no loss recorded.
        let aborted = makeCoordinator(
            world: FixedWorld(demoState(seconds: 45)), directory: scratch("loss-abort"),
            plan: [Self.fence, Self.promote])
        _ = await aborted.begin(kind: .failover, to: "eu-west-1")
        _ = await aborted.confirm(typedTarget: "eu-west-1", reason: "go")
        await aborted.abort()
        await aborted.waitUntilFinished()
        let snapshot = await aborted.snapshot
        #expect(snapshot.machine.state == .aborted)
        #expect(snapshot.machine.attempt?.recordedDataLoss == nil)
        #expect(
            FailoverText.summary(try #require(snapshot.machine.attempt), state: .aborted, rtoObjective: 300).contains(
                "data loss none (nothing promoted)"))
    }

    @Test func aDryRunPreviewsWithoutRecordingOrHoldingTheLock() async throws {
        let directory = scratch("preview")
        let world = FixedWorld(demoState())
        let coordinator = makeCoordinator(world: world, directory: directory, plan: [Self.fence, Self.promote])
        let preview = try await coordinator.preview(kind: .switchover, to: "eu-west-1").get()
        #expect(preview.isAllowed)
        #expect(preview.candidates.map(\.region) == ["eu-west-1", "ap-southeast-1"])
        let text = FailoverText.preview(preview)
        #expect(text.hasSuffix("dry run: nothing executed\n"))
        #expect(text.contains("PLAN\n  1. fence [simulated"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/audit.jsonl"))
        #expect(await coordinator.snapshot.machine.state == .steady)
        let other = FailoverSafetyTests.otherCoordinator(world: world, directory: directory)
        #expect(
            await other.begin(kind: .switchover, to: "eu-west-1").machine.state == .awaitingConfirmation,
            "the lock is free")
        await other.abort()
        if case .failure(let problem) = await coordinator.preview(kind: .switchover, to: "mars-1") {
            #expect(
                FailoverText.targetProblem(problem)
                    == "mars-1 is not a configured region; valid targets now: eu-west-1, ap-southeast-1")
        } else {
            Issue.record("mars-1 previewed")
        }
    }

    static func otherCoordinator(world: FailoverWorld, directory: String) -> FailoverCoordinator {
        makeCoordinator(world: world, directory: directory, plan: [fence])
    }

    @Test func aDrillRehearsesOnACopyAndChangesNothing() async throws {
        let directory = scratch("drill-copy")
        let world = FixedWorld(demoState())
        let coordinator = makeCoordinator(world: world, directory: directory, plan: FailoverSettings.demoPlan)
        let begun = await coordinator.begin(kind: .drill, to: "eu-west-1")
        #expect(
            begun.machine.attempt?.request.steps.map(\.name) == [
                "fence the old primary", "promote the target", "shift traffic",
            ], "verifying a promotion is no drill step")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "quarterly")
        await coordinator.waitUntilFinished()
        #expect(await coordinator.snapshot.machine.state == .completed)
        #expect(world.changes.withLock { $0 }.isEmpty, "nothing real changed")
        #expect(
            await coordinator.snapshot.machine.attempt?.steps.allSatisfy { $0.output.hasPrefix("rehearsed on a copy") }
                == true)
    }

    @Test func anUnreachableOldPrimaryIsAWarningNotAFence() async throws {
        let (outcome, output) = await PostgresSteps.fence(
            dsn: "postgres://nobody@127.0.0.1:\(Self.closedPort())/postgres", timeout: 2)
        #expect(outcome == .warning)
        #expect(output.hasPrefix("not fenced: unreachable ("), "\(output)")
    }

    /// A loopback port nothing listens on.
    static func closedPort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func anAcknowledgedInterruptionStaysListedWithWhoAndWhen() throws {
        let directory = scratch("ack")
        let log = AuditLog(path: directory + "/audit.jsonl")
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var attempt = FailoverAttempt(
            request: FailoverRequest(
                id: "a1", kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "alice@ops1",
                steps: [Self.fence]), requestedAt: t0)
        attempt.reason = "region down"
        attempt.confirmedAt = t0
        try log.append(AuditEntry(.confirmed(attempt), at: t0, rtoObjectiveSeconds: 300))
        try log.append(AuditEntry(acknowledging: "a1", at: t0.adding(seconds: 600), operatorName: "bob@ops2"))
        let history = log.read()
        #expect(history.interrupted.isEmpty)
        let summary = FailoverHistoryReader.summary(history, path: log.path)
        #expect(summary.recent.map(\.state) == ["interrupted"])
        #expect(summary.recent.first?.acknowledged == "acknowledged by bob@ops2 at \(t0.adding(seconds: 600).iso8601)")
        let text = AuditText.render(history, path: log.path)
        #expect(
            text.contains(
                "INTERRUPTED failover us-east-1 → eu-west-1  by alice@ops1: region down — acknowledged by bob@ops2"),
            "\(text)")
    }

    // MARK: Abort, resume, roll back

    /// An attempt aborted right after its first step (the fence) ran.
    func abortedAfterFence(
        world: FailoverWorld, directory: String, plan: [FailoverPlanStep]
    ) async -> FailoverCoordinator {
        let coordinator = makeCoordinator(world: world, directory: directory, plan: plan)
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        // Esc once the fence runs: it finishes, nothing after it starts.
        _ = await eventually { await coordinator.snapshot.machine.attempt?.steps.first?.startedAt != nil }
        await coordinator.abort()
        await coordinator.waitUntilFinished()
        return coordinator
    }

    static let shift = FailoverPlanStep(name: "shift", action: .simulated(.shiftTraffic), timeoutSeconds: 2)

    @Test func anAbortAfterTheFenceStaysUnresolvedAndResumesWithoutFencingTwice() async throws {
        let directory = scratch("resume")
        let world = FixedWorld(demoState(seconds: 45))
        let first = await abortedAfterFence(
            world: world, directory: directory, plan: [Self.fence, Self.promote, Self.shift])
        let stopped = await first.snapshot.machine
        #expect(stopped.state == .aborted)
        #expect(stopped.unresolved?.steps.map(\.outcome) == [.succeeded, .skipped, .skipped])
        #expect(world.changes.withLock { $0 } == ["fence us-east-1->eu-west-1"])
        // Acknowledging the dialog does not forget it.
        await first.acknowledge()
        #expect(await first.snapshot.machine.unresolved != nil)
        // Another operator's regionwatch (or this one after a restart) finds it in the log.
        let restarted = makeCoordinator(
            world: world, directory: directory, plan: [Self.fence, Self.promote, Self.shift])
        #expect(await restarted.snapshot.machine.unresolved?.request.id == stopped.attempt?.request.id)
        let resumed = await restarted.resume()
        #expect(resumed.machine.state == .awaitingConfirmation)
        #expect(resumed.machine.attempt?.request.continuation == .resumes(try #require(stopped.attempt?.request.id)))
        _ = await restarted.confirm(typedTarget: "eu-west-1", reason: "finish it")
        await restarted.waitUntilFinished()
        let done = await restarted.snapshot.machine
        #expect(done.state == .completed)
        #expect(done.unresolved == nil)
        #expect(
            world.changes.withLock { $0 } == [
                "fence us-east-1->eu-west-1", "promote us-east-1->eu-west-1", "shift-traffic us-east-1->eu-west-1",
            ], "the fence ran once")
        let finished = records(in: directory).filter { $0.type == "finished" }
        #expect(finished.map(\.state) == ["aborted", "completed"], "one finish record per attempt")
        #expect(finished.last?.resumes == stopped.attempt?.request.id)
        #expect(
            UnresolvedAttempts.find(
                in: AuditLog(path: directory + "/audit.jsonl").read(),
                settings: FailoverSettings(plan: [Self.fence, Self.promote, Self.shift])) == nil)
    }

    @Test func aRefusedResumeForcedStaysAResumeAndKeepsWhatWasForced() async throws {
        let directory = scratch("resume-forced")
        let world = FixedWorld(demoState(seconds: 45))
        let plan = [Self.fence, Self.promote, Self.shift]
        let first = await abortedAfterFence(world: world, directory: directory, plan: plan)
        let stopped = try #require(await first.snapshot.machine.attempt?.request.id)
        await first.acknowledge()
        // Meanwhile replication into the target fell behind the RPO: resuming is refused.
        world.state.withLock { $0 = laggingDemoState() }
        let refused = await first.resume()
        #expect(refused.machine.state == .refused)
        #expect(refused.machine.attempt?.gates.first { $0.gate == .lagWithinRPO }?.passed == false)
        await first.acknowledge()
        // Forcing the refusal retries the resume (the fence is not run again), not a fresh move.
        let forced = await first.resume(forcedGates: [.lagWithinRPO: "accept the loss"])
        #expect(forced.machine.state == .awaitingConfirmation)
        #expect(forced.machine.attempt?.request.continuation == .resumes(stopped))
        #expect(forced.machine.attempt?.request.forcedGates == [.lagWithinRPO: "accept the loss"])
        #expect(forced.machine.attempt?.gates.first { $0.gate == .lagWithinRPO }?.forcedReason == "accept the loss")
        _ = await first.confirm(typedTarget: "eu-west-1", reason: "finish it")
        await first.waitUntilFinished()
        #expect(await first.snapshot.machine.state == .completed)
        #expect(
            world.changes.withLock { $0 } == [
                "fence us-east-1->eu-west-1", "promote us-east-1->eu-west-1", "shift-traffic us-east-1->eu-west-1",
            ], "the fence ran once")
    }

    @Test func aRollBackUndoesTheCompletedStepsNewestFirst() async throws {
        let directory = scratch("rollback")
        let world = FixedWorld(demoState(seconds: 45))
        let plan = [Self.fence, Self.shift, Self.promote]
        let coordinator = makeCoordinator(world: world, directory: directory, plan: plan)
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        // Let the fence and the shift run, then abort before the promotion.
        #expect(await eventually { await coordinator.snapshot.machine.attempt?.steps[1].startedAt != nil })
        await coordinator.abort()
        await coordinator.waitUntilFinished()
        #expect(
            await coordinator.snapshot.machine.unresolved?.steps.map(\.outcome) == [.succeeded, .succeeded, .skipped])
        let rollBack = await coordinator.rollBack()
        #expect(rollBack.machine.attempt?.request.steps.map(\.name) == ["undo: shift", "undo: fence"])
        #expect(
            rollBack.machine.attempt?.gates.map(\.gate) == [.targetHealthy, .lock, .readOnly],
            "a roll back restores: the target not promoted, the lock and read-only mode judge it")
        #expect(rollBack.machine.attempt?.gates.first?.measured == "eu-west-1 is a standby: not promoted")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "back out")
        await coordinator.waitUntilFinished()
        #expect(await coordinator.snapshot.machine.state == .completed)
        #expect(await coordinator.snapshot.machine.unresolved == nil)
        #expect(
            world.changes.withLock { $0 }.suffix(2) == [
                "unshift-traffic us-east-1->eu-west-1", "unfence us-east-1->eu-west-1",
            ])
        // A roll back is no move of the primary role: the cool-down does not count from it.
        #expect(AuditLog(path: directory + "/audit.jsonl").read().lastCompleted(kinds: ["failover"]) == nil)
    }

    @Test func nothingPromotedCanBeRolledBackAndNothingUnresolvedCanBeContinued() async throws {
        let directory = scratch("no-rollback")
        let world = FixedWorld(demoState(seconds: 45))
        let coordinator = makeCoordinator(
            world: world, directory: directory,
            plan: [
                Self.promote,
                FailoverPlanStep(name: "fail", action: .exec(program: "/bin/false", arguments: []), timeoutSeconds: 5),
            ])
        #expect(await coordinator.resume().problem == "nothing to resume: no attempt stopped half-way")
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        await coordinator.waitUntilFinished()
        #expect(await coordinator.snapshot.machine.state == .failed)
        #expect(await coordinator.rollBack().problem == "cannot roll back: eu-west-1 was promoted: fail back instead")
    }

    @Test func aResumeAfterThePromotionKeepsTheLossMeasuredAtIt() async throws {
        let directory = scratch("resume-loss")
        let world = FixedWorld(demoState(seconds: 45))
        let marker = directory + "/tried"
        // Fails the first time, succeeds when resumed.
        let announce = FailoverPlanStep(
            name: "announce",
            action: .exec(program: "/bin/sh", arguments: ["-c", "test -f \(marker) || { touch \(marker); exit 1; }"]),
            timeoutSeconds: 5)
        let coordinator = makeCoordinator(world: world, directory: directory, plan: [Self.promote, announce])
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        await coordinator.waitUntilFinished()
        let failed = await coordinator.snapshot.machine
        #expect(failed.state == .failed)
        let measured = try #require(failed.attempt?.recordedDataLoss)
        _ = await coordinator.resume()
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "finish")
        await coordinator.waitUntilFinished()
        #expect(await coordinator.snapshot.machine.state == .completed)
        #expect(records(in: directory).last?.dataLoss == measured, "the loss of the promotion the resume carries")
        // Rebuilt from the log after a restart, too.
        let rebuilt = UnresolvedAttempts.rebuild(
            try #require(AuditLog(path: directory + "/audit.jsonl").read().attempts.first),
            settings: FailoverSettings(plan: [Self.promote, announce]))
        #expect(rebuilt?.recordedDataLoss == measured)
    }

    @Test func aCrashMidPlanIsRebuiltFromTheLogWithTheStepThatNeverFinished() throws {
        let directory = scratch("crash")
        let log = AuditLog(path: directory + "/audit.jsonl")
        let plan = [Self.fence, Self.promote, Self.shift]
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var attempt = FailoverAttempt(
            request: FailoverRequest(
                id: "c1", kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "alice@ops1", steps: plan),
            requestedAt: t0)
        attempt.reason = "down"
        attempt.confirmedAt = t0
        try log.append(AuditEntry(.confirmed(attempt), at: t0, rtoObjectiveSeconds: 300))
        attempt.steps[0] = FailoverStepRecord(
            name: "fence", kind: "simulated", startedAt: t0, endedAt: t0.adding(seconds: 1), outcome: .succeeded)
        try log.append(
            AuditEntry(.stepStarted(id: "c1", index: 0, step: attempt.steps[0]), at: t0, rtoObjectiveSeconds: 300))
        try log.append(
            AuditEntry(
                .stepFinished(id: "c1", index: 0, step: attempt.steps[0]), at: t0.adding(seconds: 1),
                rtoObjectiveSeconds: 300))
        attempt.steps[1].startedAt = t0.adding(seconds: 1)
        try log.append(
            AuditEntry(
                .stepStarted(id: "c1", index: 1, step: attempt.steps[1]), at: t0.adding(seconds: 1),
                rtoObjectiveSeconds: 300))
        // …killed here.
        let rebuilt = try #require(UnresolvedAttempts.find(in: log.read(), settings: FailoverSettings(plan: plan)))
        #expect(rebuilt.steps.map(\.outcome) == [.succeeded, nil, nil])
        #expect(
            rebuilt.stepsDone.map(\.outcome) == [.succeeded, nil, nil],
            "a resume runs the promotion again, never the fence")
        #expect(rebuilt.reason == "down")
        // A changed plan cannot be matched: shown in the log, not resumable.
        #expect(UnresolvedAttempts.find(in: log.read(), settings: FailoverSettings(plan: [Self.promote])) == nil)
    }

    @Test func aCrashDuringAResumeIsRebuiltWithTheStepsItsEarlierAttemptRan() async throws {
        let directory = scratch("crash-resume")
        let plan = [Self.fence, Self.promote, Self.shift]
        let world = FixedWorld(demoState(seconds: 45))
        let first = await abortedAfterFence(world: world, directory: directory, plan: plan)
        let stoppedID = try #require(await first.snapshot.machine.unresolved?.request.id)
        // The resume is confirmed and starts the promotion; then regionwatch is killed.
        let resumed = makeCoordinator(world: world, directory: directory, plan: plan)
        _ = await resumed.resume()
        var attempt = try #require(await resumed.snapshot.machine.attempt)
        attempt.reason = "finish it"
        attempt.confirmedAt = attempt.requestedAt
        let log = AuditLog(path: directory + "/audit.jsonl")
        try log.append(AuditEntry(.confirmed(attempt), at: attempt.requestedAt, rtoObjectiveSeconds: 300))
        attempt.steps[1].startedAt = attempt.requestedAt
        try log.append(
            AuditEntry(
                .stepStarted(id: attempt.request.id, index: 1, step: attempt.steps[1]), at: attempt.requestedAt,
                rtoObjectiveSeconds: 300))
        let rebuilt = try #require(
            UnresolvedAttempts.find(in: log.read(), settings: FailoverSettings(plan: plan)),
            "the interrupted resume is what is half-done now")
        #expect(rebuilt.request.id == attempt.request.id)
        #expect(rebuilt.request.continuation == .resumes(stoppedID))
        #expect(
            rebuilt.steps.map(\.outcome) == [.succeeded, nil, nil],
            "the fence its earlier attempt ran, the promotion it started")
        #expect(
            rebuilt.stepsDone.map(\.outcome) == [.succeeded, nil, nil],
            "resumed again: the promotion runs again, the fence never")
        #expect(rebuilt.mayHavePromoted, "the promotion started: no roll back")
    }

    /// Three programs; undoing the first fails, the last fails forward.
    static let rollBackPlan = [
        FailoverPlanStep(
            name: "a", action: .exec(program: "/bin/true", arguments: []), timeoutSeconds: 5,
            undo: .exec(program: "/bin/false", arguments: [])),
        FailoverPlanStep(
            name: "b", action: .exec(program: "/bin/true", arguments: []), timeoutSeconds: 5,
            undo: .exec(program: "/bin/true", arguments: [])),
        FailoverPlanStep(name: "c", action: .exec(program: "/bin/false", arguments: []), timeoutSeconds: 5),
    ]

    @Test func aRollBackStoppedHalfWayLeavesWhatItDidNotUndo() async throws {
        let directory = scratch("rollback-half")
        let world = FixedWorld(demoState(seconds: 45))
        let coordinator = makeCoordinator(world: world, directory: directory, plan: Self.rollBackPlan)
        _ = await coordinator.begin(kind: .failover, to: "eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "go")
        await coordinator.waitUntilFinished()
        let original = try #require(await coordinator.snapshot.machine.unresolved)
        #expect(original.changedSteps == [0, 1])
        _ = await coordinator.rollBack()
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "back out")
        await coordinator.waitUntilFinished()
        let stopped = await coordinator.snapshot.machine
        #expect(stopped.state == .failed, "undoing a failed")
        let remaining = try #require(stopped.unresolved, "a is still done")
        #expect(remaining.request.id == original.request.id, "still the attempt rolled back, not the roll back")
        #expect(remaining.changedSteps == [0])
        #expect(remaining.steps[1].output.hasPrefix("undone by roll back"))
        // A restart (or another operator) reads the same from the log.
        let fromLog = UnresolvedAttempts.find(
            in: AuditLog(path: directory + "/audit.jsonl").read(), settings: FailoverSettings(plan: Self.rollBackPlan))
        #expect(fromLog?.request.id == original.request.id)
        #expect(fromLog?.changedSteps == [0])
        // Rolled back again: only a's undo runs; it fails again, a stays.
        let again = await coordinator.rollBack()
        #expect(again.machine.attempt?.request.steps.map(\.name) == ["undo: a"])
    }

    @Test func aRollBackKilledHalfWayCountsTheUndoItStartedAsUndone() throws {
        var original = FailoverAttempt(
            request: FailoverRequest(
                id: "o1", kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "alice@ops1",
                steps: Self.rollBackPlan), requestedAt: Timestamp(secondsSinceEpoch: 0))
        original.steps[0].outcome = .succeeded
        original.steps[1].outcome = .succeeded
        original.steps[2].outcome = .failed
        let undo = [
            FailoverStepRecord(name: "undo: b", kind: "exec", startedAt: Timestamp(secondsSinceEpoch: 5)),
            FailoverStepRecord(name: "undo: a", kind: "exec"),
        ]
        let remaining = try #require(original.undoing(undo, by: "r1"))
        #expect(remaining.changedSteps == [0])
        #expect(
            remaining.stepsDone.map(\.outcome) == [.succeeded, nil, nil],
            "a resume runs b again: doing twice is safer than undoing twice")
        let undoneBoth = [
            FailoverStepRecord(name: "undo: b", kind: "exec", outcome: .succeeded),
            FailoverStepRecord(name: "undo: a", kind: "exec", outcome: .warning),
        ]
        #expect(original.undoing(undoneBoth, by: "r1") == nil, "nothing left half-done")
    }

    @Test func aRollBackStepIsReadFromTheConfiguration() throws {
        let text = """
            topology: t
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: aws, role: primary, traffic: 100 }
              - { name: eu-west-1, provider: aws, role: standby, traffic: 0 }
            collectors:
              - kind: simulator
            failover:
              plan:
                - { name: fence, kind: postgres-fence, dsn: "postgres://u@127.0.0.1:5432/p" }
                - name: dns
                  kind: exec
                  command: [/usr/local/bin/dns, --to, "{to}"]
                  undo: { kind: exec, command: [/usr/local/bin/dns, --to, "{from}"] }
            """
        let (configuration, _) = try ConfigurationParser.parse(text, file: "f.yaml")
        let plan = configuration.failover.plan
        #expect(plan[0].undoStep?.action == .postgresUnfence(dsns: ["": "postgres://u@127.0.0.1:5432/p"]))
        #expect(plan[1].undoStep?.action == .exec(program: "/usr/local/bin/dns", arguments: ["--to", "{from}"]))
    }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(within seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let deadline = MonotonicClock.seconds() + seconds
    while MonotonicClock.seconds() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
