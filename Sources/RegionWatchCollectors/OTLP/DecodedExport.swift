import RegionWatchCore

/// One decoded OTLP export request: the valid spans, and what was rejected and why.
public struct DecodedExport: Sendable {
    public var batch: SpanBatch
    public var rejectedSpans: Int
    /// Rejection reasons with counts, for the partial-success message.
    public var rejectionReasons: [(reason: String, count: Int)]

    /// The `partial_success.error_message` text, or `nil` when nothing was rejected.
    public var rejectionMessage: String? {
        RejectionTally.message(
            rejected: rejectedSpans, accepted: batch.spans.count, noun: OTLPSignal.traces.itemNoun,
            reasons: rejectionReasons)
    }
}

extension DecodedExport {
    /// Runs a decoder over an array's bytes without copying them, keeping its typed error
    /// (`withUnsafeBytes` only rethrows untyped errors).
    static func decoding(
        _ bytes: [UInt8], with decode: (UnsafeRawBufferPointer) throws(OTLPDecodingError) -> DecodedExport
    ) throws(OTLPDecodingError) -> DecodedExport {
        let result: Result<DecodedExport, OTLPDecodingError> = bytes.withUnsafeBytes { buffer in
            do throws(OTLPDecodingError) {
                return .success(try decode(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// A request body that cannot be decoded at all (the client gets 400 with this message).
public struct OTLPDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    /// Whether the body was refused for its size (gRPC: RESOURCE_EXHAUSTED), not its content.
    public var isTooLarge = false

    public init(_ description: String, isTooLarge: Bool = false) {
        self.description = description
        self.isTooLarge = isTooLarge
    }
}

/// Collects valid spans and rejection reasons while decoding.
struct ExportAccumulator {
    var resources: [SpanResource] = []
    var scopes: [SpanScope] = []
    var spans: [IncomingSpan] = []
    var rejected = 0
    var reasons: [String: Int] = [:]
    var reasonOrder: [String] = []
    /// Spans of this request by trace and id: what the trace store would refuse (a second
    /// span with the same id, a trace past its span limit) is refused here too, so the client's
    /// `partial_success` counts it.
    private var seen: Set<SpanKey> = []
    private var spansPerTrace: [TraceID: Int] = [:]
    static let maxSpansPerTrace = TraceStoreLimits().maxSpansPerTrace

    private struct SpanKey: Hashable {
        var trace: TraceID
        var span: SpanID
    }

    mutating func reject(_ reason: String) {
        rejected += 1
        if reasons[reason] == nil {
            guard reasons.count < 16 else { return }
            reasonOrder.append(reason)
        }
        reasons[reason, default: 0] += 1
    }

    /// Adds `span` unless it is invalid.
    mutating func add(_ span: IncomingSpan) {
        if let problem = SpanValidation.problem(of: span) {
            reject(problem)
        } else if !seen.insert(SpanKey(trace: span.traceID, span: span.spanID)).inserted {
            reject("duplicate span id in the request")
        } else if spansPerTrace[span.traceID, default: 0] >= Self.maxSpansPerTrace {
            reject("trace has more than \(Self.maxSpansPerTrace) spans")
        } else {
            spansPerTrace[span.traceID, default: 0] += 1
            spans.append(span)
        }
    }

    func export(source: String, receivedAt: Timestamp) -> DecodedExport {
        DecodedExport(
            batch: SpanBatch(
                source: source, receivedAt: receivedAt, resources: resources, scopes: scopes, spans: spans),
            rejectedSpans: rejected,
            rejectionReasons: reasonOrder.map { ($0, reasons[$0] ?? 0) }
        )
    }
}
