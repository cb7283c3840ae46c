import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix
import RegionWatchCore

/// Sends already-encoded OTLP export requests over gRPC as fast as the receiver answers, on
/// several connections: the load generator's gRPC side.
public enum OTLPGRPCLoadClient {
    /// What one call came to.
    public enum Outcome: Sendable {
        case accepted
        /// `UNAVAILABLE` or `RESOURCE_EXHAUSTED`: the receiver asked to retry later.
        case refused
        case failed
    }

    /// Calls `signal`'s `Export` on `connections` connections (one client each) until
    /// `deadline` (monotonic seconds), with `body(connection, sequence)` as each request, and
    /// reports every outcome with the request's size.
    public static func run(
        host: String, port: Int, signal: OTLPSignal, token: String?, connections: Int, deadline: Double,
        body: @escaping @Sendable (Int, UInt64) -> [UInt8], record: @escaping @Sendable (Outcome, Int) -> Void
    ) async {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(connections, 2)))
        await withTaskGroup(of: Void.self) { group in
            for connection in 0..<connections {
                group.addTask {
                    await send(
                        host: host, port: port, signal: signal, token: token, connection: connection,
                        deadline: deadline, loops: loops, body: body, record: record)
                }
            }
        }
        try? await loops.shutdownGracefully()
    }

    private static func send(
        host: String, port: Int, signal: OTLPSignal, token: String?, connection: Int, deadline: Double,
        loops: MultiThreadedEventLoopGroup, body: @Sendable (Int, UInt64) -> [UInt8],
        record: @Sendable (Outcome, Int) -> Void
    ) async {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.http2.maxFrameSize = 1 << 20
        guard
            let transport = try? HTTP2ClientTransport.Posix(
                target: .ipv4(address: host == "localhost" ? "127.0.0.1" : host, port: port),
                transportSecurity: .plaintext, config: config, eventLoopGroup: loops)
        else {
            record(.failed, 0)
            return
        }
        var metadata: Metadata = [:]
        if let token { metadata.addString("Bearer \(token)", forKey: "authorization") }
        let descriptor = OTLPExportServices.export(of: signal)
        try? await withGRPCClient(transport: transport) { client in
            var sequence = UInt64(connection) << 40
            while MonotonicClock.seconds() < deadline {
                sequence += 1
                let message = body(connection, sequence)
                do {
                    try await client.unary(
                        request: ClientRequest(message: message, metadata: metadata), descriptor: descriptor,
                        serializer: RawResponseSerializer(), deserializer: DiscardingDeserializer(),
                        options: .defaults
                    ) { _ in }
                    record(.accepted, message.count)
                } catch let error as RPCError where [.unavailable, .resourceExhausted].contains(error.code) {
                    record(.refused, message.count)
                    try? await Task.sleep(for: .milliseconds(50))
                } catch {
                    record(.failed, message.count)
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }
}

/// Ignores the response message.
struct DiscardingDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws {}
}
