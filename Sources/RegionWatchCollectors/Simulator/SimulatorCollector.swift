import RegionWatchCore
import Synchronization

/// Runs a `DemoSimulation` in real time: every interval it steps the model and publishes the
/// observations. Chaos commands apply at once.
public final class SimulatorCollector: Collector {
    public let name: String
    let simulation: Mutex<DemoSimulation>
    private let intervalSeconds: Double
    private let commandSink = Mutex<(bus: EventBus<DashboardEvent>, clock: WallClock)?>(nil)

    public init(topology: Topology, settings: SimulatorSettings, start: Timestamp) {
        name = settings.name
        intervalSeconds = settings.intervalSeconds
        simulation = Mutex(DemoSimulation(topology: topology, settings: settings, start: start))
    }

    public func run(publishingTo bus: EventBus<DashboardEvent>, clock: WallClock) async {
        attach(publishingTo: bus, clock: clock)
        defer { commandSink.withLock { $0 = nil } }
        var next = clock.now()
        while !Task.isCancelled {
            step(at: next)
            next = next.adding(seconds: intervalSeconds)
            let wait = next.seconds(since: clock.now())
            if wait < -intervalSeconds {
                // Fell behind (suspended, or the clock jumped): resume from now, don't replay.
                next = clock.now()
                continue
            }
            if wait > 0 {
                do {
                    try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                } catch {
                    return
                }
            }
        }
    }

    /// Connects the simulator to `bus` without running it in real time: chaos commands apply
    /// and `step(at:)` publishes (for in-process sessions on a virtual clock).
    public func attach(publishingTo bus: EventBus<DashboardEvent>, clock: WallClock) {
        commandSink.withLock { $0 = (bus, clock) }
    }

    /// Steps the model to `time` and publishes its observations (once attached).
    public func step(at time: Timestamp) {
        guard let sink = commandSink.withLock({ $0 }) else { return }
        let events = simulation.withLock { $0.step(at: time) }
        sink.bus.publish(contentsOf: events)
    }

    /// What `command` would do, applied to a copy of the simulation (a drill's rehearsal):
    /// the notices it would publish; empty when it would do nothing (an unknown region).
    /// Nothing changes and nothing is published.
    public func rehearse(_ command: ChaosCommand) -> [Notice] {
        var copy = simulation.withLock { $0 }
        return copy.apply(command, at: commandSink.withLock { $0 }?.clock.now() ?? Timestamp(secondsSinceEpoch: 0))
            .compactMap { event in
                if case .notice(let notice) = event { notice } else { nil }
            }
    }

    /// Applies a chaos command now and publishes its notice.
    public func send(_ command: ChaosCommand) {
        guard let sink = commandSink.withLock({ $0 }) else { return }
        let now = sink.clock.now()
        let events = simulation.withLock { $0.apply(command, at: now) }
        sink.bus.publish(contentsOf: events)
    }
}
