import RegionWatchCore

/// The three OpenTelemetry signals a receiver accepts, with what differs between them on the
/// wire: the OTLP/HTTP path, the gRPC service, and the names in `partial_success`.
public enum OTLPSignal: String, CaseIterable, Sendable {
    case traces
    case metrics
    case logs

    /// The OTLP/HTTP path, `/v1/traces`…
    public var path: String { "/v1/" + rawValue }

    /// The fully qualified gRPC service whose `Export` takes this signal.
    var grpcService: String {
        switch self {
        case .traces: "opentelemetry.proto.collector.trace.v1.TraceService"
        case .metrics: "opentelemetry.proto.collector.metrics.v1.MetricsService"
        case .logs: "opentelemetry.proto.collector.logs.v1.LogsService"
        }
    }

    /// The request message's name, for error messages.
    var requestName: String {
        switch self {
        case .traces: "ExportTraceServiceRequest"
        case .metrics: "ExportMetricsServiceRequest"
        case .logs: "ExportLogsServiceRequest"
        }
    }

    /// What the signal counts: `spans`, `data points`, `log records`.
    public var itemNoun: String {
        switch self {
        case .traces: "spans"
        case .metrics: "data points"
        case .logs: "log records"
        }
    }

    /// The OTLP/JSON name of the rejected count in `partialSuccess`.
    var rejectedField: String {
        switch self {
        case .traces: "rejectedSpans"
        case .metrics: "rejectedDataPoints"
        case .logs: "rejectedLogRecords"
        }
    }

    /// The signal served at `path`, if any.
    static func served(at path: String) -> OTLPSignal? {
        allCases.first { $0.path == path }
    }
}

/// Items refused inside an otherwise accepted request, with counts per reason (at most 16
/// reasons), for `partial_success`.
struct RejectionTally: Sendable {
    private(set) var count = 0
    private var counts: [String: Int] = [:]
    private var order: [String] = []

    mutating func reject(_ reason: String) {
        count += 1
        if counts[reason] == nil {
            guard counts.count < 16 else { return }
            order.append(reason)
        }
        counts[reason, default: 0] += 1
    }

    /// Reasons in first-seen order.
    var reasons: [(reason: String, count: Int)] { order.map { ($0, counts[$0] ?? 0) } }

    /// `rejected 3 of 10 log records: invalid trace id (2), …`, or `nil` when nothing was.
    func message(accepted: Int, noun: String) -> String? {
        Self.message(rejected: count, accepted: accepted, noun: noun, reasons: reasons)
    }

    static func message(
        rejected: Int, accepted: Int, noun: String, reasons: [(reason: String, count: Int)]
    ) -> String? {
        guard rejected > 0 else { return nil }
        let listed = reasons.prefix(5).map { "\($0.reason) (\($0.count))" }.joined(separator: ", ")
        return "rejected \(rejected) of \(rejected + accepted) \(noun): \(listed)"
    }
}

/// What one decoded export request of any signal holds, and its answer.
enum DecodedSignalRequest: Sendable {
    case traces(DecodedExport)
    case metrics(DecodedMetrics)
    case logs(DecodedLogs)

    var signal: OTLPSignal {
        switch self {
        case .traces: .traces
        case .metrics: .metrics
        case .logs: .logs
        }
    }

    /// Items refused inside the request, and the `partial_success` message.
    var rejected: Int {
        switch self {
        case .traces(let export): export.rejectedSpans
        case .metrics(let export): export.rejected.count
        case .logs(let export): export.rejected.count
        }
    }

    var rejectionMessage: String? {
        switch self {
        case .traces(let export): export.rejectionMessage
        case .metrics(let export): export.rejectionMessage
        case .logs(let export): export.rejectionMessage
        }
    }

    /// The protobuf Export…ServiceResponse: field 1 `partial_success` {1 rejected, 2 message}
    /// when something was rejected, empty otherwise (the three signals' responses share it).
    var protobufResponse: [UInt8] {
        guard let message = rejectionMessage else { return [] }
        var inner: [UInt8] = [0x08]
        ProtobufWriter.appendVarint(UInt64(rejected), to: &inner)
        ProtobufWriter.appendField(2, Array(message.utf8), to: &inner)
        var response: [UInt8] = []
        ProtobufWriter.appendField(1, inner, to: &response)
        return response
    }

    /// The OTLP/JSON response: `{}` or `{"partialSuccess":{…}}`.
    var jsonResponse: [UInt8] {
        guard let message = rejectionMessage else { return Array("{}".utf8) }
        let field = signal.rejectedField
        return Array(
            #"{"partialSuccess":{"\#(field)":"\#(rejected)","errorMessage":\#(OTLPResponses.quoted(message))}}"#.utf8)
    }
}

/// The few protobuf encodings the receivers write by hand.
enum ProtobufWriter {
    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// A length-delimited field.
    static func appendField(_ number: UInt8, _ payload: [UInt8], to bytes: inout [UInt8]) {
        bytes.append(number << 3 | 2)
        appendVarint(UInt64(payload.count), to: &bytes)
        bytes.append(contentsOf: payload)
    }
}

extension OTLPSignal {
    /// Decodes an export request of this signal from bytes the caller owns.
    func decode(
        _ bytes: UnsafeRawBufferPointer, encoding: OTLPEncoding, settings: OTLPReceiverSettings, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedSignalRequest {
        let attribution = settings.attribution, source = settings.name
        switch (self, encoding) {
        case (.traces, .protobuf):
            return .traces(
                try OTLPProtobufDecoder.decode(bytes, attribution: attribution, source: source, receivedAt: receivedAt))
        case (.traces, .json):
            return .traces(
                try OTLPJSONDecoder.decode(bytes, attribution: attribution, source: source, receivedAt: receivedAt))
        case (.logs, .protobuf):
            return .logs(
                try OTLPLogsDecoder.decodeProtobuf(
                    bytes, attribution: attribution, source: source, receivedAt: receivedAt))
        case (.logs, .json):
            return .logs(
                try OTLPLogsDecoder.decodeJSON(bytes, attribution: attribution, source: source, receivedAt: receivedAt))
        case (.metrics, .protobuf):
            return .metrics(try OTLPMetricsDecoder.decodeProtobuf(bytes, attribution: attribution))
        case (.metrics, .json):
            return .metrics(try OTLPMetricsDecoder.decodeJSON(bytes, attribution: attribution))
        }
    }
}
