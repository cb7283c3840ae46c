import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI

/// Microbenchmarks that print figures (targets live here, not in unit tests).
///
///     swift run -c release regionwatch-bench [render|apply|otlp|traces|all] [--regions N] [--iterations N] [--retained-spans N]
@main
struct RegionWatchBenchmarks {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let which = arguments.first.map { $0.hasPrefix("--") ? "all" : arguments.removeFirst() } ?? "all"
        let regions = option("--regions", in: arguments) ?? 50
        let iterations = option("--iterations", in: arguments) ?? 2000
        print("regionwatch benchmarks (\(regions) regions, \(iterations) iterations; lower is better)")
        if which == "render" || which == "all" { renderBenchmarks(regions: regions, iterations: iterations) }
        if which == "apply" || which == "all" { applyBenchmark(regions: regions) }
        if which == "otlp" || which == "all" { OTLPBenchmarks.run(iterations: max(20, iterations / 20)) }
        if which == "exposition" || which == "all" { ExpositionBenchmarks.run(iterations: max(20, iterations / 10)) }
        if which == "traces" || which == "all" { TraceBenchmarks.run(iterations: iterations, retainedSpans: option("--retained-spans", in: arguments) ?? 1_000_000) }
    }

    static func option(_ name: String, in arguments: [String]) -> Int? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return Int(arguments[index + 1])
    }

    /// A state with `count` regions and three minutes of history in every signal.
    static func busyState(regions count: Int) -> DashboardState {
        let topology = Topology(
            name: "fleet", pattern: .routing, objectives: RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300),
            regions: (0..<count).map { RegionConfiguration(name: "region-\($0)", provider: ["aws", "gcp", "azure"][$0 % 3], role: $0 == 0 ? .primary : .standby, trafficPercent: 100 / Double(count)) }
        )
        return DemoSimulation.replay(topology: topology, settings: SimulatorSettings(seed: 1), start: Timestamp(secondsSinceEpoch: 1_795_789_800), seconds: 180)
    }

    static func renderBenchmarks(regions: Int, iterations: Int) {
        let state = busyState(regions: regions)
        let view = ViewState(isDemo: true, themeName: "default", availableThemes: ["default"])
        var detail = view
        _ = detail.handle(.enter, state: state)
        for (name, size) in [("120x40", TerminalSize(width: 120, height: 40)), ("200x60", TerminalSize(width: 200, height: 60)), ("80x24", TerminalSize(width: 80, height: 24))] {
            report("render overview \(name)", measure(iterations: iterations) {
                _ = DashboardView.render(state: state, view: view, size: size, theme: .fallback)
            })
        }
        report("render region detail 120x40", measure(iterations: iterations) {
            _ = DashboardView.render(state: state, view: detail, size: TerminalSize(width: 120, height: 40), theme: .fallback)
        })
        // A whole refresh as the loop does it: render, diff against the previous frame, draw.
        let backend = InMemoryBackend(size: TerminalSize(width: 120, height: 40))
        let renderer = TerminalRenderer(backend: backend)
        var ticking = state
        var second = 181.0
        report("render + diff + draw 120x40 (one refresh)", measure(iterations: iterations) {
            second += 1
            ticking.apply(.tick(Timestamp(secondsSinceEpoch: 1_795_789_800 + second)))
            renderer.present(DashboardView.render(state: ticking, view: view, size: backend.size, theme: .fallback))
        })
    }

    static func applyBenchmark(regions: Int) {
        let state = busyState(regions: regions)
        var simulation = DemoSimulation(topology: state.topology, settings: SimulatorSettings(seed: 2), start: state.now)
        var events: [DashboardEvent] = []
        for second in 1...200 { events += simulation.step(at: state.now.adding(seconds: Double(second))) }
        var applied = state
        let timing = measure(iterations: 20) {
            applied = state
            applied.apply(contentsOf: events)
        }
        let perEvent = timing.median / Double(events.count)
        print(pad("apply \(events.count) events", 46) + "median \(format(timing.median)) → \(format(perEvent)) per event, \(Int(1 / perEvent)) events/s")
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
        return Timing(median: samples[samples.count / 2], p99: samples[min(samples.count - 1, samples.count * 99 / 100)], best: samples[0])
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
