import Foundation
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI

/// Microbenchmarks that print figures (targets live here, not in unit tests).
///
///     swift run -c release regionwatch-bench [render|apply|replication|otlp|logs|exposition|traces|idle|all] [--regions N] [--iterations N] [--retained-spans N] [--retained-logs N]
@main
struct RegionWatchBenchmarks {
    static let groups = [
        "render", "apply", "replication", "otlp", "capacity", "logs", "exposition", "traces", "idle", "all",
    ]
    static let usage = """
        usage: regionwatch-bench [GROUP] [--regions N] [--iterations N] [--retained-spans N]
          GROUP: \(groups.joined(separator: ", ")) (default all)
          --regions N          regions in the benchmarked state (default 50)
          --iterations N       iterations per figure (default 2000)
          --retained-spans N   spans kept by the trace store benchmark (default 1000000)
          --retained-logs N    records kept by the log store benchmark (default 1000000)
        """

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains(where: { ["-h", "--help", "help"].contains($0) }) {
            print(usage)
            return
        }
        let which = arguments.first.map { $0.hasPrefix("--") ? "all" : arguments.removeFirst() } ?? "all"
        guard groups.contains(which) else {
            FileHandle.standardError.write(Data("regionwatch-bench: unknown group '\(which)'\n\(usage)\n".utf8))
            exit(2)
        }
        let regions = option("--regions", in: arguments) ?? 50
        let iterations = option("--iterations", in: arguments) ?? 2000
        print("regionwatch benchmarks (\(regions) regions, \(iterations) iterations; lower is better)")
        if which == "render" || which == "all" { renderBenchmarks(regions: regions, iterations: iterations) }
        if which == "apply" || which == "all" { applyBenchmark(regions: regions) }
        if which == "replication" || which == "all" { replicationBenchmark(regions: regions) }
        if which == "otlp" || which == "all" { OTLPBenchmarks.run(iterations: max(20, iterations / 20)) }
        if which == "capacity" { OTLPBenchmarks.atCapacity(iterations: iterations) }
        if which == "logs" || which == "all" {
            LogBenchmarks.run(
                iterations: max(20, iterations / 20), retained: option("--retained-logs", in: arguments) ?? 1_000_000)
        }
        if which == "exposition" || which == "all" { ExpositionBenchmarks.run(iterations: max(20, iterations / 10)) }
        if which == "idle" || which == "all" { IdleBenchmarks.run(iterations: iterations) }
        if which == "traces" || which == "all" {
            TraceBenchmarks.run(
                iterations: iterations, retainedSpans: option("--retained-spans", in: arguments) ?? 1_000_000)
        }
    }

    static func option(_ name: String, in arguments: [String]) -> Int? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return Int(arguments[index + 1])
    }

    /// A state with `count` regions and three minutes of history in every signal.
    static func busyState(regions count: Int) -> DashboardState {
        let topology = Topology(
            name: "fleet", pattern: .routing, objectives: RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300),
            regions: (0..<count).map {
                RegionConfiguration(
                    name: "region-\($0)", provider: ["aws", "gcp", "azure"][$0 % 3],
                    role: $0 == 0 ? .primary : .standby, trafficPercent: 100 / Double(count))
            }
        )
        return DemoSimulation.replay(
            topology: topology, settings: SimulatorSettings(seed: 1),
            start: Timestamp(secondsSinceEpoch: 1_795_789_800), seconds: 180)
    }

    static func renderBenchmarks(regions: Int, iterations: Int) {
        let state = busyState(regions: regions)
        let view = ViewState(isDemo: true, themeName: "default", availableThemes: ["default"])
        var detail = view
        _ = detail.handle(.enter, state: state)
        for (name, size) in [
            ("120x40", TerminalSize(width: 120, height: 40)), ("200x60", TerminalSize(width: 200, height: 60)),
            ("80x24", TerminalSize(width: 80, height: 24)),
        ] {
            report(
                "render overview \(name)",
                measure(iterations: iterations) {
                    _ = DashboardView.render(state: state, view: view, size: size, theme: .fallback)
                })
        }
        report(
            "render region detail 120x40",
            measure(iterations: iterations) {
                _ = DashboardView.render(
                    state: state, view: detail, size: TerminalSize(width: 120, height: 40), theme: .fallback)
            })
        // A whole refresh as the loop does it: render, diff against the previous frame, draw.
        let backend = InMemoryBackend(size: TerminalSize(width: 120, height: 40))
        let renderer = TerminalRenderer(backend: backend)
        var ticking = state
        var second = 181.0
        report(
            "render + diff + draw 120x40 (one refresh)",
            measure(iterations: iterations) {
                second += 1
                ticking.apply(.tick(Timestamp(secondsSinceEpoch: 1_795_789_800 + second)))
                renderer.present(DashboardView.render(state: ticking, view: view, size: backend.size, theme: .fallback))
            })
    }

    static func applyBenchmark(regions: Int) {
        let state = busyState(regions: regions)
        var simulation = DemoSimulation(
            topology: state.topology, settings: SimulatorSettings(seed: 2), start: state.now)
        var events: [DashboardEvent] = []
        for second in 1...200 { events += simulation.step(at: state.now.adding(seconds: Double(second))) }
        var applied = state
        let timing = measure(iterations: 20) {
            applied = state
            applied.apply(contentsOf: events)
        }
        let perEvent = timing.median / Double(events.count)
        print(
            pad("apply \(events.count) events", 46)
                + "median \(format(timing.median)) → \(format(perEvent)) per event, \(Int(1 / perEvent)) events/s")
    }

    /// Database rounds as the postgres collectors publish them, one per server per second: a
    /// primary (its position and `pg_stat_replication`) and `regions - 1` standbys (their own
    /// positions). Each second's events are applied as one batch with a tick, as the loop does.
    static func replicationBenchmark(regions count: Int) {
        let topology = Topology(
            name: "fleet", pattern: .activePassive, objectives: RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300),
            regions: (0..<count).map {
                RegionConfiguration(
                    name: "region-\($0)", provider: "aws", role: $0 == 0 ? .primary : .standby,
                    trafficPercent: $0 == 0 ? 100 : 0)
            }
        )
        let start = Timestamp(secondsSinceEpoch: 1_795_789_800)
        var rounds: [[DashboardEvent]] = []
        for second in 1...300 {
            let now = start.adding(seconds: Double(second))
            let position = WALPosition(offset: UInt64(second) * 65_536)
            var events: [DashboardEvent] = [
                .server(
                    ServerSample(
                        region: "region-0", source: "pg-region-0", observedAt: now,
                        facts: ServerFacts(role: .writable, timeline: 1, walPosition: position)))
            ]
            for index in 1..<count {
                let replayed = WALPosition(offset: position.offset - UInt64(index % 7) * 4096)
                events.append(
                    .replication(
                        ReplicationSample(
                            from: "region-0", to: "region-\(index)", source: "pg-region-0", observedAt: now,
                            lagSeconds: nil, lagBytes: nil, state: .streaming,
                            positions: StandbyPositions(flushed: position, replayed: replayed))))
                events.append(
                    .server(
                        ServerSample(
                            region: "region-\(index)", source: "pg-region-\(index)", observedAt: now,
                            facts: ServerFacts(
                                role: .recovering, timeline: 1, walPosition: replayed, receivedPosition: position,
                                receiver: WALReceiverFacts(
                                    status: "streaming", upstream: "region-0", senderEnd: position, senderEndAt: now,
                                    lastMessageAt: now),
                                lastReplayedCommitAt: now.adding(seconds: -0.5)
                            ))))
            }
            events.append(.tick(now))
            rounds.append(events)
        }
        var state = DashboardState(topology: topology, now: start)
        for index in 0..<count {
            state.apply(
                .collectorStatus(
                    CollectorReport(
                        collector: "pg-region-\(index)", kind: "postgres", observedAt: start, intervalSeconds: 1,
                        regions: ["region-\(index)"])))
        }
        let initial = state
        let eventsPerRound = rounds[0].count
        var batched = initial
        var round = 0
        let perRound = measure(iterations: 250) {
            if round == rounds.count {
                round = 0
                batched = initial
            }
            batched.apply(contentsOf: rounds[round])
            round += 1
        }
        print(
            pad("apply one second of \(count) database rounds", 46)
                + "median \(format(perRound.median)) (\(eventsPerRound) events, \(format(perRound.median / Double(eventsPerRound))) per event) p99 \(format(perRound.p99))"
        )
        var single = initial
        round = 0
        let oneByOne = measure(iterations: 60) {
            if round == rounds.count {
                round = 0
                single = initial
            }
            for event in rounds[round] { single.apply(event) }
            round += 1
        }
        print(
            pad("  the same, one event at a time", 46)
                + "median \(format(oneByOne.median)) (×\(Format.fixed(oneByOne.median / perRound.median, decimals: 1)) the batch)"
        )
    }

    struct Timing {
        var median: Double
        var p99: Double
        var best: Double
    }

    static func measure(iterations: Int, _ body: () -> Void) -> Timing {
        for _ in 0..<min(50, iterations) { body() }
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let elapsed = clock.measure(body)
            samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        samples.sort()
        return Timing(
            median: samples[samples.count / 2], p99: samples[min(samples.count - 1, samples.count * 99 / 100)],
            best: samples[0])
    }

    static func report(_ name: String, _ timing: Timing) {
        print(pad(name, 46) + "median \(format(timing.median))  p99 \(format(timing.p99))  best \(format(timing.best))")
    }

    static func format(_ seconds: Double) -> String {
        if seconds < 1e-6 { return Format.fixed(seconds * 1e9, decimals: 0) + " ns" }
        if seconds < 1e-3 { return Format.fixed(seconds * 1e6, decimals: 1) + " µs" }
        return Format.fixed(seconds * 1e3, decimals: 3) + " ms"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
