import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What every listener regionwatch opens (OTLP/HTTP now, others later) allows a client, so that
/// no client, idle or hostile, can exhaust its file descriptors, memory or patience.
public struct ListenerLimits: Equatable, Sendable {
    /// Connections open at once; more are answered `503` and closed at once.
    public var maxConnections: Int
    /// A new connection must deliver a complete request head within this time, and a body
    /// must not stall longer than this.
    public var headerTimeoutSeconds: Double
    /// A keep-alive connection may wait this long between requests.
    public var idleTimeoutSeconds: Double
    /// After the first `headerTimeoutSeconds` of a body, it must average at least this rate
    /// (a body trickled a byte at a time would hold its buffer for hours).
    public var minimumBodyBytesPerSecond: Double
    /// Bytes of request bodies held at once across all connections; a request that would pass
    /// it is answered `503` with `Retry-After`.
    public var maxInFlightBodyBytes: Int

    public init(
        maxConnections: Int = 512, headerTimeoutSeconds: Double = 10, idleTimeoutSeconds: Double = 60,
        minimumBodyBytesPerSecond: Double = 4096, maxInFlightBodyBytes: Int = 32 << 20
    ) {
        self.maxConnections = maxConnections
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.minimumBodyBytesPerSecond = minimumBodyBytesPerSecond
        self.maxInFlightBodyBytes = maxInFlightBodyBytes
    }

    /// Prepares the process for listeners: raises the open-file limit (see
    /// `raiseOpenFileLimit`) and has buffers above 4 MiB (large request bodies) mapped on their
    /// own, so that memory goes back to the system when they are freed (smaller ones stay in
    /// the heap, where reusing them is cheap). (glibc raises its mapping
    /// threshold after the first large buffer is freed, and from then on keeps such memory.)
    public static func prepareProcess() {
        raiseOpenFileLimit()
        #if canImport(Glibc)
        _ = glibcMallopt(glibcMmapThreshold, 4 << 20)
        #endif
    }

    /// Raises this process's soft limit on open files to its hard limit (a listener's cap then
    /// sits well below it). Returns the limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}

#if canImport(Glibc)
/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not export) and its
/// `M_MMAP_THRESHOLD` parameter number.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let glibcMmapThreshold: Int32 = -3
#endif

/// A listener's shared accounting: connections open and body bytes held, against its limits.
public final class ListenerBudget: Sendable {
    public let limits: ListenerLimits
    private let connections = Atomic<Int>(0)
    private let bodyBytes = Atomic<Int>(0)

    public init(limits: ListenerLimits) {
        self.limits = limits
    }

    /// Connections open now.
    public var openConnections: Int { connections.load(ordering: .relaxed) }
    /// Body bytes held now.
    public var heldBodyBytes: Int { bodyBytes.load(ordering: .relaxed) }

    /// Counts a new connection, unless the cap is reached (then nothing is counted).
    func openConnection() -> Bool {
        let (_, now) = connections.add(1, ordering: .relaxed)
        guard now > limits.maxConnections else { return true }
        connections.subtract(1, ordering: .relaxed)
        return false
    }

    func closeConnection() {
        connections.subtract(1, ordering: .relaxed)
    }

    /// Reserves `count` body bytes, unless that would pass the budget.
    func reserveBody(_ count: Int) -> Bool {
        let (_, now) = bodyBytes.add(count, ordering: .relaxed)
        guard now > limits.maxInFlightBodyBytes else { return true }
        bodyBytes.subtract(count, ordering: .relaxed)
        return false
    }

    func releaseBody(_ count: Int) {
        guard count > 0 else { return }
        bodyBytes.subtract(count, ordering: .relaxed)
    }
}

/// First in a connection's pipeline: counts it against the listener's cap, and when the cap is
/// reached answers `503` with `Retry-After` and closes before reading anything.
final class ConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let budget: ListenerBudget
    private let refused: @Sendable () -> Void
    private var counted = false

    /// `refused` is called for each connection turned away.
    init(budget: ListenerBudget, refused: @escaping @Sendable () -> Void) {
        self.budget = budget
        self.refused = refused
    }

    func channelActive(context: ChannelHandlerContext) {
        if budget.openConnection() {
            counted = true
            context.fireChannelActive()
            return
        }
        refused()
        let body = "too many connections (\(budget.limits.maxConnections)); retry later\n"
        let response =
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            + body
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection's bytes are never parsed.
        if counted { context.fireChannelRead(data) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counted = false
            budget.closeConnection()
        }
        context.fireChannelInactive()
    }
}
