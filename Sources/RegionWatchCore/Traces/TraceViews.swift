/// A trace in the list: what the traces screen shows and filters on.
public struct TraceSummary: Equatable, Sendable {
    public var traceID: TraceID
    public var rootName: String?
    public var rootService: String?
    public var rootRegion: String?
    public var startUnixNano: UInt64
    public var durationNanos: UInt64
    public var spanCount: Int
    public var errorCount: Int
    /// Regions touched, in first-seen order.
    public var regions: [String]
    public var firstSeen: Timestamp
    public var lastUpdated: Timestamp
    public var hasCrossRegionHop: Bool

    public var durationMilliseconds: Double { Double(durationNanos) / 1e6 }
}

/// A span ready for display.
public struct SpanInfo: Equatable, Sendable {
    public var spanID: SpanID
    public var parentSpanID: SpanID
    public var name: String
    public var service: String
    public var region: String
    public var kind: SpanKind
    public var status: SpanStatusCode
    public var startUnixNano: UInt64
    public var durationNanos: UInt64

    public init(
        spanID: SpanID, parentSpanID: SpanID, name: String, service: String, region: String, kind: SpanKind,
        status: SpanStatusCode, startUnixNano: UInt64, durationNanos: UInt64
    ) {
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.service = service
        self.region = region
        self.kind = kind
        self.status = status
        self.startUnixNano = startUnixNano
        self.durationNanos = durationNanos
    }

    public var endUnixNano: UInt64 { startUnixNano + durationNanos }
}

/// Every span of a trace plus its summary, copied out of the store.
public struct TraceSnapshot: Equatable, Sendable {
    public var summary: TraceSummary
    public var spans: [SpanInfo]
}

/// Everything about one span, for the span detail screen.
public struct SpanDetails: Equatable, Sendable {
    public var span: SpanInfo
    public var statusMessage: String
    public var attributes: [Attribute]
    public var events: [SpanEvent]
    public var links: [SpanLink]
    public var droppedAttributes: Int
    public var resource: SpanResource
    public var scope: SpanScope
}
