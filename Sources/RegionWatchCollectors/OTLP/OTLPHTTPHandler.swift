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
    /// Connections open and body bytes held, against `settings.limits`.
    let budget: ListenerBudget
    /// The collector's metrics, shared by both transports.
    let metrics: OTLPMetricsFeed
    /// Wrong-transport connections already noticed, and when.
    private let wrongTransportNoticeState = Mutex<(reported: Int, at: Timestamp)>((0, Timestamp(secondsSinceEpoch: 0)))

    /// `receiver`, `listenAddress` and `transport` name the listener in its counters (the HTTP
    /// receiver's by default).
    init(
        settings: OTLPReceiverSettings, bus: EventBus<DashboardEvent>, gate: IngestGate, clock: WallClock,
        receiver: String? = nil, listenAddress: String? = nil, transport: String = "http",
        metrics: OTLPMetricsFeed? = nil
    ) {
        self.settings = settings
        self.bus = bus
        self.gate = gate
        self.clock = clock
        budget = ListenerBudget(limits: settings.limits)
        self.metrics = metrics ?? OTLPMetricsFeed(settings: settings)
        var statistics = ReceiverStatistics(
            receiver: receiver ?? settings.name, listenAddress: listenAddress ?? settings.listenAddress,
            observedAt: clock.now())
        statistics.transport = transport
        self.statistics = Mutex(statistics)
    }

    /// The counters, with the connections open now.
    var currentStatistics: ReceiverStatistics {
        var current = statistics.withLock { $0 }
        current.connectionsOpen = budget.openConnections
        current.bodyBytesHeld = budget.heldBodyBytes
        return current
    }

    /// Takes room on the ingest gate for a request's spans or log records, publishes them (the
    /// consumer gives the room back once they are applied), turns metrics into signals and
    /// counts the request. Returns why it could not (ingest saturated: the caller refuses with
    /// its transport's retryable status).
    func accept(_ request: DecodedSignalRequest, byteCount: Int) -> String? {
        let received: Int
        switch request {
        case .traces(var export):
            received = export.batch.spans.count
            export.batch.holdsIngestReservation = true
            guard publishReserving(received, .spans(export.batch)) else { return saturated() }
        case .logs(var export):
            received = export.batch.records.count
            export.batch.holdsIngestReservation = true
            guard publishReserving(received, .logs(export.batch)) else { return saturated() }
        case .metrics(let export):
            received = export.pointCount
            let round = metrics.events(for: export, at: clock.now())
            bus.publish(contentsOf: round.events)
            if !round.rejected.isEmpty {
                statistics.withLock {
                    $0.metricSignalsRejected += round.rejected.count
                    $0.lastMetricSignalRejection = round.rejected.last
                }
            }
        }
        let rejected = request.rejected, message = request.rejectionMessage, signal = request.signal
        statistics.withLock {
            $0.requestsAccepted += 1
            $0.bytesReceived += byteCount
            $0.signals[signal.rawValue, default: ReceiverStatistics.SignalCounts()].record(
                received: received, rejected: rejected, message: message)
        }
        return nil
    }

    /// Reserves room for `count` items on the gate and publishes `event`, which holds it;
    /// `false` when ingest is saturated. Nothing to hold, nothing published.
    private func publishReserving(_ count: Int, _ event: @autoclosure () -> DashboardEvent) -> Bool {
        guard count > 0 else { return true }
        guard gate.tryReserve(spans: count) else { return false }
        bus.publish(event())
        return true
    }

    private func saturated() -> String {
        "ingest saturated (\(gate.spansInFlight) items waiting); retry later"
    }

    /// Publishes the counters and a heartbeat (`collector`'s status) every report interval, and
    /// a warning when clients spoke the other transport, until cancelled. Both receivers' loop.
    func reportUntilCancelled(collector: String) async {
        while !Task.isCancelled {
            let now = clock.now()
            var statistics = currentStatistics
            statistics.observedAt = now
            bus.publish(
                contentsOf: [
                    .receiverStatistics(statistics),
                    .collectorStatus(OTLPReceiverCollector.report(collector: collector, at: now, error: nil)),
                ])
            if let notice = wrongTransportNotice(at: now) { bus.publish(.notice(notice)) }
            if let report = metrics.report(at: now) { bus.publish(.collectorStatus(report)) }
            do {
                try await Task.sleep(for: .seconds(OTLPReceiverCollector.reportInterval))
            } catch {
                return
            }
        }
    }

    /// A warning for the events panel when clients spoke the other transport since the last
    /// one (at most one a minute): the misconfiguration is otherwise invisible on screen.
    func wrongTransportNotice(at now: Timestamp) -> Notice? {
        let (count, last) = statistics.withLock { ($0.wrongProtocolConnections, $0.lastRefusal) }
        return wrongTransportNoticeState.withLock { state -> Notice? in
            guard count > state.reported, now.seconds(since: state.at) >= 60 || state.reported == 0 else { return nil }
            let new = count - state.reported
            state = (count, now)
            return Notice(
                at: now, severity: .warning,
                message:
                    "\(settings.name): \(new) connection\(new == 1 ? "" : "s") on the wrong transport: \(last ?? "")")
        }
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

/// Serves `POST /v1/traces`, `/v1/metrics` and `/v1/logs` on one connection, following the OTLP/HTTP specification, within
/// the listener's limits: a request head must arrive in time, a keep-alive connection may idle
/// only so long, a body must keep a minimum rate, body memory is reserved from the listener's
/// budget, an oversized declared body is refused before it is sent, and `Expect: 100-continue`
/// is answered.
final class OTLPHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// The body accumulates in `body`, which the connection reuses across requests.
        case receiving(keepAlive: Bool, encoding: OTLPEncoding, signal: OTLPSignal)
        /// The request will be refused once its body has been read (or skipped).
        case refusing(
            keepAlive: Bool, status: HTTPResponseStatus, message: String, encoding: OTLPEncoding?,
            extraHeaders: [(String, String)])
        /// A response was sent and the connection is closing.
        case closed
    }

    private let shared: OTLPReceiverContext
    private var state = State.idle
    /// The request body. A busy connection reuses it for its next request (up to
    /// `retainedBodyCapacity`); a larger one is released after its request, and any is released
    /// once the connection has been idle for a second (a thousand idle keep-alive connections
    /// must not each hold megabytes).
    private var body = ByteBufferAllocator().buffer(capacity: 0)
    /// Body bytes reserved from the listener's budget for the request under way.
    private var reserved = 0
    /// Since when the connection waits for a request head, and how long it may.
    private var waitingSince = NIODeadline.now()
    private var waitLimit: TimeAmount
    /// The request body under way: when its head came, bytes seen, when the last came.
    private var bodyStartedAt: NIODeadline?
    private var bodyBytesSeen = 0
    private var lastBodyByteAt = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// A body larger than this is not kept for the next request.
    static let retainedBodyCapacity = 1 << 20
    /// An idle connection keeps no more than this.
    static let idleBodyCapacity = 4 * 1024

    init(context: OTLPReceiverContext) {
        shared = context
        waitLimit = .nanoseconds(Int64(context.settings.limits.headerTimeoutSeconds * 1e9))
    }

    func channelActive(context: ChannelHandlerContext) {
        waitingSince = .now()
        scheduleCheck(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        releaseBody()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            bodyStartedAt = .now()
            lastBodyByteAt = .now()
            bodyBytesSeen = 0
            state = start(head)
            respondEarly(to: head, context: context)
        case .body(var part):
            bodyBytesSeen += part.readableBytes
            lastBodyByteAt = .now()
            guard case .receiving(_, let encoding, _) = state else { break }
            if body.readableBytes + part.readableBytes > shared.settings.maxBodyBytes {
                state = .refusing(
                    keepAlive: false, status: .payloadTooLarge,
                    message: "request body larger than \(shared.settings.maxBodyBytes) bytes (after decompression)",
                    encoding: encoding, extraHeaders: [])
                releaseBody()
            } else if body.readableBytes + part.readableBytes > reserved {
                // A body of unknown (or understated) length grows its reservation as it comes.
                let needed = body.readableBytes + part.readableBytes - reserved
                guard shared.budget.reserveBody(needed) else {
                    // The rest is read and dropped, then 503: a client that sends its whole
                    // body before reading gets the answer instead of a reset connection.
                    state = .refusing(
                        keepAlive: true, status: .serviceUnavailable, message: Self.budgetMessage(shared),
                        encoding: encoding, extraHeaders: [("Retry-After", "1")])
                    releaseBody()
                    return
                }
                reserved += needed
                body.writeBuffer(&part)
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            bodyStartedAt = nil
            finish(context: context)
            waitingSince = .now()
            waitLimit = .nanoseconds(Int64(shared.settings.limits.idleTimeoutSeconds * 1e9))
        }
    }

    private static func budgetMessage(_ shared: OTLPReceiverContext) -> String {
        "receiver busy: request bodies in flight would pass \(shared.settings.limits.maxInFlightBodyBytes) bytes; retry later"
    }

    /// Answers at once what need not wait for the body: a refusal of a declared-oversize body
    /// (then closes, so the client stops sending), any refusal a client waiting for `100
    /// Continue` asked about, `100 Continue` otherwise. A body refused for the in-flight budget
    /// is read and dropped first (its memory is not held), so the client reads the `503`.
    private func respondEarly(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let expectsContinue = head.headers.first(name: "expect")?.lowercased() == "100-continue"
        switch state {
        case .refusing(_, let status, let message, let encoding, let extraHeaders) where status == .payloadTooLarge:
            state = .idle
            refuse(
                context: context, status: status, message: message, encoding: encoding, keepAlive: false,
                extraHeaders: extraHeaders)
        case .refusing(_, let status, let message, let encoding, let extraHeaders) where expectsContinue:
            // The client waits for our word before sending the body: this is it.
            state = .idle
            refuse(
                context: context, status: status, message: message, encoding: encoding, keepAlive: false,
                extraHeaders: extraHeaders)
        case .receiving where expectsContinue:
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        default:
            break
        }
    }

    private func releaseBody() {
        shared.budget.releaseBody(reserved)
        reserved = 0
        if body.capacity > Self.retainedBodyCapacity {
            body = ByteBufferAllocator().buffer(capacity: 0)
        } else {
            body.clear()
        }
    }

    /// Every second: a connection that waits too long for a head, or whose body stalls or
    /// trickles, is closed (a body with `408 Request Timeout`); one idle for a second gives
    /// back its body buffer.
    private func scheduleCheck(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
            guard context.channel.isActive else { return }
            let limits = shared.settings.limits
            let now = NIODeadline.now()
            if let started = bodyStartedAt {
                let elapsed = Double((now - started).nanoseconds) / 1e9
                let stalled = Double((now - lastBodyByteAt).nanoseconds) / 1e9 > limits.headerTimeoutSeconds
                let trickling =
                    elapsed > limits.headerTimeoutSeconds
                    && Double(bodyBytesSeen) / elapsed < limits.minimumBodyBytesPerSecond
                if stalled || trickling {
                    let why =
                        stalled
                        ? "no body bytes for \(Format.duration(limits.headerTimeoutSeconds))"
                        : "body slower than \(Int(limits.minimumBodyBytesPerSecond)) bytes/s"
                    state = .idle
                    releaseBody()
                    refuse(
                        context: context, status: .requestTimeout, message: "request timed out: \(why)", encoding: nil,
                        keepAlive: false)
                    return
                }
            } else if body.capacity > Self.idleBodyCapacity, now - waitingSince > .seconds(1) {
                body = ByteBufferAllocator().buffer(capacity: 0)
            }
            if bodyStartedAt == nil, now - waitingSince > waitLimit {
                // No request under way: an idle or silent connection is simply closed.
                shared.statistics.withLock { $0.connectionsTimedOut += 1 }
                context.close(promise: nil)
                return
            }
            scheduleCheck(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let encoding: OTLPEncoding?
        switch state {
        case .receiving(_, let current, _): encoding = current
        case .refusing(_, _, _, let current, _): encoding = current
        default: encoding = nil
        }
        switch error {
        case let error as NIOHTTPDecompression.DecompressionError where error == .limit:
            refuse(
                context: context, status: .payloadTooLarge,
                message: "request body larger than \(shared.settings.maxBodyBytes) bytes after decompression",
                encoding: encoding, keepAlive: false)
        case is NIOHTTPDecompression.DecompressionError, is NIOHTTPDecompression.ExtraDecompressionError:
            refuse(
                context: context, status: .badRequest, message: "invalid compressed body: \(error)", encoding: encoding,
                keepAlive: false)
        case is HTTPParserError:
            refuse(
                context: context, status: .badRequest, message: "malformed HTTP request: \(error)", encoding: encoding,
                keepAlive: false)
        default:
            context.close(promise: nil)
        }
    }

    private func start(_ head: HTTPRequestHead) -> State {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let contentType =
            head.headers.first(name: "content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
            .lowercased() ?? ""
        let encoding: OTLPEncoding? =
            switch contentType {
            case "application/x-protobuf": .protobuf
            case "application/json": .json
            default: nil
            }
        guard let signal = OTLPSignal.served(at: path) else {
            return .refusing(
                keepAlive: keepAlive, status: .notFound,
                message: "not found: this receiver serves POST /v1/traces, /v1/metrics and /v1/logs", encoding: nil,
                extraHeaders: [])
        }
        guard head.method == .POST else {
            return .refusing(
                keepAlive: keepAlive, status: .methodNotAllowed, message: "method \(head.method) not allowed: use POST",
                encoding: nil, extraHeaders: [("Allow", "POST")])
        }
        if let token = shared.settings.bearerToken {
            let given = head.headers.first(name: "authorization") ?? ""
            guard BearerToken.matches(given, token: token) else {
                return .refusing(
                    keepAlive: keepAlive, status: .unauthorized,
                    message: given.isEmpty ? "missing bearer token" : "wrong bearer token", encoding: encoding,
                    extraHeaders: [("WWW-Authenticate", "Bearer")])
            }
        }
        guard let encoding else {
            return .refusing(
                keepAlive: keepAlive, status: .unsupportedMediaType,
                message: "unsupported content type '\(contentType)': use application/x-protobuf or application/json",
                encoding: nil, extraHeaders: [])
        }
        let contentEncoding =
            head.headers.first(name: "content-encoding")?.lowercased().trimmingCharacters(in: .whitespaces)
            ?? "identity"
        guard ["identity", "gzip", "deflate", "x-gzip"].contains(contentEncoding) else {
            return .refusing(
                keepAlive: keepAlive, status: .unsupportedMediaType,
                message: "unsupported content encoding '\(contentEncoding)': use gzip or none", encoding: encoding,
                extraHeaders: [])
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init),
            length > shared.settings.maxBodyBytes
        {
            return .refusing(
                keepAlive: false, status: .payloadTooLarge,
                message: "request body of \(length) bytes is larger than \(shared.settings.maxBodyBytes) bytes",
                encoding: encoding, extraHeaders: [])
        }
        releaseBody()
        if let expected = head.headers.first(name: "content-length").flatMap(Int.init), expected > 0 {
            // Held memory is reserved up front for a declared length.
            guard shared.budget.reserveBody(expected) else {
                return .refusing(
                    keepAlive: keepAlive, status: .serviceUnavailable, message: Self.budgetMessage(shared),
                    encoding: encoding, extraHeaders: [("Retry-After", "1")])
            }
            reserved = expected
            body.reserveCapacity(expected)
        }
        return .receiving(keepAlive: keepAlive, encoding: encoding, signal: signal)
    }

    private func finish(context: ChannelHandlerContext) {
        let current = state
        state = .idle
        switch current {
        case .idle, .closed:
            return
        case .refusing(let keepAlive, let status, let message, let encoding, let extraHeaders):
            refuse(
                context: context, status: status, message: message, encoding: encoding, keepAlive: keepAlive,
                extraHeaders: extraHeaders)
        case .receiving(let keepAlive, let encoding, let signal):
            accept(signal: signal, encoding: encoding, keepAlive: keepAlive, context: context)
            releaseBody()
        }
    }

    private func accept(signal: OTLPSignal, encoding: OTLPEncoding, keepAlive: Bool, context: ChannelHandlerContext) {
        let settings = shared.settings
        let now = shared.clock.now()
        let byteCount = body.readableBytes
        // Decoded in place from the connection's buffer: no copy of the body.
        let decoded: Result<DecodedSignalRequest, OTLPDecodingError> = body.withUnsafeReadableBytes { bytes in
            do throws(OTLPDecodingError) {
                return .success(try signal.decode(bytes, encoding: encoding, settings: settings, receivedAt: now))
            } catch {
                return .failure(error)
            }
        }
        let request: DecodedSignalRequest
        switch decoded {
        case .success(let value):
            request = value
        case .failure(let error):
            refuse(
                context: context, status: .badRequest, message: error.description, encoding: encoding,
                keepAlive: keepAlive)
            return
        }
        if let saturated = shared.accept(request, byteCount: byteCount) {
            refuse(
                context: context, status: .tooManyRequests, message: saturated, encoding: encoding,
                keepAlive: keepAlive, extraHeaders: [("Retry-After", "1")])
            return
        }
        let body: [UInt8] =
            switch encoding {
            case .protobuf: request.protobufResponse
            case .json: request.jsonResponse
            }
        respond(context: context, status: .ok, contentType: encoding.contentType, body: body, keepAlive: keepAlive)
    }

    private func refuse(
        context: ChannelHandlerContext, status: HTTPResponseStatus, message: String, encoding: OTLPEncoding?,
        keepAlive: Bool, extraHeaders: [(String, String)] = []
    ) {
        if case .closed = state { return }
        shared.recordRefusal(status: status, message: message)
        let code = OTLPResponses.rpcCode(for: status)
        switch encoding {
        case .protobuf:
            respond(
                context: context, status: status, contentType: OTLPEncoding.protobuf.contentType,
                body: OTLPProtobufDecoder.status(code: code, message: message), keepAlive: keepAlive,
                extraHeaders: extraHeaders)
        case .json:
            respond(
                context: context, status: status, contentType: OTLPEncoding.json.contentType,
                body: OTLPResponses.jsonStatus(code: code, message: message), keepAlive: keepAlive,
                extraHeaders: extraHeaders)
        case nil:
            respond(
                context: context, status: status, contentType: "text/plain; charset=utf-8",
                body: Array((message + "\n").utf8), keepAlive: keepAlive, extraHeaders: extraHeaders)
        }
        if !keepAlive { state = .closed }
    }

    private func respond(
        context: ChannelHandlerContext, status: HTTPResponseStatus, contentType: String, body: [UInt8], keepAlive: Bool,
        extraHeaders: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count))])
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
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
}

extension ChannelHandlerContext {
    func writeAndFlushPromise() -> EventLoopPromise<Void> {
        eventLoop.makePromise(of: Void.self)
    }
}

/// Response bodies in OTLP/JSON and the gRPC status codes OTLP uses.
enum OTLPResponses {
    /// A `google.rpc.Status` in JSON.
    static func jsonStatus(code: Int32, message: String) -> [UInt8] {
        Array(#"{"code":\#(code),"message":\#(quoted(message))}"#.utf8)
    }

    static func rpcCode(for status: HTTPResponseStatus) -> Int32 {
        switch status {
        case .badRequest, .payloadTooLarge, .unsupportedMediaType: 3  // INVALID_ARGUMENT
        case .unauthorized: 16  // UNAUTHENTICATED
        case .tooManyRequests: 8  // RESOURCE_EXHAUSTED
        case .serviceUnavailable: 14  // UNAVAILABLE
        case .notFound, .methodNotAllowed: 12  // UNIMPLEMENTED
        default: 2  // UNKNOWN
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
