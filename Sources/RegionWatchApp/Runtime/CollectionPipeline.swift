import RegionWatchCollectors
import RegionWatchCore

/// Builds the collectors a configuration names and runs them concurrently, each publishing
/// onto one bus. Used by both the dashboard and the headless `status` command.
public final class CollectionPipeline: @unchecked Sendable {
    public let bus = EventBus<DashboardEvent>()
    /// Bounds spans in flight from receivers to whoever applies them.
    public let gate = IngestGate()
    public let collectors: [Collector]
    /// The simulator, when one runs (the demo chaos keys talk to it).
    public let simulator: SimulatorCollector?
    private let clock: WallClock
    private var task: Task<Void, Never>?

    public init(configuration: RegionWatchConfiguration, clock: WallClock) {
        self.clock = clock
        var collectors: [Collector] = []
        var simulator: SimulatorCollector?
        let start = clock.now()
        for collector in configuration.collectors {
            switch collector {
            case .simulator(let settings):
                let created = SimulatorCollector(topology: configuration.topology, settings: settings, start: start)
                simulator = simulator ?? created
                collectors.append(created)
            case .otlp(let settings):
                collectors.append(OTLPReceiverCollector(settings: settings, gate: gate))
            case .postgres(let settings):
                collectors.append(PollingCollector(source: PostgresSource(settings: settings)))
            case .prometheusScrape(let settings):
                collectors.append(PollingCollector(source: PrometheusScrapeSource(settings: settings)))
            case .promql(let settings):
                collectors.append(PollingCollector(source: PromQLSource(settings: settings)))
            case .httpProbe(let settings):
                collectors.append(PollingCollector(source: HTTPProbeSource(settings: settings)))
            }
        }
        self.collectors = collectors
        self.simulator = simulator
    }

    /// Starts every collector in the background.
    public func start() {
        let collectors = collectors
        let bus = bus
        let clock = clock
        task = Task.detached {
            await withTaskGroup(of: Void.self) { group in
                for collector in collectors {
                    group.addTask { await collector.run(publishingTo: bus, clock: clock) }
                }
            }
        }
    }

    /// Stops every collector and waits for them to finish.
    public func stop() async {
        task?.cancel()
        await task?.value
        task = nil
    }

    /// Stops every collector without waiting.
    public func cancel() {
        task?.cancel()
    }

    /// Applies drained events to `state` as one batch (roles, links and health are derived
    /// once for it), then releases the ingest reservations of span batches.
    public func apply(_ events: [DashboardEvent], to state: inout DashboardState) {
        state.apply(contentsOf: events)
        for case .spans(let batch) in events where batch.holdsIngestReservation {
            gate.release(spans: batch.spans.count)
        }
    }

    /// The OTLP receivers that run.
    public var receivers: [OTLPReceiverCollector] { collectors.compactMap { $0 as? OTLPReceiverCollector } }

    /// Maps a view's chaos request to the simulator. Returns `false` when no simulator runs.
    @discardableResult
    public func perform(chaos kind: ChaosKind, region: String, lagSeconds: Double) -> Bool {
        guard let simulator else { return false }
        switch kind {
        case .takeDown: simulator.send(.takeDown(region: region))
        case .injectLag: simulator.send(.injectLag(region: region, seconds: lagSeconds))
        case .recover: simulator.send(.recover(region: region))
        }
        return true
    }

    /// Chaos kinds, mirroring the view's request without the UI depending on collectors.
    public enum ChaosKind: Sendable {
        case takeDown, injectLag, recover
    }
}
