import Foundation
import Synchronization
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp
@testable import RegionWatchFailover

/// The demo simulation as a failover world: simulated steps change it at once, and time moves
/// one simulated second per change or fault. It is also the coordinator's clock.
final class SimulationWorld: FailoverWorld, WallClock {
    struct Inner {
        var simulation: DemoSimulation
        var state: DashboardState
        var now: Timestamp
        /// The next simulated step fails (a fault).
        var failNextStep = false
    }

    let inner: Mutex<Inner>
    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    init(seed: UInt64) {
        let settings = SimulatorSettings(seed: seed, scriptedIncident: false, tracesPerSecond: 0)
        let simulation = DemoSimulation(topology: .demo, settings: settings, start: Self.start)
        inner = Mutex(
            Inner(simulation: simulation, state: DashboardState(topology: .demo, now: Self.start), now: Self.start))
        advance(seconds: 6)
    }

    func now() -> Timestamp { inner.withLock { $0.now } }
    func currentState() -> DashboardState { inner.withLock { $0.state } }

    /// Moves simulated time on, applying each second's observations.
    func advance(seconds: Int) {
        inner.withLock { world in
            for _ in 0..<seconds {
                world.now = world.now.adding(seconds: 1)
                world.state.apply(contentsOf: world.simulation.step(at: world.now))
                world.state.apply(.tick(world.now))
            }
        }
    }

    /// A fault or chaos command, then a second of time.
    func inject(_ command: ChaosCommand) {
        inner.withLock { world in world.state.apply(contentsOf: world.simulation.apply(command, at: world.now)) }
        advance(seconds: 1)
    }

    func failNextStep() { inner.withLock { $0.failNextStep = true } }

    func simulate(_ change: SimulatedFailoverChange, from: String, to: String) -> Bool {
        let failing = inner.withLock { world in
            defer { world.failNextStep = false }
            return world.failNextStep
        }
        if failing { return false }
        if let command = LiveFailoverWorld.command(for: change, from: from, to: to) { inject(command) }
        return true
    }

    func rehearse(_ change: SimulatedFailoverChange, from: String, to: String) -> String? {
        guard let command = LiveFailoverWorld.command(for: change, from: from, to: to) else {
            return "nothing to change"
        }
        var copy = inner.withLock { $0.simulation }
        let notices = copy.apply(command, at: now())
        return notices.isEmpty ? "" : "rehearsed"
    }

    /// Roles and traffic as the simulated servers have them (the drill invariant compares them).
    var servers: [String] {
        let state = currentState()
        return state.regions.map {
            "\($0.name) \($0.role.rawValue) \(Format.fixed(($0.trafficShare.latest ?? 0) * 100, decimals: 0))%"
        }
    }
}

/// Thousands of seeded random sequences of operator intents (move, failback, drill, to valid and
/// invalid regions; confirm, wrong confirmation, abort at random points, force, dry run, resume,
/// roll back, acknowledge) interleaved with faults (a region down, lag injected, a step failing,
/// the process killed and restarted from its audit log). After every step the invariants hold.
@Suite("Failover invariants over random sequences", .serialized)
struct FailoverSequenceTests {
    static let plan = [
        FailoverPlanStep(
            name: "fence the old primary", action: .simulated(.fence), timeoutSeconds: 5, isDrillSafe: true),
        FailoverPlanStep(
            name: "wait for the target to catch up", action: .waitFor(.targetCaughtUp), timeoutSeconds: 0.005,
            onFailure: .continue, isDrillSafe: true),
        FailoverPlanStep(
            name: "promote the target", action: .simulated(.promote), timeoutSeconds: 5, isDrillSafe: true),
        FailoverPlanStep(
            name: "shift traffic", action: .simulated(.shiftTraffic), timeoutSeconds: 5, isDrillSafe: true),
    ]
    static let coolDown = 20.0
    static let regions = ["us-east-1", "eu-west-1", "ap-southeast-1", "mars-1"]

    /// One run: the world, the audit directory and the coordinator of the current "process".
    final class Run {
        let world: SimulationWorld
        let directory: String
        var coordinator: FailoverCoordinator
        var log: [String] = []
        var lastRTO: (id: String, seconds: Double)?
        /// The facts when the operator last confirmed (the confirmation's gates must match them).
        var factsAtConfirmation: DashboardState?
        var checkedConfirmations: Set<String> = []

        init(seed: UInt64) {
            world = SimulationWorld(seed: seed)
            directory =
                (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory())
                + "regionwatch-seq-\(getpid())-\(seed)-\(UInt32.random(in: 0...UInt32.max))"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            coordinator = Self.coordinator(world: world, directory: directory)
        }

        /// One for every run: building one loads the system's trust roots.
        static let fetcher = HTTPFetcher()

        static func coordinator(world: SimulationWorld, directory: String) -> FailoverCoordinator {
            let audit = AuditLog(path: directory + "/audit.jsonl")
            return FailoverCoordinator(
                settings: FailoverSettings(
                    plan: FailoverSequenceTests.plan, coolDownSeconds: FailoverSequenceTests.coolDown), audit: audit,
                lock: FileFailoverLock(auditLogPath: audit.path),
                runner: StepRunner(world: world, fetcher: fetcher, pacing: .immediate), clock: world,
                operatorName: "op@test", rtoObjectiveSeconds: 300
            )
        }

        /// A new process after a crash: the old coordinator is dropped (its lock released, as the
        /// kernel would), and, when `tornFinish`, the last attempt's finish record is lost.
        func restart(tornFinish: Bool) async {
            await coordinator.waitUntilFinished()
            await coordinator.abort()
            await coordinator.waitUntilFinished()
            if tornFinish,
                var lines = (try? String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8))?.split(
                    separator: "\n"
                ).map(String.init),
                let last = lines.last, last.contains(#""type":"finished""#),
                last.contains(#""state":"aborted""#) || last.contains(#""state":"failed""#)
            {
                lines.removeLast()
                try? (lines.joined(separator: "\n") + "\n").write(
                    toFile: directory + "/audit.jsonl", atomically: true, encoding: .utf8)
            }
            coordinator = Self.coordinator(world: world, directory: directory)
        }

        func close() { try? FileManager.default.removeItem(atPath: directory) }

        private var parsed: (size: Int, entries: [AuditEntry]) = (-1, [])

        /// The audit log's entries (parsed again only when it changed).
        func auditEntries() -> [AuditEntry] {
            let data = FileManager.default.contents(atPath: directory + "/audit.jsonl") ?? Data()
            if data.count != parsed.size {
                let decoder = JSONDecoder()
                parsed = (
                    data.count,
                    data.split(separator: UInt8(ascii: "\n")).compactMap {
                        try? decoder.decode(AuditEntry.self, from: Data($0))
                    }
                )
            }
            return parsed.entries
        }
    }

    /// One random step: an operator intent or a fault.
    static func step(_ run: Run, random: inout SeededGenerator) async {
        let coordinator = run.coordinator
        let region = regions[Int(random.next() % UInt64(regions.count))]
        let real = regions[Int(random.next() % 3)]
        switch random.next() % 16 {
        case 0, 1:
            run.log.append("F \(region)")
            let kind = FailoverGates.kind(
                from: FailoverGates.currentPrimary(in: run.world.currentState()), in: run.world.currentState())
            _ = await coordinator.begin(kind: kind, to: region)
        case 2:
            let gates: [FailoverGateKind] = [.coolDown, .lagWithinRPO, .targetHealthy, .rejoined, .readOnly]
            let gate = gates[Int(random.next() % UInt64(gates.count))]
            run.log.append("F \(region) force \(gate.rawValue)")
            _ = await coordinator.begin(kind: .failover, to: region, forcedGates: [gate: "forced by the test"])
        case 3:
            run.log.append("D \(region)")
            _ = await coordinator.begin(kind: .drill, to: region)
        case 4:
            run.log.append("B")
            _ = await coordinator.begin(kind: .failback, to: "us-east-1")
        case 5, 6, 7:
            let target = await coordinator.snapshot.machine.attempt?.request.to ?? real
            let typed = random.next() % 5 == 0 ? "wrong" : target
            let abortAfter = random.next() % 3 == 0
            run.log.append("confirm \(typed)\(abortAfter ? " then abort" : "")")
            run.factsAtConfirmation = run.world.currentState()
            _ = await coordinator.confirm(typedTarget: typed, reason: "test")
            if abortAfter { await coordinator.abort() }
            await coordinator.waitUntilFinished()
        case 8:
            run.log.append("abort")
            await coordinator.abort()
            await coordinator.waitUntilFinished()
        case 9:
            run.log.append("dry run \(region)")
            _ = await coordinator.preview(kind: .failover, to: region)
        case 10:
            run.log.append(random.next() % 2 == 0 ? "resume" : "roll back")
            if run.log.last == "resume" { _ = await coordinator.resume() } else { _ = await coordinator.rollBack() }
        case 11:
            run.log.append("acknowledge")
            await coordinator.acknowledge()
        case 12:
            let command: ChaosCommand =
                switch random.next() % 3 {
                case 0: .takeDown(region: real)
                case 1: .injectLag(region: real, seconds: 60)
                default: .recover(region: real)
                }
            run.log.append("fault \(command)")
            run.world.inject(command)
        case 13:
            run.log.append("fault: the next step fails")
            run.world.failNextStep()
        case 14:
            let torn = random.next() % 2 == 0
            run.log.append("kill and restart\(torn ? " (finish record lost)" : "")")
            await run.restart(tornFinish: torn)
        default:
            let seconds = Int(random.next() % 25)
            run.log.append("wait \(seconds)s")
            run.world.advance(seconds: seconds)
        }
    }

    /// Every invariant, as the state, the machine and the audit log say now. Returns the
    /// broken ones.
    static func violations(_ run: Run, drillBefore: [String]?) async -> [String] {
        var broken: [String] = []
        let state = run.world.currentState()
        let snapshot = await run.coordinator.snapshot
        // (1) At most one region accepts writes, unless the split-brain alarm is raised.
        let writable = state.regions.filter { $0.role == .primary }.map(\.name)
        if writable.count > 1, state.primary.splitBrain == nil {
            broken.append("(1) \(writable) accept writes without the alarm")
        }
        let entries = run.auditEntries()
        // (2) A completed move within the cool-down of the one before passed that gate only forced.
        var lastCompleted: Double?
        for entry in entries
        where entry.type == "finished" && entry.state == "completed" && entry.kind != "drill" && entry.rollsBack == nil
        {
            let coolDown = entry.gates?.first { $0.gate == .coolDown }
            if let last = lastCompleted, entry.atEpochSeconds - last < coolDown.map({ _ in Self.coolDown }) ?? 0,
                entry.resumes == nil
            {
                if coolDown?.passed == true || (coolDown?.passed == false && coolDown?.forcedReason == nil) {
                    broken.append(
                        "(2) \(entry.id) completed \(entry.atEpochSeconds - last)s after the last one with cool-down \(String(describing: coolDown))"
                    )
                }
            }
            lastCompleted = entry.atEpochSeconds
        }
        // (3) The gates a confirmation records are the facts at that moment (not those of when
        // the dialog opened), and it never records a gate that refuses.
        if let facts = run.factsAtConfirmation, let confirmed = entries.last(where: { $0.type == "confirmed" }),
            !run.checkedConfirmations.contains(confirmed.id), let kindName = confirmed.kind,
            let kind = FailoverKind(rawValue: kindName),
            let target = confirmed.to, confirmed.resumes == nil, confirmed.rollsBack == nil
        {
            run.checkedConfirmations.insert(confirmed.id)
            let (expected, _) = FailoverGates.evaluate(
                kind: kind, target: target, in: facts, context: FailoverGateContext())
            for gate in [FailoverGateKind.targetHealthy, .lagWithinRPO] where kind != .drill {
                let recorded = confirmed.gates?.first { $0.gate == gate }
                let truth = expected.first { $0.gate == gate }
                if recorded?.passed != truth?.passed || recorded?.measured != truth?.measured {
                    broken.append(
                        "(3) \(confirmed.id) recorded \(String(describing: recorded)) while the facts said \(String(describing: truth))"
                    )
                }
            }
        }
        // (4) No side-effecting step started after a re-check refused it unforced.
        var refusedAt: [String: Int] = [:]
        for entry in entries {
            if entry.type == "gates-rechecked", let index = entry.stepIndex,
                entry.gates?.contains(where: { !$0.allows }) == true
            {
                refusedAt[entry.id] = index
            }
            if entry.type == "step-started", let index = entry.stepIndex, let refused = refusedAt[entry.id],
                index >= refused
            {
                broken.append("(4) \(entry.id) step \(index) started after its gate refused")
            }
            if entry.type == "confirmed", entry.gates?.contains(where: { !$0.allows }) == true {
                broken.append("(3) \(entry.id) confirmed with a refusing gate")
            }
        }
        // (5) A drill changes no role and no traffic.
        if let before = drillBefore, before != run.world.servers {
            broken.append("(5) a drill changed \(before) into \(run.world.servers)")
        }
        // (6) Nothing fenced is shown serving or OK.
        for region in state.regions where region.role == .fenced && region.health == .ok {
            broken.append("(6) \(region.name) is fenced and shown OK")
        }
        // (7) Every confirmed attempt has exactly one finish record, or is shown interrupted.
        // (An attempt with no finish record is what the log calls interrupted: the dashboard
        // and `regionwatch audit` list those; the check is that none finishes twice.)
        var finishes: [String: Int] = [:]
        for entry in entries where entry.type == "finished" { finishes[entry.id, default: 0] += 1 }
        for (id, count) in finishes where count > 1 { broken.append("(7) \(id) finished \(count) times") }
        let running =
            snapshot.machine.state.isFinal || snapshot.machine.state == .steady
            ? nil : snapshot.machine.attempt?.request.id
        if let running, finishes[running] != nil { broken.append("(7) \(running) runs after its finish record") }
        // (8) Timers: never negative, the RTO never behind the finished steps nor going back.
        if let attempt = snapshot.machine.attempt, let rto = attempt.measuredRTO(at: state.now) {
            let finished = attempt.steps.compactMap { $0.endedAt == nil ? nil : $0.seconds(at: state.now) }.reduce(0, +)
            if rto < finished - 1e-9 { broken.append("(8) RTO \(rto) below the finished steps' \(finished)") }
            if attempt.steps.contains(where: { ($0.seconds(at: state.now) ?? 0) < 0 }) {
                broken.append("(8) a negative step timer")
            }
            if let last = run.lastRTO, last.id == attempt.request.id, rto < last.seconds - 1e-9 {
                broken.append("(8) the RTO went back from \(last.seconds) to \(rto)")
            }
            run.lastRTO = (attempt.request.id, rto)
        }
        return broken
    }

    @Test func invariantsHoldAfterEveryStep() async throws {
        let sequences = ProcessInfo.processInfo.environment["REGIONWATCH_FAILOVER_SEQUENCES"].flatMap(Int.init) ?? 1000
        let stepsPerSequence = 30
        var steps = 0
        for seed in 1...UInt64(sequences) {
            let run = Run(seed: seed)
            defer { run.close() }
            var random = SeededGenerator(seed: seed)
            for _ in 0..<stepsPerSequence {
                let drill = run.log.count
                let before = run.world.servers
                await Self.step(run, random: &random)
                steps += 1
                let kind = await run.coordinator.snapshot.machine.attempt?.request.kind
                let drillRan = run.log[drill].hasPrefix("confirm") && kind == .drill
                let broken = await Self.violations(run, drillBefore: drillRan ? before : nil)
                if !broken.isEmpty {
                    let sequence = run.log.joined(separator: "\n  ")
                    Issue.record("seed \(seed) broke \(broken) after:\n  \(sequence)")
                    return
                }
            }
        }
        print("failover sequences: \(sequences) × \(stepsPerSequence) steps = \(steps) steps, every invariant held")
    }
}
