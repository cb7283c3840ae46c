import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI

/// One second of the idle demo as the dashboard spends it, split into its parts: the
/// simulator's step, applying its events and the tick, rendering the overview at 120×40, and
/// diffing and drawing the frame. Their sum is the loop's CPU per second without the system
/// calls and thread wake-ups (`scripts/bench-idle-cpu.sh` measures the whole process).
enum IdleBenchmarks {
    static func run(iterations: Int) {
        let start = Timestamp(secondsSinceEpoch: 1_795_789_800)
        let warmUp = 600
        var simulation = DemoSimulation(topology: .demo, settings: SimulatorSettings(), start: start)
        var state = DashboardState(topology: .demo, now: start)
        for second in 1...warmUp {
            let now = start.adding(seconds: Double(second))
            state.apply(contentsOf: simulation.step(at: now))
            state.apply(.tick(now))
        }
        let view = ViewState(isDemo: true, themeName: "default", availableThemes: ["default"])
        let backend = InMemoryBackend(size: TerminalSize(width: 120, height: 40))
        let renderer = TerminalRenderer(backend: backend)
        var samples: (step: [Double], apply: [Double], render: [Double], present: [Double]) = ([], [], [], [])
        let clock = ContinuousClock()
        for index in 0..<iterations {
            let now = start.adding(seconds: Double(warmUp + 1 + index))
            var events: [DashboardEvent] = []
            samples.step.append(seconds(clock.measure { events = simulation.step(at: now) }))
            samples.apply.append(
                seconds(
                    clock.measure {
                        state.apply(contentsOf: events)
                        state.apply(.tick(now))
                    }))
            var frame = Frame(size: backend.size)
            samples.render.append(
                seconds(
                    clock.measure {
                        frame = DashboardView.render(state: state, view: view, size: backend.size, theme: .fallback)
                    }))
            samples.present.append(seconds(clock.measure { renderer.present(frame) }))
        }
        let step = summary(samples.step)
        let apply = summary(samples.apply)
        let render = summary(samples.render)
        let present = summary(samples.present)
        RegionWatchBenchmarks.report("idle demo second: simulator step", step)
        RegionWatchBenchmarks.report("idle demo second: apply events + tick", apply)
        RegionWatchBenchmarks.report("idle demo second: render overview 120x40", render)
        RegionWatchBenchmarks.report("idle demo second: diff + draw", present)
        let total = step.median + apply.median + render.median + present.median
        print(
            RegionWatchBenchmarks.pad("idle demo second: sum of medians", 46)
                + "\(RegionWatchBenchmarks.format(total)) per second = \(Format.fixed(total * 100, decimals: 3))% of a core"
        )
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func summary(_ samples: [Double]) -> RegionWatchBenchmarks.Timing {
        let sorted = samples.sorted()
        return RegionWatchBenchmarks.Timing(
            median: sorted[sorted.count / 2], p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)],
            best: sorted[0])
    }
}
