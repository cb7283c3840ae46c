/// Bounds of the trace store. Everything the store keeps is bounded by these.
public struct TraceStoreLimits: Equatable, Sendable {
    /// Most spans kept; beyond this whole traces are evicted, oldest first, fairly per region.
    public var maxSpans = 200_000
    /// Approximate bytes kept (span records, detail blobs, strings, indexes).
    public var maxBytes = 256 * 1024 * 1024
    /// Spans beyond this in one trace are rejected.
    public var maxSpansPerTrace = 50_000
    /// Attributes beyond this on a span are dropped (and counted on the span).
    public var maxAttributesPerSpan = 128
    /// Longer string values are cut (with "…").
    public var maxValueBytes = 4096
    public var maxEventsPerSpan = 128
    /// Received details up to this size are kept as they came; larger ones are cut to the
    /// attribute, event and link limits.
    public var maxDetailBytes = 16 * 1024
    public var maxLinksPerSpan = 128
    /// Distinct region names kept; further unknown names are folded into "unknown".
    public var maxRegions = 128

    public init() {}
}

/// Counters of what happened to received spans.
public struct TraceStoreCounters: Equatable, Sendable {
    public var receivedSpans = 0
    public var acceptedSpans = 0
    public var rejectedSpans = 0
    public var evictedSpans = 0
    public var evictedTraces = 0
    /// Rejections by reason, for the detail screen.
    public var rejectionReasons: [String: Int] = [:]

    public init() {}
}

/// A parent span in one region whose child runs in another.
public struct CrossRegionHop: Equatable, Sendable {
    public var from: String
    public var to: String
    /// Time spent between the regions: parent duration minus child duration (never negative).
    public var latencyMilliseconds: Double
}

/// A span that handled a request (SERVER or CONSUMER), for derived signals.
public struct EntrySpanObservation: Equatable, Sendable {
    public var region: String
    public var durationMilliseconds: Double
    public var isError: Bool
}

/// What inserting a batch did.
public struct SpanInsertOutcome: Equatable, Sendable {
    public var accepted = 0
    public var rejected = 0
    public var hops: [CrossRegionHop] = []
    public var entrySpans: [EntrySpanObservation] = []
    /// Service versions seen, by region then service.
    public var versions: [String: [String: String]] = [:]
}
