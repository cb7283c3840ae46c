import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RegionWatchCore

/// One HTTP request a collector makes.
public struct HTTPFetchRequest: Sendable {
    public enum Method: String, Sendable, Equatable {
        case get = "GET"
        case head = "HEAD"
        case post = "POST"
    }

    public var method: Method
    public var target: HTTPTarget
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Whole request, from connect to the last body byte.
    public var timeoutSeconds: Double
    /// Larger bodies fail the request instead of being held.
    public var maxBodyBytes: Int
    /// Checks the server's certificate chain and name (https only).
    public var verifiesCertificates: Bool

    public init(
        method: Method = .get, target: HTTPTarget, headers: [(String, String)] = [], body: [UInt8] = [],
        timeoutSeconds: Double = 2, maxBodyBytes: Int = 16 << 20, verifiesCertificates: Bool = true
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.maxBodyBytes = maxBodyBytes
        self.verifiesCertificates = verifiesCertificates
    }
}

/// A complete response.
public struct HTTPFetchResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Seconds from the start of the request to the end of the response.
    public var seconds: Double
    /// Expiry of the server's certificate (https only).
    public var certificateExpiry: Timestamp?

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// Why a request failed, in words an operator recognises.
public enum HTTPFetchError: Error, Equatable, Sendable, CustomStringConvertible {
    case connectionRefused(String)
    case timedOut(seconds: Double)
    case tls(String)
    case bodyTooLarge(limit: Int)
    case closedEarly
    case failed(String)

    public var description: String {
        switch self {
        case .connectionRefused(let address): "connection refused by \(address)"
        case .timedOut(let seconds): "timed out after \(Format.duration(seconds))"
        case .tls(let detail): "TLS: \(detail)"
        case .bodyTooLarge(let limit): "response body larger than \(Format.bytes(Double(limit)))"
        case .closedEarly: "connection closed before the response was complete"
        case .failed(let detail): detail
        }
    }
}

/// A small HTTP/1.1 client on swift-nio (and swift-nio-ssl for https): one connection per
/// request, a deadline on the whole exchange, a bound on the body, and the peer certificate's
/// expiry. Enough for scrapes, queries and probes; nothing it reads is unbounded.
public final class HTTPFetcher: Sendable {
    private let group: EventLoopGroup
    private let verifyingContext: NIOSSLContext?
    private let trustingContext: NIOSSLContext?

    public init(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
        verifyingContext = try? NIOSSLContext(configuration: .makeClientConfiguration())
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.certificateVerification = .none
        trustingContext = try? NIOSSLContext(configuration: trusting)
    }

    /// Performs `request`.
    public func fetch(_ request: HTTPFetchRequest) async throws(HTTPFetchError) -> HTTPFetchResponse {
        let started = MonotonicClock.seconds()
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: HTTPFetchResponse.self)
        let target = request.target
        let sslContext = target.isTLS ? (request.verifiesCertificates ? verifyingContext : trustingContext) : nil
        if target.isTLS, sslContext == nil { throw .tls("no TLS context could be created") }
        let timeout = TimeAmount.nanoseconds(Int64(max(0.001, request.timeoutSeconds) * 1e9))
        let isAddress = target.host.contains(":") || target.host.allSatisfy { $0.isNumber || $0 == "." }
        let maxBody = request.maxBodyBytes
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let sslContext {
                        try operations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : target.host))
                    }
                    try operations.addHTTPClientHandlers()
                    try operations.addHandler(
                        ResponseCollector(
                            promise: promise, maxBodyBytes: maxBody, started: started, isTLS: target.isTLS))
                }
            }
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTPFetchError.timedOut(seconds: request.timeoutSeconds))
        }
        defer { deadline.cancel() }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: target.host, port: target.port).get()
        } catch {
            promise.fail(error)
            throw Self.describe(error, target: target, timeout: request.timeoutSeconds)
        }
        var head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue), uri: target.pathAndQuery)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "User-Agent", value: "regionwatch")
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method == .post {
            head.headers.add(name: "Content-Length", value: "\(request.body.count)")
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !request.body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: request.body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        do {
            return try await promise.futureResult.get()
        } catch {
            throw Self.describe(error, target: target, timeout: request.timeoutSeconds)
        }
    }

    static func describe(_ error: Error, target: HTTPTarget, timeout: Double) -> HTTPFetchError {
        if let fetchError = error as? HTTPFetchError { return fetchError }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return .timedOut(seconds: timeout)
        }
        if let sslError = error as? NIOSSLError { return .tls("\(sslError)") }
        if let sslError = error as? BoringSSLError { return .tls("\(sslError)") }
        let text = "\(error)"
        if text.contains("connection refused") || text.contains("Connection refused") || text.contains("errno: 111") {
            return .connectionRefused("\(target.host):\(target.port)")
        }
        if let connectError = error as? NIOConnectionError {
            if connectError.connectionErrors.contains(where: {
                "\($0.error)".contains("refused") || "\($0.error)".contains("111")
            }) {
                return .connectionRefused("\(target.host):\(target.port)")
            }
            if let first = connectError.connectionErrors.first {
                return .failed("cannot connect to \(target.host):\(target.port): \(first.error)")
            }
            if let dns = connectError.dnsAAAAError ?? connectError.dnsAError {
                return .failed("cannot resolve \(target.host): \(dns)")
            }
        }
        return .failed(text)
    }
}

/// Collects one response; completes the promise at its end, on an error, or when the
/// connection closes early.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPFetchResponse>
    private let maxBodyBytes: Int
    private let started: Double
    private let isTLS: Bool
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var expiry: Timestamp?
    private var isDone = false

    init(promise: EventLoopPromise<HTTPFetchResponse>, maxBodyBytes: Int, started: Double, isTLS: Bool) {
        self.promise = promise
        self.maxBodyBytes = maxBodyBytes
        self.started = started
        self.isTLS = isTLS
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isDone else { return }
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
            if isTLS, let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate() {
                expiry = Timestamp(secondsSinceEpoch: Double(certificate.notValidAfter))
            }
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= maxBodyBytes else {
                finish(context: context, with: .failure(HTTPFetchError.bodyTooLarge(limit: maxBodyBytes)))
                return
            }
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else {
                finish(context: context, with: .failure(HTTPFetchError.closedEarly))
                return
            }
            let response = HTTPFetchResponse(
                status: Int(head.status.code),
                headers: head.headers.map { ($0.name, $0.value) },
                body: body,
                seconds: MonotonicClock.seconds() - started,
                certificateExpiry: expiry
            )
            finish(context: context, with: .success(response))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(context: context, with: .failure(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context, with: .failure(HTTPFetchError.closedEarly))
    }

    private func finish(context: ChannelHandlerContext, with result: Result<HTTPFetchResponse, Error>) {
        guard !isDone else { return }
        isDone = true
        promise.completeWith(result)
        context.close(promise: nil)
    }
}
