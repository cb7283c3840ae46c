import Logging
import RegionWatchCollectors
import RegionWatchCore
import ServiceLifecycle

/// Builds the collectors a configuration names and runs them as services of one
/// `ServiceGroup`, each publishing onto one bus; `stop()` shuts them down gracefully. Used by
/// the dashboard and the headless `status` and `failover` commands.
public final class CollectionPipeline: @unchecked Sendable {
    public let bus = EventBus<DashboardEvent>()
    /// Bounds spans in flight from receivers to whoever applies them.
    public let gate = IngestGate()
    public let collectors: [Collector]
    /// The simulator, when one runs (the demo chaos keys talk to it).
    public let simulator: SimulatorCollector?
    private let clock: WallClock
    private var task: Task<Void, Never>?
    private var group: ServiceGroup?
    private let logger: Logger

    /// Collectors for `configuration`; the service group logs to `logger` (nothing by default:
    /// a log line on standard error would land on the dashboard's screen).
    public init(
        configuration: RegionWatchConfiguration, clock: WallClock,
        logger: Logger = Logger(label: "regionwatch.collectors", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.clock = clock
        self.logger = logger
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
                // One metrics feed per collector: a series is the same whichever transport brings it.
                let metrics = OTLPMetricsFeed(settings: settings)
                if settings.httpEnabled {
                    collectors.append(OTLPReceiverCollector(settings: settings, gate: gate, metrics: metrics))
                }
                if settings.grpc != nil {
                    collectors.append(OTLPGRPCReceiverCollector(settings: settings, gate: gate, metrics: metrics))
                }
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
        // A collector that ends (a receiver that cannot bind) leaves the others running: its
        // failure is on the bus as a notice and in its status, never a reason to stop watching.
        let services = collectors.map { collector in
            ServiceGroupConfiguration.ServiceConfiguration(
                service: CollectorService(collector: collector, bus: bus, clock: clock),
                successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore,
                serviceName: "collector \(collector.name)"
            )
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        self.group = group
        task = Task.detached {
            do {
                try await group.run()
            } catch {
                // Only a programming error (running the group twice) gets here.
                assertionFailure("collector service group: \(error)")
            }
        }
    }

    /// Shuts every collector down gracefully and waits until they have finished.
    public func stop() async {
        await group?.triggerGracefulShutdown()
        await task?.value
        task = nil
        group = nil
    }

    /// Stops every collector without waiting (cancellation: the process is leaving).
    public func cancel() {
        task?.cancel()
    }

    /// Subscribes as the consumer that applies the events, and so gives back the ingest
    /// reservations of span and log batches: a batch its full buffer drops gives its room back
    /// too (otherwise a burst of other events could leave receivers refusing for good).
    public func subscribeAsConsumer(
        capacity: Int, wake: WakePolicy<DashboardEvent> = .anyEvent, onAvailable: (@Sendable () -> Void)? = nil
    ) -> EventSubscription<DashboardEvent> {
        let gate = gate
        return bus.subscribe(capacity: capacity, wake: wake, onAvailable: onAvailable) { dropped in
            for items in dropped.ingestReservations { gate.release(spans: items) }
        }
    }

    /// Applies drained events to `state` as one batch (roles, links and health are derived
    /// once for it), then releases the ingest reservations of span batches.
    public func apply(_ events: [DashboardEvent], to state: inout DashboardState) {
        state.apply(contentsOf: events)
        for spans in events.ingestReservations { gate.release(spans: spans) }
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

/// A collector as a service: it runs until the group shuts down gracefully, which cancels its
/// loop (every collector stops on cancellation).
struct CollectorService: Service {
    let collector: Collector
    let bus: EventBus<DashboardEvent>
    let clock: WallClock

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await collector.run(publishingTo: bus, clock: clock)
        }
    }
}
