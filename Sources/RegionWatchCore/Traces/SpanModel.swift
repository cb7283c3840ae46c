/// What a span represents (OTLP `SpanKind`).
public enum SpanKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case unspecified = 0
    case `internal` = 1
    case server = 2
    case client = 3
    case producer = 4
    case consumer = 5

    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .internal: "internal"
        case .server: "server"
        case .client: "client"
        case .producer: "producer"
        case .consumer: "consumer"
        }
    }

    /// Spans that represent handling a request (counted for rates, errors and latency).
    public var isEntry: Bool { self == .server || self == .consumer }
}

/// A span's outcome (OTLP `Status.StatusCode`).
public enum SpanStatusCode: UInt8, Sendable, CustomStringConvertible {
    case unset = 0
    case ok = 1
    case error = 2

    public var description: String {
        switch self {
        case .unset: "unset"
        case .ok: "ok"
        case .error: "error"
        }
    }
}

/// An attribute value, as OTLP's `AnyValue`.
public enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    // Only the nested cases are boxed: scalar values stay inline (no allocation per value).
    indirect case array([AttributeValue])
    indirect case map([Attribute])
    case empty

    public var description: String {
        switch self {
        case .string(let value): value
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bytes(let value):
            value.prefix(64).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
                + (value.count > 64 ? "…" : "")
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries): "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .empty: "(empty)"
        }
    }

    /// The string value, when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// A key and its value.
public struct Attribute: Hashable, Sendable {
    public var key: String
    public var value: AttributeValue

    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

/// A time-stamped event within a span.
public struct SpanEvent: Hashable, Sendable {
    public var timeUnixNano: UInt64
    public var name: String
    public var attributes: [Attribute]

    public init(timeUnixNano: UInt64, name: String, attributes: [Attribute] = []) {
        self.timeUnixNano = timeUnixNano
        self.name = name
        self.attributes = attributes
    }
}

/// A link from a span to another span.
public struct SpanLink: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var attributes: [Attribute]

    public init(traceID: TraceID, spanID: SpanID, attributes: [Attribute] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.attributes = attributes
    }
}

/// Who produced spans: the OTLP resource with the facts regionwatch derives from it.
public struct SpanResource: Hashable, Sendable {
    /// Region the spans come from (`cloud.region`, a configured mapping, or "unknown").
    public var region: String
    public var provider: String?
    /// `service.name`, or "unknown".
    public var service: String
    public var serviceVersion: String?
    /// Every resource attribute, for the span detail.
    public var attributes: [Attribute]

    public init(region: String, provider: String?, service: String, serviceVersion: String?, attributes: [Attribute]) {
        self.region = region
        self.provider = provider
        self.service = service
        self.serviceVersion = serviceVersion
        self.attributes = attributes
    }

    /// The region name used when nothing says where spans come from.
    public static let unknownRegion = "unknown"
}

/// The instrumentation scope that produced spans.
public struct SpanScope: Hashable, Sendable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// A span as decoded from the wire, before storage.
public struct IncomingSpan: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID
    public var name: String
    public var kind: SpanKind
    public var startUnixNano: UInt64
    public var endUnixNano: UInt64
    public var statusCode: SpanStatusCode
    public var statusMessage: String
    public var attributes: [Attribute]
    public var events: [SpanEvent]
    public var links: [SpanLink]
    /// Attributes, events and links still in OTLP's wire encoding (`Span` fields 9–13), as a
    /// protobuf receiver keeps them; when set, the typed arrays above are empty. A slice of one
    /// buffer shared by the whole batch (one allocation per request, not per span).
    public var encodedDetails: ArraySlice<UInt8>?
    /// Index into the batch's `resources`.
    public var resourceIndex: Int
    /// Index into the batch's `scopes`.
    public var scopeIndex: Int

    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID = .none, name: String, kind: SpanKind,
        startUnixNano: UInt64, endUnixNano: UInt64, statusCode: SpanStatusCode = .unset, statusMessage: String = "",
        attributes: [Attribute] = [], events: [SpanEvent] = [], links: [SpanLink] = [],
        encodedDetails: ArraySlice<UInt8>? = nil,
        resourceIndex: Int, scopeIndex: Int
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startUnixNano = startUnixNano
        self.endUnixNano = endUnixNano
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.attributes = attributes
        self.events = events
        self.links = links
        self.encodedDetails = encodedDetails
        self.resourceIndex = resourceIndex
        self.scopeIndex = scopeIndex
    }

    /// Attributes, events and links, decoding `encodedDetails` when present.
    public var details: OTLPWire.Details {
        guard let encodedDetails else {
            return OTLPWire.Details(attributes: attributes, events: events, links: links, statusMessage: statusMessage)
        }
        var decoded = OTLPWire.readDetails(encodedDetails)
        decoded.statusMessage = statusMessage
        return decoded
    }

    /// Whether the span carries any details besides its timing and names.
    var hasDetails: Bool {
        !statusMessage.isEmpty || !attributes.isEmpty || !events.isEmpty || !links.isEmpty
            || !(encodedDetails?.isEmpty ?? true)
    }
}

/// Spans received together (one OTLP request, or one simulator round).
public struct SpanBatch: Hashable, Sendable {
    public var source: String
    public var receivedAt: Timestamp
    public var resources: [SpanResource]
    public var scopes: [SpanScope]
    public var spans: [IncomingSpan]
    /// Whether the batch holds a reservation on the ingest gate that the consumer must release.
    public var holdsIngestReservation: Bool

    public init(
        source: String, receivedAt: Timestamp, resources: [SpanResource], scopes: [SpanScope], spans: [IncomingSpan],
        holdsIngestReservation: Bool = false
    ) {
        self.source = source
        self.receivedAt = receivedAt
        self.resources = resources
        self.scopes = scopes
        self.spans = spans
        self.holdsIngestReservation = holdsIngestReservation
    }
}
