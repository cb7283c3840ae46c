import Foundation
import RegionWatchCollectors
import RegionWatchCore
import Synchronization
import RegionWatchFailover

/// The failover world of a running pipeline: the latest collected state (a copy published by
/// whoever applies events) and the demo simulator.
public final class LiveFailoverWorld: FailoverWorld {
    private let latest: Mutex<DashboardState>
    private let pipeline: CollectionPipeline

    public init(pipeline: CollectionPipeline, initial: DashboardState) {
        self.pipeline = pipeline
        latest = Mutex(initial)
    }

    /// Publishes the state steps will see (give it `snapshotWithoutTraces()`: a full copy
    /// shared across threads makes the owner's next span batch copy the trace store).
    public func publish(_ state: DashboardState) {
        latest.withLock { $0 = state }
    }

    public func currentState() -> DashboardState {
        latest.withLock { $0 }
    }

    public func simulate(_ change: SimulatedFailoverChange, from: String, to: String) -> Bool {
        guard let simulator = pipeline.simulator else { return false }
        if let command = Self.command(for: change, from: from, to: to) { simulator.send(command) }
        return true
    }

    public func rehearse(_ change: SimulatedFailoverChange, from: String, to: String) -> String? {
        guard let simulator = pipeline.simulator else { return nil }
        guard let command = Self.command(for: change, from: from, to: to) else { return "nothing to change" }
        let notices = simulator.rehearse(command)
        return notices.isEmpty ? "" : notices.map(\.message).joined(separator: "; ")
    }

    static func command(for change: SimulatedFailoverChange, from: String, to: String) -> ChaosCommand? {
        switch change {
        case .fence: .fence(region: from)
        case .promote: .promote(region: to)
        case .shiftTraffic: .shiftTraffic(from: from, to: to)
        case .unfence: .unfence(region: from)
        case .unshiftTraffic: .shiftTraffic(from: to, to: from)
        case .verify: nil
        }
    }
}

/// Runs a pipeline headless, applying its events in the background and publishing the state to
/// a `LiveFailoverWorld` (for the `failover` command).
final class HeadlessCollection: Sendable {
    let pipeline: CollectionPipeline
    let world: LiveFailoverWorld
    private let applier: Task<Void, Never>
    private let ticker: Task<Void, Never>

    /// How often the state's clock moves on when no event arrives (freshness and staleness
    /// are judged against it).
    static let tickSeconds = 0.5

    init(configuration: RegionWatchConfiguration, clock: WallClock) {
        pipeline = CollectionPipeline(configuration: configuration, clock: clock)
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        // Woken when events arrive, and by the ticker: no thread polls.
        let subscription = pipeline.subscribeAsConsumer(capacity: 1_000_000) { wake.yield() }
        let state = DashboardState(
            topology: configuration.topology, now: clock.now(), traceLimits: configuration.traceLimits,
            logLimits: configuration.logLimits)
        world = LiveFailoverWorld(pipeline: pipeline, initial: state)
        let pipeline = pipeline
        let world = world
        applier = Task {
            var state = state
            for await _ in wakes {
                pipeline.apply(subscription.drain(), to: &state)
                state.apply(.tick(clock.now()))
                world.publish(state.snapshotWithoutTraces())
            }
        }
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(Self.tickSeconds * 1000)))
                wake.yield()
            }
            wake.finish()
        }
        pipeline.start()
    }

    /// Collects for `seconds` (events are applied in the background meanwhile).
    func collect(for seconds: Double) async {
        try? await Task.sleep(for: .milliseconds(Int(max(0, seconds) * 1000)))
    }

    func shutdown() {
        ticker.cancel()
        applier.cancel()
        pipeline.cancel()
    }
}

/// A flag set once, read from another thread.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
