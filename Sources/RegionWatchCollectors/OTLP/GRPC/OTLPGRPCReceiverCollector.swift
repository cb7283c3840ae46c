import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import RegionWatchCore
import Synchronization

/// The OTLP/gRPC receiver (default `127.0.0.1:4317`): `TraceService/Export` on grpc-swift 2
/// over HTTP/2, with the OTLP/HTTP receiver's attribution, bearer token, size limit
/// (`RESOURCE_EXHAUSTED` above it, also after gzip), ingest gate (`UNAVAILABLE` with RetryInfo
/// while saturated) and connection cap. Every second it publishes its counters and a
/// heartbeat, as the HTTP receiver does.
public final class OTLPGRPCReceiverCollector: Collector {
    public let name: String
    public let settings: OTLPReceiverSettings
    public let listen: OTLPReceiverSettings.GRPCListen
    private let gate: IngestGate
    private let context = Mutex<OTLPReceiverContext?>(nil)
    private let bound = Mutex<Int?>(nil)

    /// `settings.grpc` must be set; `gate` is shared with the HTTP receiver.
    private let metrics: OTLPMetricsFeed

    /// `metrics` is shared with the HTTP receiver of the same collector.
    public init(settings: OTLPReceiverSettings, gate: IngestGate, metrics: OTLPMetricsFeed? = nil) {
        self.settings = settings
        listen = settings.grpc ?? OTLPReceiverSettings.GRPCListen()
        name = settings.name + "-grpc"
        self.gate = gate
        self.metrics = metrics ?? OTLPMetricsFeed(settings: settings)
    }

    /// The bound port once listening (useful when configured with port 0).
    public var boundPort: Int? { bound.withLock { $0 } }

    public var currentStatistics: ReceiverStatistics {
        context.withLock { $0?.currentStatistics }
            ?? ReceiverStatistics(receiver: name, listenAddress: listen.address, observedAt: SystemWallClock().now())
    }

    public func run(publishingTo bus: EventBus<DashboardEvent>, clock: WallClock) async {
        ListenerLimits.prepareProcess()
        let context = OTLPReceiverContext(
            settings: settings, bus: bus, gate: gate, clock: clock, receiver: name, listenAddress: listen.address,
            transport: "grpc", metrics: metrics)
        self.context.withLock { $0 = context }
        // Its own event loops, as the HTTP receiver has: decompressing a large message never
        // holds up the probes and scrapes on NIO's shared loops.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(2, System.coreCount)))
        defer { Task { try? await loops.shutdownGracefully() } }
        while !Task.isCancelled {
            let server = GRPCServer(
                transport: transport(context: context, loops: loops), services: [OTLPExportServices(context: context)])
            let serveError = ServeError()
            let outcome = await withTaskGroup(of: Bool.self) { group -> String? in
                // `true` when serving ended (failed, or the listener went away).
                group.addTask {
                    do { try await server.serve() } catch { serveError.text.withLock { $0 = "\(error)" } }
                    return true
                }
                do {
                    let address = try await server.listeningAddress
                    bound.withLock { $0 = address?.ipv4?.port ?? address?.ipv6?.port }
                } catch {
                    server.beginGracefulShutdown()
                    await group.waitForAll()
                    let cause = serveError.text.withLock { $0 } ?? "\(error)"
                    return "cannot listen on \(listen.address): \(cause)"
                }
                bus.publish(
                    .notice(
                        Notice(
                            at: clock.now(), severity: .info,
                            message: "OTLP/gRPC receiver listening on \(listen.host):\(boundPort ?? listen.port)")))
                group.addTask {
                    await context.reportUntilCancelled(collector: self.name)
                    return false
                }
                // Whichever ends first: cancellation ends the reporter; a server that stopped
                // serving on its own is reported and bound again, never shown as healthy.
                let servingEnded = await group.next() ?? false
                server.beginGracefulShutdown()
                group.cancelAll()
                await group.waitForAll()
                guard servingEnded, !Task.isCancelled else { return nil }
                return
                    "stopped serving on \(listen.address): \(serveError.text.withLock { $0 } ?? "the listener closed")"
            }
            bound.withLock { $0 = nil }
            guard let problem = outcome else { return }
            bus.publish(
                .collectorStatus(OTLPReceiverCollector.report(collector: name, at: clock.now(), error: problem)))
            try? await Task.sleep(for: .seconds(5 * OTLPReceiverCollector.reportInterval))
        }
    }

    private func transport(
        context: OTLPReceiverContext, loops: MultiThreadedEventLoopGroup
    ) -> HTTP2ServerTransport.Posix {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        // grpc-swift resets a stream whose message passes the transport's limit (the client
        // sees no status), so the transport allows up to 4× and the handler refuses anything
        // above the configured limit with RESOURCE_EXHAUSTED, as OTLP asks.
        config.rpc.maxRequestPayloadSize = Self.transportLimit(for: settings.maxBodyBytes)
        config.compression.enabledAlgorithms = [.gzip, .deflate]
        // A connection with no call may idle this long, as a keep-alive connection on HTTP.
        config.connection.maxIdleTime = .milliseconds(Int64(settings.limits.idleTimeoutSeconds * 1000))
        let port = listen.port
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            if let tls = listen.tls {
                .tls(
                    certificateChain: [.file(path: tls.certificatePath, format: .pem)],
                    privateKey: .file(path: tls.keyPath, format: .pem))
            } else {
                .plaintext
            }
        let sniffs = listen.tls == nil
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            channel.pipeline.addHandler(
                WrongTransportGuard(context: context, port: port, sniffs: sniffs), position: .first)
        }
        return HTTP2ServerTransport.Posix(
            address: listen.host.contains(":")
                ? .ipv6(host: listen.host, port: listen.port) : .ipv4(host: listen.host, port: listen.port),
            transportSecurity: security, config: config, eventLoopGroup: loops)
    }

    /// The transport's own message limit, after decompression: past it grpc-swift resets the
    /// stream; below it the handler answers with a status.
    static func transportLimit(for maxBodyBytes: Int) -> Int {
        maxBodyBytes > Int.max / 4 ? Int.max : maxBodyBytes * 4
    }
}

/// Why `serve()` ended, read once binding failed.
private final class ServeError: Sendable {
    let text = Mutex<String?>(nil)
}
