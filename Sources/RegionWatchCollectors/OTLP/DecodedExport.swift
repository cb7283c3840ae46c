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
    /// Each reason's count and the arrival (the span's place in the request) that first gave
    /// it: the message lists reasons in the order the request gave them.
    private var reasons: [String: (count: Int, first: Int)] = [:]
    /// The arrival of each span in `spans`, for the reasons found at export.
    private var arrivals: [Int32] = []
    private var nextArrival = 0
    static let maxSpansPerTrace = TraceStoreLimits().maxSpansPerTrace
    /// Distinct reasons remembered (the message lists the first ones; all are counted).
    static let reasonLimit = 64

    mutating func reject(_ reason: String) {
        reject(reason, count: 1, arrival: nextArrival)
        nextArrival += 1
    }

    private mutating func reject(_ reason: String, count: Int, arrival: Int) {
        rejected += count
        if let known = reasons[reason] {
            reasons[reason] = (known.count + count, min(known.first, arrival))
        } else if reasons.count < Self.reasonLimit {
            reasons[reason] = (count, arrival)
        }
    }

    /// Adds `span` unless it is invalid; `true` when added.
    @discardableResult
    mutating func add(_ span: IncomingSpan) -> Bool {
        if let problem = SpanValidation.problem(of: span) {
            reject(problem)
            return false
        }
        spans.append(span)
        arrivals.append(Int32(truncatingIfNeeded: nextArrival))
        nextArrival += 1
        return true
    }

    /// Writes the typed attributes, events and links of the spans (as the JSON decoder reads
    /// them) in OTLP's wire encoding into one buffer for the request, as the protobuf reader
    /// keeps them: the store then copies each span's bytes instead of encoding them itself,
    /// and this runs on the receiver's thread, not the dashboard's.
    mutating func encodeDetails() {
        var buffer = ContiguousArray<UInt8>()
        var ranges: [(position: Int, range: Range<Int>)] = []
        for position in spans.indices
        where !spans[position].attributes.isEmpty || !spans[position].events.isEmpty
            || !spans[position].links.isEmpty
        {
            let start = buffer.count
            OTLPWire.writeDetails(
                attributes: spans[position].attributes, droppedAttributes: 0, events: spans[position].events,
                links: spans[position].links, statusMessage: "", into: &buffer)
            ranges.append((position, start..<buffer.count))
            spans[position].attributes = []
            spans[position].events = []
            spans[position].links = []
        }
        guard !ranges.isEmpty else { return }
        let shared = Array(buffer)
        for (position, range) in ranges { spans[position].encodedDetails = shared[range] }
    }

    /// The request's valid spans. What the trace store would refuse (a second span with the
    /// same id, a trace past its span limit) is refused here too, so the client's
    /// `partial_success` counts it: found once per request by sorting the spans' keys, which
    /// costs less than hashing every span into a set as it arrives.
    consuming func export(source: String, receivedAt: Timestamp) -> DecodedExport {
        let refused = RequestSpanLimits.refused(in: spans, maxSpansPerTrace: Self.maxSpansPerTrace)
        if !refused.isEmpty {
            for (position, isDuplicate) in refused {
                reject(
                    isDuplicate
                        ? "duplicate span id in the request" : "trace has more than \(Self.maxSpansPerTrace) spans",
                    count: 1, arrival: Int(arrivals[position]))
            }
            var kept: [IncomingSpan] = []
            kept.reserveCapacity(spans.count - refused.count)
            var next = refused.lazy.map(\.position).makeIterator()
            var skip = next.next()
            for (position, span) in spans.enumerated() {
                if position == skip {
                    skip = next.next()
                } else {
                    kept.append(span)
                }
            }
            spans = kept
        }
        return DecodedExport(
            batch: SpanBatch(
                source: source, receivedAt: receivedAt, resources: resources, scopes: scopes, spans: spans),
            rejectedSpans: rejected,
            rejectionReasons: reasons.sorted { $0.value.first < $1.value.first }.prefix(16).map {
                ($0.key, $0.value.count)
            }
        )
    }
}

/// The spans of one request the trace store would refuse: a repeated span id within a trace
/// (the first is kept), and spans of a trace past its limit (the earliest are kept).
enum RequestSpanLimits {
    /// Positions to refuse, ascending, each with whether it repeats an id (else it is past its
    /// trace's limit).
    static func refused(
        in spans: [IncomingSpan], maxSpansPerTrace: Int
    ) -> [(position: Int, isDuplicate: Bool)] {
        guard spans.count > 1 else { return [] }
        var keys = spans.indices.map { position in
            Key(
                high: spans[position].traceID.high, low: spans[position].traceID.low,
                span: spans[position].spanID.value, position: Int32(position))
        }
        keys.sort()
        var positions: [(position: Int, isDuplicate: Bool)] = []
        var groupStart = 0
        while groupStart < keys.count {
            var groupEnd = groupStart + 1
            while groupEnd < keys.count, keys[groupEnd].high == keys[groupStart].high,
                keys[groupEnd].low == keys[groupStart].low
            {
                groupEnd += 1
            }
            var distinct: [Int32] = []
            for index in groupStart..<groupEnd {
                if index > groupStart, keys[index].span == keys[index - 1].span {
                    positions.append((Int(keys[index].position), true))
                } else if groupEnd - groupStart > maxSpansPerTrace {
                    distinct.append(keys[index].position)
                }
            }
            if distinct.count > maxSpansPerTrace {
                distinct.sort()
                for position in distinct[maxSpansPerTrace...] { positions.append((Int(position), false)) }
            }
            groupStart = groupEnd
        }
        positions.sort { $0.position < $1.position }
        return positions
    }

    private struct Key: Comparable {
        var high: UInt64
        var low: UInt64
        var span: UInt64
        var position: Int32

        static func < (left: Key, right: Key) -> Bool {
            (left.high, left.low, left.span, left.position) < (right.high, right.low, right.span, right.position)
        }
    }
}
