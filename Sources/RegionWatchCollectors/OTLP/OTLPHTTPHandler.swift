import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import RegionWatchCore
import Synchronization

/// What every connection of a receiver shares.
final class OTLPReceiverContext: Sendable {
    let settings: OTLPReceiverSettings
    let bus: EventBus<DashboardEvent>
    let gate: IngestGate
    let clock: WallClock
    let statistics: Mutex<ReceiverStatistics>

    init(settings: OTLPReceiverSettings, bus: EventBus<DashboardEvent>, gate: IngestGate, clock: WallClock) {
        self.settings = settings
        self.bus = bus
        self.gate = gate
        self.clock = clock
        statistics = Mutex(ReceiverStatistics(receiver: settings.name, listenAddress: settings.listenAddress, observedAt: clock.now()))
    }

    func recordRefusal(status: HTTPResponseStatus, message: String) {
        statistics.withLock {
            $0.requestsRefused += 1
            $0.refusalsByStatus[Int(status.code), default: 0] += 1
            $0.lastRefusal = "HTTP \(status.code): \(message)"
        }
    }
}

/// Request encodings OTLP/HTTP defines.
enum OTLPEncoding {
    case protobuf
    case json

    var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }
}

/// Serves `POST /v1/traces` on one connection, following the OTLP/HTTP specification.
final class OTLPHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// The body accumulates in `body`, which the connection reuses across requests.
        case receiving(keepAlive: Bool, encoding: OTLPEncoding)
        /// The request will be refused once its body has been read (or skipped).
        case refusing(keepAlive: Bool, status: HTTPResponseStatus, message: String, encoding: OTLPEncoding?, extraHeaders: [(String, String)])
        /// A response was sent and the connection is closing.
        case closed
    }

    private let shared: OTLPReceiverContext
    private var state = State.idle
    /// The request body; kept (cleared) between requests so its memory is reused.
    private var body = ByteBufferAllocator().buffer(capacity: 0)

    init(context: OTLPReceiverContext) {
        shared = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            state = start(head)
        case .body(var part):
            guard case .receiving(_, let encoding) = state else { break }
            if body.readableBytes + part.readableBytes > shared.settings.maxBodyBytes {
                state = .refusing(keepAlive: false, status: .payloadTooLarge, message: "request body larger than \(shared.settings.maxBodyBytes) bytes (after decompression)", encoding: encoding, extraHeaders: [])
                body.clear()
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            finish(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let encoding: OTLPEncoding?
        switch state {
        case .receiving(_, let current): encoding = current
        case .refusing(_, _, _, let current, _): encoding = current
        default: encoding = nil
        }
        switch error {
        case let error as NIOHTTPDecompression.DecompressionError where error == .limit:
            refuse(context: context, status: .payloadTooLarge, message: "request body larger than \(shared.settings.maxBodyBytes) bytes after decompression", encoding: encoding, keepAlive: false)
        case is NIOHTTPDecompression.DecompressionError, is NIOHTTPDecompression.ExtraDecompressionError:
            refuse(context: context, status: .badRequest, message: "invalid compressed body: \(error)", encoding: encoding, keepAlive: false)
        case is HTTPParserError:
            refuse(context: context, status: .badRequest, message: "malformed HTTP request: \(error)", encoding: encoding, keepAlive: false)
        default:
            context.close(promise: nil)
        }
    }

    private func start(_ head: HTTPRequestHead) -> State {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let contentType = head.headers.first(name: "content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let encoding: OTLPEncoding? = switch contentType {
        case "application/x-protobuf": .protobuf
        case "application/json": .json
        default: nil
        }
        guard path == "/v1/traces" else {
            return .refusing(keepAlive: keepAlive, status: .notFound, message: "not found: this receiver serves POST /v1/traces", encoding: nil, extraHeaders: [])
        }
        guard head.method == .POST else {
            return .refusing(keepAlive: keepAlive, status: .methodNotAllowed, message: "method \(head.method) not allowed: use POST", encoding: nil, extraHeaders: [("Allow", "POST")])
        }
        if let token = shared.settings.bearerToken {
            let given = head.headers.first(name: "authorization") ?? ""
            guard constantTimeEquals(given, "Bearer " + token) else {
                return .refusing(keepAlive: keepAlive, status: .unauthorized, message: given.isEmpty ? "missing bearer token" : "wrong bearer token", encoding: encoding, extraHeaders: [("WWW-Authenticate", "Bearer")])
            }
        }
        guard let encoding else {
            return .refusing(keepAlive: keepAlive, status: .unsupportedMediaType, message: "unsupported content type '\(contentType)': use application/x-protobuf or application/json", encoding: nil, extraHeaders: [])
        }
        let contentEncoding = head.headers.first(name: "content-encoding")?.lowercased().trimmingCharacters(in: .whitespaces) ?? "identity"
        guard ["identity", "gzip", "deflate", "x-gzip"].contains(contentEncoding) else {
            return .refusing(keepAlive: keepAlive, status: .unsupportedMediaType, message: "unsupported content encoding '\(contentEncoding)': use gzip or none", encoding: encoding, extraHeaders: [])
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > shared.settings.maxBodyBytes {
            return .refusing(keepAlive: false, status: .payloadTooLarge, message: "request body of \(length) bytes is larger than \(shared.settings.maxBodyBytes) bytes", encoding: encoding, extraHeaders: [])
        }
        body.clear()
        if let expected = head.headers.first(name: "content-length").flatMap(Int.init) {
            body.reserveCapacity(min(expected, shared.settings.maxBodyBytes))
        }
        return .receiving(keepAlive: keepAlive, encoding: encoding)
    }

    private func finish(context: ChannelHandlerContext) {
        let current = state
        state = .idle
        switch current {
        case .idle, .closed:
            return
        case .refusing(let keepAlive, let status, let message, let encoding, let extraHeaders):
            refuse(context: context, status: status, message: message, encoding: encoding, keepAlive: keepAlive, extraHeaders: extraHeaders)
        case .receiving(let keepAlive, let encoding):
            accept(encoding: encoding, keepAlive: keepAlive, context: context)
            body.clear()
        }
    }

    private func accept(encoding: OTLPEncoding, keepAlive: Bool, context: ChannelHandlerContext) {
        let settings = shared.settings
        let now = shared.clock.now()
        let byteCount = body.readableBytes
        // Decoded in place from the connection's buffer: no copy of the body.
        let decoded: Result<DecodedExport, OTLPDecodingError> = body.withUnsafeReadableBytes { bytes in
            do throws(OTLPDecodingError) {
                switch encoding {
                case .protobuf: return .success(try OTLPProtobufDecoder.decode(bytes, attribution: settings.attribution, source: settings.name, receivedAt: now))
                case .json: return .success(try OTLPJSONDecoder.decode(bytes, attribution: settings.attribution, source: settings.name, receivedAt: now))
                }
            } catch {
                return .failure(error)
            }
        }
        var export: DecodedExport
        switch decoded {
        case .success(let value):
            export = value
        case .failure(let error):
            refuse(context: context, status: .badRequest, message: error.description, encoding: encoding, keepAlive: keepAlive)
            return
        }
        let spanCount = export.batch.spans.count
        if spanCount > 0 {
            guard shared.gate.tryReserve(spans: spanCount) else {
                refuse(context: context, status: .tooManyRequests, message: "ingest saturated (\(shared.gate.spansInFlight) spans waiting); retry later", encoding: encoding, keepAlive: keepAlive, extraHeaders: [("Retry-After", "1")])
                return
            }
            export.batch.holdsIngestReservation = true
            shared.bus.publish(.spans(export.batch))
        }
        shared.statistics.withLock {
            $0.requestsAccepted += 1
            $0.spansReceived += spanCount
            $0.spansRejected += export.rejectedSpans
            $0.bytesReceived += byteCount
        }
        let body: [UInt8] = switch encoding {
        case .protobuf: OTLPProtobufDecoder.response(for: export)
        case .json: OTLPResponses.json(for: export)
        }
        respond(context: context, status: .ok, contentType: encoding.contentType, body: body, keepAlive: keepAlive)
    }

    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, message: String, encoding: OTLPEncoding?, keepAlive: Bool, extraHeaders: [(String, String)] = []) {
        if case .closed = state { return }
        shared.recordRefusal(status: status, message: message)
        let code = OTLPResponses.rpcCode(for: status)
        switch encoding {
        case .protobuf:
            respond(context: context, status: status, contentType: OTLPEncoding.protobuf.contentType, body: OTLPProtobufDecoder.status(code: code, message: message), keepAlive: keepAlive, extraHeaders: extraHeaders)
        case .json:
            respond(context: context, status: status, contentType: OTLPEncoding.json.contentType, body: OTLPResponses.jsonStatus(code: code, message: message), keepAlive: keepAlive, extraHeaders: extraHeaders)
        case nil:
            respond(context: context, status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8), keepAlive: keepAlive, extraHeaders: extraHeaders)
        }
        if !keepAlive { state = .closed }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, contentType: String, body: [UInt8], keepAlive: Bool, extraHeaders: [(String, String)] = []) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count))])
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlushPromise()
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
    }

    private func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8), right = Array(rhs.utf8)
        var difference = left.count ^ right.count
        for index in 0..<max(left.count, right.count) {
            difference |= Int((index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0))
        }
        return difference == 0
    }
}

extension ChannelHandlerContext {
    func writeAndFlushPromise() -> EventLoopPromise<Void> {
        eventLoop.makePromise(of: Void.self)
    }
}

/// Response bodies in OTLP/JSON and the gRPC status codes OTLP uses.
enum OTLPResponses {
    /// `{}` or `{"partialSuccess":{"rejectedSpans":"N","errorMessage":"…"}}`.
    static func json(for export: DecodedExport) -> [UInt8] {
        guard let message = export.rejectionMessage else { return Array("{}".utf8) }
        return Array(#"{"partialSuccess":{"rejectedSpans":"\#(export.rejectedSpans)","errorMessage":\#(quoted(message))}}"#.utf8)
    }

    /// A `google.rpc.Status` in JSON.
    static func jsonStatus(code: Int32, message: String) -> [UInt8] {
        Array(#"{"code":\#(code),"message":\#(quoted(message))}"#.utf8)
    }

    static func rpcCode(for status: HTTPResponseStatus) -> Int32 {
        switch status {
        case .badRequest, .payloadTooLarge, .unsupportedMediaType: 3 // INVALID_ARGUMENT
        case .unauthorized: 16 // UNAUTHENTICATED
        case .tooManyRequests: 8 // RESOURCE_EXHAUSTED
        case .serviceUnavailable: 14 // UNAVAILABLE
        case .notFound, .methodNotAllowed: 12 // UNIMPLEMENTED
        default: 2 // UNKNOWN
        }
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
