/// One kept span: a fixed-size record. Names index the trace's string table; details live in
/// the trace's byte blob.
struct StoredSpan: Sendable {
    var spanID: UInt64
    var parentSpanID: UInt64
    var startUnixNano: UInt64
    var durationNanos: UInt64
    var detailOffset: UInt32
    var name: UInt32
    var resource: UInt32
    var scope: UInt32
    var region: UInt16
    var kind: SpanKind
    var status: SpanStatusCode

    static let noDetails = UInt32.max
}

/// One kept trace with everything needed to list, filter and draw it.
struct StoredTrace: Sendable {
    let traceID: TraceID
    let generation: UInt32
    let ownerRegion: UInt16
    let firstSeen: Timestamp
    var lastUpdated: Timestamp
    var spans: ContiguousArray<StoredSpan> = []
    var details: ContiguousArray<UInt8> = []
    var strings: [String] = []
    private var stringIndex: [String: UInt32] = [:]
    private var spanIndex: [UInt64: Int32]?
    private(set) var resourceIDs = CompactIDs<UInt32>()
    private(set) var scopeIDs = CompactIDs<UInt32>()
    private(set) var regionIDs = CompactIDs<UInt16>()
    private(set) var errorCount = 0
    private(set) var startUnixNano: UInt64 = .max
    private(set) var endUnixNano: UInt64 = 0
    private(set) var rootPosition: Int?
    /// Parent span ids not (yet) kept, with how many kept children wait for each. Empty (and
    /// allocation-free) once a trace is whole; a trace whose root never arrives keeps one entry.
    private var awaitedParents: [UInt64: Int32] = [:]
    private(set) var crossRegionHops = 0
    private(set) var approximateBytes = 0
    private var stringBytes = 0

    /// Bytes of bookkeeping per trace besides its spans (record, table entries, queue entry).
    static let baseBytes = 320
    /// Above this many spans a trace keeps a span-id index instead of scanning.
    static let indexThreshold = 32

    init(traceID: TraceID, generation: UInt32, ownerRegion: UInt16, firstSeen: Timestamp) {
        self.traceID = traceID
        self.generation = generation
        self.ownerRegion = ownerRegion
        self.firstSeen = firstSeen
        lastUpdated = firstSeen
    }

    /// What a free slot of the store holds (no allocation).
    static let vacant = StoredTrace(
        traceID: TraceID(high: 0, low: 0), generation: 0, ownerRegion: 0, firstSeen: Timestamp(secondsSinceEpoch: 0))

    /// Position of the span with `spanID`, if kept.
    func position(of spanID: UInt64) -> Int? {
        if let spanIndex { return spanIndex[spanID].map(Int.init) }
        return spans.firstIndex { $0.spanID == spanID }
    }

    /// Records that this trace uses a resource; `true` the first time.
    mutating func retain(resource id: UInt32) -> Bool { resourceIDs.insert(id) }

    /// Records that this trace uses a scope; `true` the first time.
    mutating func retain(scope id: UInt32) -> Bool { scopeIDs.insert(id) }

    /// Appends a span and returns the cross-region hops it completes (with its parent, or with
    /// children that arrived before it).
    mutating func append(
        _ span: UnsafePointer<IncomingSpan>, resourceID: UInt32, scopeID: UInt32, regionID: UInt16,
        limits: TraceStoreLimits,
        at now: Timestamp
    ) -> [(from: UInt16, to: UInt16, latencyMilliseconds: Double)] {
        var detailOffset = StoredSpan.noDetails
        if span.pointee.hasDetails {
            detailOffset = UInt32(details.count)
            Self.appendDetailRecord(of: span, limits: limits, into: &details)
        }
        let stored = StoredSpan(
            spanID: span.pointee.spanID.value, parentSpanID: span.pointee.parentSpanID.value,
            startUnixNano: span.pointee.startUnixNano,
            durationNanos: span.pointee.endUnixNano - span.pointee.startUnixNano,
            detailOffset: detailOffset, name: intern(Self.truncated(span.pointee.name, to: 512)),
            resource: resourceID, scope: scopeID, region: regionID, kind: span.pointee.kind,
            status: span.pointee.statusCode
        )
        let position = spans.count
        // Most traces have a few spans: room for four at once instead of growing 1, 2, 4.
        if spans.isEmpty { spans.reserveCapacity(4) }
        spans.append(stored)
        if spanIndex != nil {
            spanIndex![stored.spanID] = Int32(position)
        } else if spans.count > Self.indexThreshold {
            var built: [UInt64: Int32] = [:]
            built.reserveCapacity(spans.count * 2)
            for (offset, kept) in spans.enumerated() { built[kept.spanID] = Int32(offset) }
            spanIndex = built
        }

        var hops: [(from: UInt16, to: UInt16, latencyMilliseconds: Double)] = []
        func hop(parent: StoredSpan, child: StoredSpan) {
            guard parent.region != child.region else { return }
            crossRegionHops += 1
            let latency =
                Double(parent.durationNanos > child.durationNanos ? parent.durationNanos - child.durationNanos : 0)
                / 1e6
            hops.append((parent.region, child.region, latency))
        }
        // Checked first: removing from an empty dictionary still hashed the key.
        let waitingChildren = awaitedParents.isEmpty ? 0 : awaitedParents.removeValue(forKey: stored.spanID) ?? 0
        if stored.parentSpanID == 0 {
            if rootPosition.map({ spans[$0].startUnixNano > stored.startUnixNano }) ?? true { rootPosition = position }
        } else if let parent = self.position(of: stored.parentSpanID), parent != position {
            hop(parent: spans[parent], child: stored)
        } else {
            awaitedParents[stored.parentSpanID, default: 0] += 1
        }
        if waitingChildren > 0 {
            // Only when this span is a parent others were waiting for: a scan per arrival would
            // make a trace whose root never arrives quadratic.
            var found: Int32 = 0
            for child in spans.indices where child != position && spans[child].parentSpanID == stored.spanID {
                hop(parent: stored, child: spans[child])
                found += 1
                if found == waitingChildren { break }
            }
        }

        if stored.status == .error { errorCount += 1 }
        startUnixNano = min(startUnixNano, stored.startUnixNano)
        endUnixNano = max(endUnixNano, span.pointee.endUnixNano)
        _ = regionIDs.insert(regionID)
        lastUpdated = max(lastUpdated, now)
        approximateBytes =
            spans.count * MemoryLayout<StoredSpan>.stride + details.count + stringBytes
            + (spanIndex.map { $0.count * 24 } ?? 0) + awaitedParents.count * 24 + (resourceIDs.count + scopeIDs.count)
            * 4
        return hops
    }

    /// The id of `string` in the trace's string table. Most traces name a handful of
    /// operations: those are found by a scan, and only a trace with many names builds an index
    /// (a dictionary per trace cost an allocation and a hash per span, and its memory freed at
    /// eviction).
    private mutating func intern(_ string: String) -> UInt32 {
        if stringIndex.isEmpty {
            if let position = strings.firstIndex(of: string) { return UInt32(position) }
        } else if let existing = stringIndex[string] {
            return existing
        }
        let id = UInt32(strings.count)
        strings.append(string)
        if !stringIndex.isEmpty {
            stringIndex[string] = id
        } else if strings.count > Self.stringScanLimit {
            stringIndex = Dictionary(uniqueKeysWithValues: strings.enumerated().map { ($1, UInt32($0)) })
        }
        stringBytes += string.utf8.count + 48
        return id
    }

    /// Distinct names found by a scan before the table gets an index.
    static let stringScanLimit = 16

    static func truncated(_ string: String, to bytes: Int) -> String {
        guard string.utf8.count > bytes else { return string }
        var cut = String(decoding: string.utf8.prefix(bytes), as: UTF8.self)
        while cut.utf8.count > bytes - 3, !cut.isEmpty { cut.removeLast() }
        return cut + "…"
    }

    /// Appends one span's details as a length-prefixed record of OTLP `Span` fields. Received
    /// protobuf bytes are kept as they are when within the limits; anything else is written
    /// from typed values, cut to the limits.
    static func appendDetailRecord(
        of span: UnsafePointer<IncomingSpan>, limits: TraceStoreLimits, into details: inout ContiguousArray<UInt8>
    ) {
        // Read in place through the buffer: binding the slice copied it (a retain and a
        // release of the request's buffer per span).
        let kept: Bool? = span.pointee.encodedDetails?.withUnsafeBufferPointer { encoded in
            guard encoded.count <= limits.maxDetailBytes else { return false }
            // The received bytes go straight into the blob: only a status message (rare: failed
            // spans) needs a field of its own, whose size must be known for the length prefix.
            var status = ContiguousArray<UInt8>()
            if !span.pointee.statusMessage.isEmpty {
                OTLPWire.writeDetails(
                    attributes: [], droppedAttributes: 0, events: [], links: [],
                    statusMessage: truncated(span.pointee.statusMessage, to: limits.maxValueBytes), into: &status)
            }
            OTLPWire.writeVarint(UInt64(encoded.count + status.count), into: &details)
            details.append(contentsOf: encoded)
            if !status.isEmpty { details.append(contentsOf: status) }
            return true
        }
        if kept == true { return }
        let span = span.pointee
        var record = ContiguousArray<UInt8>()
        let decoded = span.details
        let (attributes, dropped) = limited(decoded.attributes, limits)
        OTLPWire.writeDetails(
            attributes: attributes, droppedAttributes: dropped + decoded.droppedAttributes,
            events: decoded.events.prefix(limits.maxEventsPerSpan).map {
                SpanEvent(
                    timeUnixNano: $0.timeUnixNano, name: truncated($0.name, to: 512),
                    attributes: limited($0.attributes, limits).0)
            },
            links: decoded.links.prefix(limits.maxLinksPerSpan).map {
                SpanLink(traceID: $0.traceID, spanID: $0.spanID, attributes: limited($0.attributes, limits).0)
            },
            statusMessage: truncated(span.statusMessage, to: limits.maxValueBytes), into: &record
        )
        OTLPWire.writeVarint(UInt64(record.count), into: &details)
        details.append(contentsOf: record)
    }

    /// Reads the record at `offset`.
    static func detailRecord(in details: ContiguousArray<UInt8>, at offset: Int) -> OTLPWire.Details {
        var reader = OTLPWire.Reader(bytes: details[offset...])
        guard let body = reader.lengthDelimited() else { return OTLPWire.Details() }
        return OTLPWire.readDetails(body)
    }

    /// Attributes cut to the limits, and how many were dropped.
    static func limited(_ attributes: [Attribute], _ limits: TraceStoreLimits) -> ([Attribute], Int) {
        let kept = attributes.prefix(limits.maxAttributesPerSpan).map { attribute -> Attribute in
            let key = attribute.key.utf8.count > 256 ? truncated(attribute.key, to: 256) : attribute.key
            if case .string(let value) = attribute.value, value.utf8.count > limits.maxValueBytes {
                return Attribute(key, .string(truncated(value, to: limits.maxValueBytes)))
            }
            return Attribute(key, attribute.value)
        }
        return (kept, max(0, attributes.count - limits.maxAttributesPerSpan))
    }
}
