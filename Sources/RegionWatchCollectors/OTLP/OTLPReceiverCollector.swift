import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix
import RegionWatchCore
import Synchronization

/// The OTLP/HTTP trace receiver as a collector: listens, decodes exports on its event loops,
/// publishes span batches (within the ingest gate's bound) and, every second, its counters and
/// a heartbeat. When the address cannot be bound it says why and retries.
public final class OTLPReceiverCollector: Collector {
    public let name: String
    public let settings: OTLPReceiverSettings
    private let gate: IngestGate
    private let bound = Mutex<Int?>(nil)
    private let context = Mutex<OTLPReceiverContext?>(nil)
    /// Seconds between statistics reports (and binding retries ×5).
    static let reportInterval = 1.0

    private let metrics: OTLPMetricsFeed

    /// `metrics` is shared with the gRPC receiver of the same collector.
    public init(settings: OTLPReceiverSettings, gate: IngestGate, metrics: OTLPMetricsFeed? = nil) {
        name = settings.name
        self.settings = settings
        self.gate = gate
        self.metrics = metrics ?? OTLPMetricsFeed(settings: settings)
    }

    /// The port actually listened on (useful with port 0), once bound.
    public var boundPort: Int? { bound.withLock { $0 } }

    /// The receiver's counters right now.
    public var currentStatistics: ReceiverStatistics {
        context.withLock { $0?.currentStatistics }
            ?? ReceiverStatistics(
                receiver: name, listenAddress: settings.listenAddress, observedAt: SystemWallClock().now())
    }

    public func run(publishingTo bus: EventBus<DashboardEvent>, clock: WallClock) async {
        // The connection cap must sit below the open-file limit, not at the default 1024, and
        // request bodies' memory must go back to the system once they are freed.
        ListenerLimits.prepareProcess()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(2, System.coreCount)))
        let context = OTLPReceiverContext(settings: settings, bus: bus, gate: gate, clock: clock, metrics: metrics)
        self.context.withLock { $0 = context }
        if let channel = await bindRetrying(group: group, context: context, bus: bus, clock: clock) {
            await serve(channel: channel, context: context, bus: bus, clock: clock)
            bound.withLock { $0 = nil }
            try? await channel.close()
        }
        try? await group.shutdownGracefully()
    }

    /// Binds, retrying every few seconds (with the error visible) until bound or cancelled.
    private func bindRetrying(
        group: EventLoopGroup, context: OTLPReceiverContext, bus: EventBus<DashboardEvent>, clock: WallClock
    ) async -> Channel? {
        while !Task.isCancelled {
            do {
                let channel = try await bind(group: group, context: context)
                bound.withLock { $0 = channel.localAddress?.port }
                return channel
            } catch {
                bus.publish(
                    .collectorStatus(
                        Self.report(
                            collector: name, at: clock.now(),
                            error: "cannot listen on \(settings.listenAddress): \(error)")))
                try? await Task.sleep(for: .seconds(5 * Self.reportInterval))
            }
        }
        return nil
    }

    /// Publishes counters and a heartbeat every second until cancelled.
    private func serve(
        channel: Channel, context: OTLPReceiverContext, bus: EventBus<DashboardEvent>, clock: WallClock
    ) async {
        bus.publish(
            .notice(
                Notice(
                    at: clock.now(), severity: .info,
                    message:
                        "OTLP receiver listening on \(settings.host):\(channel.localAddress?.port ?? settings.port)")))
        await context.reportUntilCancelled(collector: name)
    }

    /// A receiver's status. A push receiver has no regions of its own; it feeds whichever
    /// regions spans name.
    static func report(collector: String, at time: Timestamp, error: String?) -> CollectorReport {
        CollectorReport(
            collector: collector, kind: "otlp", observedAt: time, intervalSeconds: reportInterval * 5, regions: [],
            error: error)
    }

    private func bind(group: EventLoopGroup, context: OTLPReceiverContext) async throws -> Channel {
        let maxBody = settings.maxBodyBytes
        let limits = settings.limits
        let port = settings.port
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionCapHandler(budget: context.budget) {
                            context.recordRefusal(
                                status: .serviceUnavailable, message: "too many connections (\(limits.maxConnections))")
                            context.statistics.withLock { $0.connectionsRefused += 1 }
                        })
                    try channel.pipeline.syncOperations.addHandler(HTTP2PrefaceGuard(context: context, port: port))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    try channel.pipeline.syncOperations.addHandler(NIOHTTPRequestDecompressor(limit: .size(maxBody)))
                    try channel.pipeline.syncOperations.addHandler(OTLPHTTPHandler(context: context))
                }
            }
            .bind(host: settings.host, port: settings.port)
            .get()
    }
}
