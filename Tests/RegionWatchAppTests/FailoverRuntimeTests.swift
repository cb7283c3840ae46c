import Foundation
import Synchronization
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp
@testable import RegionWatchFailover

/// A world with a fixed state and a record of simulated changes.
final class FixedWorld: FailoverWorld {
    let state: Mutex<DashboardState>
    let changes = Mutex<[String]>([])

    init(_ state: DashboardState) { self.state = Mutex(state) }

    func currentState() -> DashboardState { state.withLock { $0 } }

    func simulate(_ change: SimulatedFailoverChange, from: String, to: String) -> Bool {
        changes.withLock { $0.append("\(change.rawValue) \(from)->\(to)") }
        return true
    }

    func rehearse(_ change: SimulatedFailoverChange, from: String, to: String) -> String? {
        "would \(change.rawValue) \(from)->\(to)"
    }
}

/// The demo after a few seconds: us-east-1 primary, standbys caught up within the RPO.
func demoState(seconds: Int = 5) -> DashboardState {
    DemoSimulation.replay(start: Timestamp(secondsSinceEpoch: 1_800_000_000), seconds: seconds)
}

func scratch(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "regionwatch-failover-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func coordinator(
    world: FailoverWorld, directory: String, plan: [FailoverPlanStep], readOnly: Bool = false,
    clock: WallClock = SystemWallClock()
) -> FailoverCoordinator {
    let audit = AuditLog(path: directory + "/audit.jsonl")
    return FailoverCoordinator(
        settings: FailoverSettings(plan: plan, coolDownSeconds: 600, isReadOnly: readOnly), audit: audit,
        lock: FileFailoverLock(auditLogPath: audit.path), runner: StepRunner(world: world), clock: clock,
        operatorName: "tester@host", rtoObjectiveSeconds: 300
    )
}

@Suite("Failover runtime: audit log, lock, steps, coordinator", .serialized)
struct FailoverRuntimeTests {
    /// A script that writes each argument on its own line, then its environment's failover
    /// variables, to the file named by its first argument.
    static func recorder(in directory: String) throws -> String {
        let path = directory + "/record.sh"
        try """
        #!/bin/sh
        out=$1
        shift
        for argument in "$@"; do printf '%s\\n' "$argument" >> "$out"; done
        printf 'env %s %s %s\\n' "$REGIONWATCH_FROM" "$REGIONWATCH_TO" "$REGIONWATCH_REASON" >> "$out"
        echo "recorded $# arguments"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func execPassesArgumentsIntactWithoutAShell() async throws {
        let directory = scratch("exec")
        let script = try Self.recorder(in: directory)
        let out = directory + "/args.txt"
        let context = StepContext(
            kind: .failover, from: "us-east-1", to: "eu-west-1", reason: "it's \"urgent\"; rm -rf /tmp/x $(id)")
        let step = FailoverPlanStep(
            name: "record",
            action: .exec(program: script, arguments: [out, "--to={to}", "two words", "{reason}", "*"]),
            timeoutSeconds: 10)
        let (outcome, output) = await StepRunner(world: FixedWorld(demoState())).run(step, context: context)
        #expect(outcome == .succeeded)
        #expect(output.contains("recorded 4 arguments"))
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "--to=eu-west-1", "two words", "it's \"urgent\"; rm -rf /tmp/x $(id)", "*",
                "env us-east-1 eu-west-1 it's \"urgent\"; rm -rf /tmp/x $(id)",
            ])
    }

    @Test func failingAndHangingProgramsAreReportedWithTheirOutput() async throws {
        let runner = StepRunner(world: FixedWorld(demoState()))
        let context = StepContext(kind: .failover, from: "a", to: "b", reason: "r")
        let (failed, failedOutput) = await runner.run(
            FailoverPlanStep(
                name: "fail",
                action: .exec(program: "/bin/sh", arguments: ["-c", "echo cannot reach dns api >&2; exit 3"]),
                timeoutSeconds: 10), context: context)
        #expect(failed == .failed)
        #expect(failedOutput == "cannot reach dns api\n\n[exit status 3]")
        let started = MonotonicClock.seconds()
        let (hung, hungOutput) = await runner.run(
            FailoverPlanStep(
                name: "hang", action: .exec(program: "/bin/sh", arguments: ["-c", "echo waiting; sleep 30"]),
                timeoutSeconds: 0.5), context: context)
        #expect(hung == .timedOut)
        #expect(hungOutput.hasPrefix("waiting\n"))
        #expect(hungOutput.hasSuffix("[killed after 0.5s]"))
        #expect(MonotonicClock.seconds() - started < 10)
        let (missing, missingOutput) = await runner.run(
            FailoverPlanStep(
                name: "missing", action: .exec(program: "/nonexistent/tool", arguments: []), timeoutSeconds: 1),
            context: context)
        #expect(missing == .failed)
        #expect(missingOutput == "cannot run /nonexistent/tool: No such file or directory")
    }

    @Test func auditLogRecordsEveryTransitionAndDetectsACrash() throws {
        let directory = scratch("audit")
        let log = AuditLog(path: directory + "/audit.jsonl")
        var machine = FailoverMachine()
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let request = FailoverRequest(
            id: "a1", kind: .failover, from: "us-east-1", to: "eu-west-1", operatorName: "tester@host",
            steps: [FailoverPlanStep(name: "promote", action: .simulated(.promote))])
        var records: [FailoverAuditRecord] = []
        func collect(_ actions: [FailoverAction]) { for case .audit(let record) in actions { records.append(record) } }
        collect(machine.handle(.start(request, at: t0)))
        collect(
            machine.handle(
                .gatesEvaluated(
                    [FailoverGateResult(gate: .lagWithinRPO, passed: false, measured: "45s", forcedReason: nil)],
                    dataLoss: DataLossEstimate(known: .exact(45), knownBytes: 9), at: t0)))
        #expect(machine.state == .refused)
        for record in records { try log.append(AuditEntry(record, at: t0, rtoObjectiveSeconds: 300)) }
        var history = log.read()
        #expect(history.attempts.count == 1)
        #expect(history.attempts[0].finished?.state == "refused")
        #expect(history.attempts[0].finished?.gates?.first?.measured == "45s")
        #expect(history.interrupted.isEmpty)

        // A second attempt confirmed, a step started, then the process died mid-write.
        var crashed = FailoverMachine()
        records = []
        let second = FailoverRequest(
            id: "a2", kind: .switchover, from: "us-east-1", to: "eu-west-1", operatorName: "tester@host",
            steps: [FailoverPlanStep(name: "slow", action: .exec(program: "/bin/sleep", arguments: ["60"]))])
        collect(crashed.handle(.start(second, at: t0)))
        collect(crashed.handle(.gatesEvaluated([], dataLoss: .unknown, at: t0)))
        collect(crashed.handle(.confirm(typedTarget: "eu-west-1", reason: "maintenance", at: t0)))
        collect(crashed.handle(.stepStarted(index: 0, at: t0)))
        for record in records { try log.append(AuditEntry(record, at: t0, rtoObjectiveSeconds: 300)) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"type":"step-finished","id":"a2","at":"#.utf8))
        try handle.close()
        history = log.read()
        #expect(history.interrupted.map(\.id) == ["a2"])
        #expect(history.interrupted.first?.confirmed?.reason == "maintenance")
        #expect(history.unreadableLines == [4])
        #expect(AuditText.render(history, path: log.path).contains("INTERRUPTED switchover us-east-1 → eu-west-1"))
        try log.append(AuditEntry(acknowledging: "a2", at: t0, operatorName: "tester@host"))
        #expect(log.read().interrupted.isEmpty)
    }

    @Test func fileLockExcludesASecondHolderAndNamesTheFirst() async {
        let directory = scratch("lock")
        let first = FileFailoverLock(auditLogPath: directory + "/audit.jsonl")
        let second = FileFailoverLock(auditLogPath: directory + "/audit.jsonl")
        #expect(await first.acquire(holder: "alice@ops-1 (pid 1)") == .acquired)
        #expect(await second.acquire(holder: "bob@ops-2") == .heldBy("alice@ops-1 (pid 1)"))
        #expect(
            await second.acquire(holder: "carol@ops-3") == .heldBy("alice@ops-1 (pid 1)"), "still held, still named")
        await first.release()
        #expect(await second.acquire(holder: "bob@ops-2") == .acquired)
        await second.release()
    }

    @Test func coordinatorRunsThePlanAndAuditsEveryStep() async throws {
        let directory = scratch("coordinator")
        let script = try Self.recorder(in: directory)
        let world = FixedWorld(demoState())
        let plan = [
            FailoverPlanStep(name: "fence", action: .simulated(.fence), timeoutSeconds: 2),
            FailoverPlanStep(
                name: "record", action: .exec(program: script, arguments: [directory + "/args.txt", "{from}", "{to}"]),
                timeoutSeconds: 10),
        ]
        let coordinator = coordinator(world: world, directory: directory, plan: plan)
        let begun = await coordinator.begin(kind: .failover, to: "eu-west-1")
        #expect(begun.machine.state == .awaitingConfirmation, "\(String(describing: begun.machine.attempt?.gates))")
        let rejected = await coordinator.confirm(typedTarget: "eu-west", reason: "x")
        #expect(rejected.confirmationProblem == "type the target region's name exactly: eu-west-1")
        _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "region drill")
        await coordinator.waitUntilFinished()
        let final = await coordinator.snapshot
        #expect(final.machine.state == .completed)
        #expect(world.changes.withLock { $0 } == ["fence us-east-1->eu-west-1"])
        #expect(
            try String(contentsOfFile: directory + "/args.txt", encoding: .utf8).hasPrefix("us-east-1\neu-west-1\n"))
        let history = AuditLog(path: directory + "/audit.jsonl").read()
        let attempt = try #require(history.attempts.last)
        #expect(attempt.confirmed?.reason == "region drill")
        #expect(attempt.confirmed?.operatorName == "tester@host")
        // Gates are re-checked (and recorded) just before each step with side effects.
        #expect(
            attempt.stepEntries.map(\.type) == [
                "gates-rechecked", "step-started", "step-finished", "gates-rechecked", "step-started", "step-finished",
            ])
        #expect(attempt.finished?.state == "completed")
        #expect(attempt.finished?.steps?.last?.output.contains("recorded 2 arguments") == true)
        #expect((attempt.finished?.measuredRtoSeconds ?? 0) > 0)
    }

    @Test func aSecondCoordinatorIsRefusedByTheLockGate() async {
        let directory = scratch("contention")
        let world = FixedWorld(demoState())
        let plan = [FailoverPlanStep(name: "fence", action: .simulated(.fence))]
        let first = coordinator(world: world, directory: directory, plan: plan)
        let second = coordinator(world: world, directory: directory, plan: plan)
        #expect(await first.begin(kind: .failover, to: "eu-west-1").machine.state == .awaitingConfirmation)
        let refused = await second.begin(kind: .failover, to: "eu-west-1")
        #expect(refused.machine.state == .refused)
        let lockGate = refused.machine.attempt?.gates.first { $0.gate == .lock }
        #expect(
            lockGate?.measured.hasPrefix("another failover holds the lock: tester@host (pid ") == true,
            "\(String(describing: lockGate))")
        await first.abort()
        #expect(
            await second.begin(kind: .failover, to: "eu-west-1").machine.state == .awaitingConfirmation,
            "released on abort")
        await second.abort()
    }

    @Test func readOnlyAndCoolDownRefuse() async throws {
        let directory = scratch("readonly")
        let world = FixedWorld(demoState())
        let plan = [FailoverPlanStep(name: "fence", action: .simulated(.fence))]
        let readOnly = coordinator(world: world, directory: directory, plan: plan, readOnly: true)
        let refused = await readOnly.begin(kind: .failover, to: "eu-west-1", forcedGates: [.readOnly: "please"])
        #expect(refused.machine.state == .refused)
        #expect(refused.machine.attempt?.gates.first { $0.gate == .readOnly }?.measured == "regionwatch runs read-only")

        // A completed failover a moment ago: the next one waits for the cool-down.
        let clock = ManualWallClock(world.currentState().now)
        let first = coordinator(world: world, directory: directory, plan: plan, clock: clock)
        _ = await first.begin(kind: .failover, to: "eu-west-1")
        _ = await first.confirm(typedTarget: "eu-west-1", reason: "first")
        await first.waitUntilFinished()
        clock.advance(by: 60)
        let again = await first.begin(kind: .failover, to: "ap-southeast-1")
        #expect(again.machine.state == .refused)
        #expect(again.machine.attempt?.gates.first { $0.gate == .coolDown }?.passed == false)
        let forced = await first.begin(
            kind: .failover, to: "ap-southeast-1", forcedGates: [.coolDown: "second region failing too"])
        #expect(forced.machine.state == .awaitingConfirmation)
        await first.abort()
    }

    @Test func failoverConfigurationIsRead() throws {
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
              coolDown: 15m
              auditLog: /var/lib/rw/audit.jsonl
              readOnly: true
              lock: postgres
              lockDsnEnv: LOCK_DSN
              plan:
                - { name: fence, kind: postgres-fence, dsnByRegion: { us-east-1: "postgres://u:${PGPW}@h1/db", eu-west-1: "postgres://u@h2/db" }, timeout: 20s }
                - { name: promote, kind: postgres-promote, dsnByRegion: { eu-west-1: "postgres://u@h2/db", us-east-1: "postgres://u@h1/db" } }
                - { name: dns, kind: exec, command: [/usr/local/bin/dns-switch, --to, "{to}"], onFailure: continue, drill: true }
                - { name: notify, kind: http, url: "https://hooks.example.com/{to}", body: "{reason}", expectStatus: [200, 202] }
                - { name: verify, kind: wait-for, condition: target-is-primary }
            """
        let (configuration, _) = try ConfigurationParser.parse(
            text, file: "f.yaml", environment: ["LOCK_DSN": "postgres://lock@h3/db", "PGPW": "pw"])
        let failover = configuration.failover
        #expect(failover.coolDownSeconds == 900)
        #expect(failover.auditLogPath == "/var/lib/rw/audit.jsonl")
        #expect(failover.isReadOnly)
        #expect(failover.lock == .postgres(PostgresDSN(host: "h3", user: "lock", database: "db")))
        #expect(failover.plan.map(\.name) == ["fence", "promote", "dns", "notify", "verify"])
        #expect(
            failover.plan[0].action
                == .postgresFence(dsns: ["us-east-1": "postgres://u:pw@h1/db", "eu-west-1": "postgres://u@h2/db"]))
        #expect(failover.plan[2].action == .exec(program: "/usr/local/bin/dns-switch", arguments: ["--to", "{to}"]))
        #expect(failover.plan[2].onFailure == .continue && failover.plan[2].isDrillSafe)
        #expect(failover.steps(for: .drill).map(\.name) == ["dns"])
        #expect(
            failover.steps(for: .switchover).map(\.name) == [
                "fence", "wait for the target to catch up", "promote", "dns", "notify", "verify",
            ])
        #expect(
            failover.plan[3].action
                == .http(
                    method: "POST", url: "https://hooks.example.com/{to}", headers: [:], body: "{reason}",
                    expectStatus: [200, 202]))

        let broken = """
            topology: t
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: a, provider: aws, role: primary, traffic: 100 }
            collectors:
              - kind: simulator
            failover:
              plan:
                - { kind: exec, command: "dns-switch --to {to}" }
                - { kind: wait-for, condition: caught-up }
                - { kind: teleport }
            """
        #expect(throws: DiagnosticsError.self) { try ConfigurationParser.parse(broken, file: "f.yaml") }
        do {
            _ = try ConfigurationParser.parse(broken, file: "f.yaml")
        } catch {
            #expect(
                error.diagnostics.map(\.description) == [
                    "f.yaml:10:30: error: failover.plan[0].command: expected a list, found 'dns-switch --to {to}'",
                    "f.yaml:11:36: error: failover.plan[1].condition: 'caught-up' is not one of target-caught-up, target-is-primary, target-healthy",
                    "f.yaml:12:15: error: failover.plan[2].kind: unknown step kind 'teleport'; one of exec, http, postgres-promote, postgres-fence, postgres-unfence, wait-for, simulated",
                ])
        }
    }
}

extension FailoverRuntimeTests {
    @Test func drillsRunOnlySafeStepsAndFailbackNeedsTheOriginalPrimaryRejoined() async throws {
        let directory = scratch("drill")
        let world = FixedWorld(demoState())
        let plan = [
            FailoverPlanStep(
                name: "promote for real", action: .exec(program: "/bin/false", arguments: []), timeoutSeconds: 5),
            FailoverPlanStep(
                name: "safe check", action: .waitFor(.targetHealthy), timeoutSeconds: 5, isDrillSafe: true),
        ]
        let drill = coordinator(world: world, directory: directory, plan: plan)
        let begun = await drill.begin(kind: .drill, to: "eu-west-1")
        #expect(begun.machine.attempt?.request.steps.map(\.name) == ["safe check"])
        _ = await drill.confirm(typedTarget: "eu-west-1", reason: "quarterly drill")
        await drill.waitUntilFinished()
        #expect(await drill.snapshot.machine.state == .completed)
        let recorded = AuditLog(path: directory + "/audit.jsonl").read().attempts.last?.finished
        #expect(recorded?.kind == "drill")
        #expect(recorded?.measuredRtoSeconds != nil)

        // Failback: the original primary (us-east-1) is still the primary, so there is nothing
        // to fail back to; and a failback to any other region is no failback. Neither starts.
        let failback = coordinator(world: world, directory: scratch("failback"), plan: plan)
        let elsewhere = await failback.begin(kind: .failback, to: "eu-west-1")
        #expect(elsewhere.machine.state == .steady)
        #expect(
            elsewhere.targetProblem?.description
                == "a failback returns the role to the configured primary us-east-1, not eu-west-1")
        let home = await failback.begin(kind: .failback, to: "us-east-1")
        #expect(home.targetProblem?.description == "us-east-1 is the current primary")
    }
}
