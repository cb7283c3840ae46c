import NIOCore

/// First in every connection to the OTLP/gRPC port: counts the connection against the
/// listener's cap (closing at once above it), and reads the first bytes. A client speaking
/// HTTP/1 (an OTLP/HTTP exporter pointed at 4317) gets an HTTP/1.1 `400` that says what is
/// wrong, is counted, and is closed: without this it saw only a reset connection. The HTTP/2
/// handlers behind it learn of the connection only once the HTTP/2 preface arrived (so they
/// write nothing an HTTP/1 client would have to read past), and a client that sends no preface
/// within the header timeout is closed, so silent sockets cannot hold the cap.
final class WrongTransportGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let context: OTLPReceiverContext
    private let port: Int
    /// Whether the first bytes are read: not under TLS, where they are a ClientHello (a client
    /// that does not speak TLS fails its handshake instead).
    private let sniffs: Bool
    private var counted = false
    private var refused = false
    private var heldActive = false
    private var preface = PrefaceReader()
    private var deadline: Scheduled<Void>?

    init(context: OTLPReceiverContext, port: Int, sniffs: Bool = true) {
        self.context = context
        self.port = port
        self.sniffs = sniffs
    }

    /// What an HTTP/1 client on the gRPC port is told.
    static func explanation(port: Int) -> String {
        "an OTLP/HTTP client is sending to the OTLP/gRPC port \(port); send to the OTLP/HTTP port (4318) or switch the exporter to grpc"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added after the connection became active: count it now.
        guard context.channel.isActive else { return }
        admit(context: context)
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        if sniffs {
            heldActive = true  // passed on with the preface
        } else {
            context.fireChannelActive()
        }
    }

    private func admit(context: ChannelHandlerContext) {
        guard !counted, !refused else { return }
        if self.context.budget.openConnection() {
            counted = true
            let timeout = TimeAmount.milliseconds(Int64(self.context.settings.limits.headerTimeoutSeconds * 1000))
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        } else {
            refused = true
            self.context.statistics.withLock { $0.connectionsRefused += 1 }
            self.context.recordRefusal(
                code: .resourceExhausted,
                message: "too many connections (\(self.context.settings.limits.maxConnections))")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if counted {
            counted = false
            self.context.budget.closeConnection()
        }
        if !heldActive { context.fireChannelInactive() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Leaves the pipeline once the preface is seen; the connection stays counted until it
        // closes, through a handler that only watches for that.
        deadline?.cancel()
        if counted {
            counted = false
            let budget = self.context.budget
            context.channel.closeFuture.whenComplete { _ in budget.closeConnection() }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard sniffs else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            return
        }
        switch preface.read(unwrapInboundIn(data)) {
        case .needMore:
            return
        case .preface(let bytes):
            if heldActive {
                heldActive = false
                context.fireChannelActive()
            }
            context.fireChannelRead(wrapInboundOut(bytes))
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        case .other:
            refused = true
            refuseHTTP1(context: context)
        }
    }

    /// What a gRPC client on the OTLP/HTTP port is told (in an HTTP/2 GOAWAY's debug data).
    static func http2Explanation(port: Int) -> String {
        "an OTLP/gRPC client is sending to the OTLP/HTTP port \(port); send to the OTLP/gRPC port (4317) or switch the exporter to http/protobuf"
    }

    /// An HTTP/2 SETTINGS frame (empty) and a GOAWAY frame (last stream 0, HTTP_1_1_REQUIRED,
    /// `debug` as its debug data): the most an HTTP/1 server can tell an HTTP/2 client.
    static func goAway(debug: String) -> [UInt8] {
        let settings: [UInt8] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0]
        let payload: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x0D] + Array(debug.utf8)
        let length = payload.count
        let header: [UInt8] = [
            UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
            UInt8(truncatingIfNeeded: length), 0x7, 0, 0, 0, 0, 0,
        ]
        return settings + header + payload
    }

    private func refuseHTTP1(context: ChannelHandlerContext) {
        let message = Self.explanation(port: context.channel.localAddress?.port ?? port)
        self.context.statistics.withLock {
            $0.wrongProtocolConnections += 1
            $0.lastRefusal = message
        }
        let body = message + "\n"
        let response =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            + body
        var buffer = context.channel.allocator.buffer(capacity: response.utf8.count)
        buffer.writeString(response)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// After the connection cap on the OTLP/HTTP port: a client that opens with the HTTP/2 preface
/// (a gRPC exporter pointed at 4318) gets an HTTP/2 GOAWAY whose debug data says what is wrong,
/// is counted, and is closed (the HTTP/1 parser would only have failed). Anything else passes,
/// and the guard leaves the pipeline.
final class HTTP2PrefaceGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let context: OTLPReceiverContext
    private let port: Int
    private var preface = PrefaceReader()
    private var refused = false

    init(context: OTLPReceiverContext, port: Int) {
        self.context = context
        self.port = port
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch preface.read(unwrapInboundIn(data)) {
        case .needMore:
            return
        case .preface:
            refused = true
            refuseHTTP2(context: context)
        case .other(let bytes):
            context.fireChannelRead(wrapInboundOut(bytes))
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
    }

    private func refuseHTTP2(context: ChannelHandlerContext) {
        let message = WrongTransportGuard.http2Explanation(port: context.channel.localAddress?.port ?? port)
        self.context.statistics.withLock {
            $0.wrongProtocolConnections += 1
            $0.lastRefusal = message
        }
        let frames = WrongTransportGuard.goAway(debug: message)
        var buffer = context.channel.allocator.buffer(capacity: frames.count)
        buffer.writeBytes(frames)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Gathers a connection's first bytes until they are, or cannot be, the HTTP/2 preface.
struct PrefaceReader {
    enum Outcome {
        /// The bytes so far are a prefix of the preface.
        case needMore
        /// The whole preface arrived; these are every byte read (the preface and what followed).
        case preface(ByteBuffer)
        /// Not the preface; these are every byte read.
        case other(ByteBuffer)
    }

    private var buffered: ByteBuffer?

    mutating func read(_ bytes: ByteBuffer) -> Outcome {
        var incoming = bytes
        if var pending = buffered {
            pending.writeBuffer(&incoming)
            incoming = pending
        }
        let prefix = WrongTransportGuard.http2Preface
        let available = min(incoming.readableBytes, prefix.count)
        let head = incoming.getBytes(at: incoming.readerIndex, length: available) ?? []
        guard head.elementsEqual(prefix.prefix(available)) else {
            buffered = nil
            return .other(incoming)
        }
        guard available == prefix.count else {
            buffered = incoming
            return .needMore
        }
        buffered = nil
        return .preface(incoming)
    }
}
