import Testing
@testable import RegionWatchCore

/// Seeded random sequences of writes, pauses, crashes, partitions, promotions, fences and
/// re-pointed standbys on the replication model, with the dashboard's invariants checked after
/// every step. A failure names its seed; rerun one with `REGIONWATCH_SEED=N`.
@Suite("Replication invariants over random sequences")
struct ReplicationInvariantTests {
    typealias M = ReplicationModel

    static let sequences = 2000
    static let steps = 40

    /// One random intent or fault, applied to the model before a step.
    static func disturb(_ model: inout M, random: inout SplitMix, log: inout [String]) {
        func chance(_ probability: Double) -> Bool { Double(random.next() >> 11) / Double(1 << 53) < probability }
        func pick(_ names: [String]) -> String? {
            names.isEmpty ? nil : names[Int(random.next() % UInt64(names.count))]
        }
        let names = M.regions
        for name in names where model.servers[name]?.role == .writable && chance(0.6) {
            model.write(UInt64(1 + random.next() % 50_000), on: name, fraction: Double(random.next() % 100) / 100)
        }
        for name in names where model.servers[name]?.role != .recovering && chance(0.15) {
            model.upkeep(UInt64(1 + random.next() % 500), on: name)
        }
        for name in names where model.servers[name]?.role != .recovering && chance(0.05) {
            model.analyze(on: name)
            log.append("analyze \(name)")
        }
        if chance(0.05), let name = pick(names.filter { model.servers[$0]?.role == .fenced }) {
            model.writeDespiteFence(UInt64(1 + random.next() % 5000), on: name)
            log.append("write despite the fence on \(name)")
        }
        let standbys = names.filter { model.servers[$0]?.role == .recovering }
        if chance(0.06), let name = pick(standbys) {
            model.servers[name]?.isPaused.toggle()
            log.append("toggle pause \(name)")
        }
        if chance(0.04), let name = pick(names) {
            model.servers[name]?.isUp.toggle()
            log.append("\(model.servers[name]?.isUp == true ? "start" : "stop") \(name)")
        }
        if chance(0.04), let name = pick(names) {
            model.servers[name]?.isObservable.toggle()
            log.append("\(model.servers[name]?.isObservable == true ? "heal" : "partition") \(name)")
        }
        if chance(0.03), let name = pick(standbys) {
            model.promote(name)
            log.append("promote \(name)")
        }
        if chance(0.03), let name = pick(names.filter { model.servers[$0]?.role == .writable }) {
            model.fence(name)
            log.append("fence \(name)")
        }
        if chance(0.04), let name = pick(standbys), let target = pick(names.filter { $0 != name }) {
            model.repoint(name, to: target)
            log.append("repoint \(name) → \(target)")
        }
        if chance(0.03), let name = pick(standbys) {
            model.servers[name]?.isReceiving.toggle()
            log.append("\(model.servers[name]?.isReceiving == true ? "reconnect" : "disconnect") \(name)")
        }
    }

    /// Every invariant, at the model's current time. Returns the broken ones.
    static func violations(_ model: M, _ state: DashboardState) -> [String] {
        var problems: [String] = []
        let observed = M.regions.filter { model.servers[$0]?.isUp == true && model.servers[$0]?.isObservable == true }
        let writable = observed.filter { model.servers[$0]?.role == .writable }
        // Roles are what the reachable servers say; the unreachable ones are unknown.
        let shownWritable = state.regions.filter { $0.role == .primary }.map(\.name)
        if Set(shownWritable) != Set(writable) {
            problems.append("writable shown \(shownWritable), servers \(writable)")
        }
        for region in state.regions {
            let server = model.servers[region.name]
            let expected: RegionRole =
                !(observed.contains(region.name))
                ? .unknown : server?.role == .fenced ? .fenced : server?.role == .writable ? .primary : .standby
            if region.role != expected { problems.append("\(region.name) shown \(region.role), is \(expected)") }
        }
        // One primary, or split brain: never two primaries shown as fine. An alarm stays while a
        // member is merely unobserved (it may still take writes), never for a member seen down.
        // A fenced server written to since it was seen fenced takes writes too; one that only
        // ran ANALYZE does not.
        let fencedWriters = observed.filter { model.servers[$0]?.isWrittenWhileFenced == true }
        if writable.count >= 2, state.primary.splitBrain == nil {
            problems.append("two writable servers \(writable) without a split-brain alarm")
        }
        if !writable.isEmpty {
            for name in fencedWriters where !(state.primary.splitBrain?.regions.contains(name) ?? false) {
                problems.append(
                    "\(name) is fenced yet written to, beside \(writable), and not in the split-brain alarm")
            }
        }
        if let split = state.primary.splitBrain {
            for member in split.regions {
                let server = model.servers[member]
                let possible =
                    server?.isUp == true
                    && (server?.role == .writable || server?.isObservable == false
                        || server?.isWrittenWhileFenced == true)
                if !possible { problems.append("split brain names \(member), which cannot take writes") }
            }
        }
        if let current = state.primary.current, !writable.contains(current) {
            problems.append("primary \(current) does not take writes")
        }
        if writable.count == 1, state.primary.current != writable[0] {
            problems.append("primary shown \(String(describing: state.primary.current)), is \(writable[0])")
        }
        for name in writable where writable.count >= 2 && !(state.primary.splitBrain?.regions.contains(name) ?? false) {
            problems.append("\(name) takes writes but is not in the split-brain alarm")
        }
        // Lag readings never claim more than the truth, nor (with the primary observed) less.
        for standby in M.regions where model.servers[standby]?.role == .recovering && observed.contains(standby) {
            guard let reading = state.replicationLag(of: standby), let time = reading.time,
                reading.observedAt == M.at(model.now),
                let truth = model.trueLag(of: standby), let root = model.lineageRoot(of: standby),
                state.writeSource(of: standby) == root,
                model.servers[root]?.timeline == model.servers[standby]?.timeline
            else { continue }
            if time.atLeast > truth + 1e-6 {
                problems.append("\(standby) lag \(time.text) claims more than the truth \(truth)")
            }
            if reading.unknownAfter == nil, let atMost = time.atMost, atMost < truth - 1e-6 {
                problems.append("\(standby) lag \(time.text) claims less than the truth \(truth)")
            }
            let raw = state.region(named: standby)?.rawAssessment.reasons ?? []
            if raw.contains(where: { $0.contains("exceeds RPO") }), truth <= state.topology.objectives.rpoSeconds {
                problems.append("\(standby) degraded for lag past the RPO at a true lag of \(truth)")
            }
        }
        // Links exist while observed, or while they come from the primary.
        for link in state.replicationLinks {
            let fresh = link.views.contains {
                state.now.seconds(since: $0.observedAt) <= state.staleAfter(source: $0.source)
            }
            let fromPrimary = link.from == (state.primary.current ?? state.primary.lastKnown)
            if !fresh, !fromPrimary { problems.append("ghost link \(link.from) → \(link.to)") }
        }
        // Every lag interval is well formed.
        for link in state.replicationLinks {
            if let time = link.reading.time, time.atLeast < 0 || (time.atMost.map { $0 < time.atLeast } ?? false) {
                problems.append("malformed interval \(time) on \(link.from) → \(link.to)")
            }
        }
        return problems
    }

    /// Runs one sequence; returns its first violation.
    static func run(seed: UInt64) -> String? {
        var random = SplitMix(seed: seed)
        var model = M()
        var state = M.freshState()
        var log: [String] = []
        for _ in 0..<steps {
            disturb(&model, random: &random, log: &log)
            state.apply(contentsOf: model.step() + [.tick(M.at(model.now))])
            let problems = violations(model, state)
            if !problems.isEmpty {
                return
                    "seed \(seed) at t=\(model.now) after [\(log.suffix(6).joined(separator: "; "))]: \(problems.joined(separator: " | "))"
            }
        }
        return nil
    }

    @Test func invariantsHoldAfterEveryStep() async {
        let seeds: [UInt64] = Environment.seed.map { [$0] } ?? (1...UInt64(Self.sequences)).map { $0 }
        let lanes = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
        let failures = await withTaskGroup(of: [String].self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var found: [String] = []
                    for seed in seeds where Int(seed % UInt64(lanes)) == lane {
                        if let failure = Self.run(seed: seed) { found.append(failure) }
                        if found.count >= 3 { break }
                    }
                    return found
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.sorted().prefix(5).joined(separator: "\n"))")
    }
}

/// Test settings from the environment.
enum Environment {
    /// `REGIONWATCH_SEED`: run one sequence of a randomised test.
    static var seed: UInt64? {
        guard let text = getenv("REGIONWATCH_SEED") else { return nil }
        return UInt64(String(cString: text))
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

@Suite("Replication invariants: debug", .disabled(if: Environment.seed == nil))
struct ReplicationInvariantDebug {
    @Test func printSequence() {
        guard let seed = Environment.seed else { return }
        var random = SplitMix(seed: seed)
        var model = ReplicationModel()
        var state = ReplicationModel.freshState()
        var log: [String] = []
        for _ in 0..<ReplicationInvariantTests.steps {
            let before = log.count
            ReplicationInvariantTests.disturb(&model, random: &random, log: &log)
            state.apply(contentsOf: model.step())
            state.apply(.tick(ReplicationModel.at(model.now)))
            print("t=\(model.now) \(log[before...].joined(separator: "; "))")
            for name in ReplicationModel.regions {
                let s = model.servers[name]!
                print(
                    "  model \(name) up=\(s.isUp) obs=\(s.isObservable) \(s.role) tl=\(s.timeline) pos=\(s.position) recv=\(s.received) paused=\(s.isPaused) up→\(s.upstream ?? "-") receiving=\(s.isReceiving) truth=\(model.trueLag(of: name).map { "\($0)" } ?? "-") commits=\(model.commits[s.timeline]?.suffix(3).map { "\($0.position)@\($0.at)" } ?? [])"
                )
                let r = state.region(named: name)!
                print(
                    "  state \(name) role=\(r.role) lag=\(state.replicationLag(of: name).map { "\($0.time?.text ?? "nil") obs=\($0.observedAt.map { "\($0.seconds(since: ReplicationModel.start))" } ?? "-") unk=\($0.unknownAfter != nil)" } ?? "-") ws=\(state.writeSource(of: name) ?? "-") hist=\(r.server?.history.count ?? 0)"
                )
            }
            let problems = ReplicationInvariantTests.violations(model, state)
            if !problems.isEmpty {
                print("VIOLATION \(problems)")
                break
            }
        }
    }
}
