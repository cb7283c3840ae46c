/// OpenTelemetry log severities (`SeverityNumber`, 1…24 in four steps per level).
public enum LogSeverity: Int, CaseIterable, Sendable, Comparable {
    case trace = 1
    case debug = 5
    case info = 9
    case warn = 13
    case error = 17
    case fatal = 21

    /// The level a severity number falls in; `nil` for 0 (unspecified) or out of range.
    public init?(number: UInt8) {
        guard (1...24).contains(number) else { return nil }
        self.init(rawValue: Int((number - 1) / 4) * 4 + 1)
    }

    /// The level named by text such as `ERROR`, `warning`, `Err` or `fatal2`.
    public init?(text: String) {
        let lowered = String(text.lowercased().filter { !$0.isNumber && $0 != " " })
        switch lowered {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info", "information", "notice": self = .info
        case "warn", "warning": self = .warn
        case "error", "err": self = .error
        case "fatal", "critical", "crit", "alert", "emerg", "emergency": self = .fatal
        default: return nil
        }
    }

    /// Upper-case name, as shown in the logs screen.
    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    public static func < (lhs: LogSeverity, rhs: LogSeverity) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One log record as decoded from an OTLP export, before it is stored.
public struct IncomingLogRecord: Sendable, Equatable {
    /// When the event happened (`time_unix_nano`, else `observed_time_unix_nano`).
    public var timeUnixNano: UInt64
    /// `severity_number` (0 when unspecified).
    public var severityNumber: UInt8
    public var severityText: String
    /// The body as text (a string body as it is; other values rendered).
    public var body: String
    public var attributes: [Attribute]
    /// The trace and span the record was emitted in; invalid (zero) when it carries none.
    public var traceID: TraceID
    public var spanID: SpanID
    /// Index into the batch's resources.
    public var resourceIndex: Int

    public init(
        timeUnixNano: UInt64, severityNumber: UInt8 = 0, severityText: String = "", body: String,
        attributes: [Attribute] = [], traceID: TraceID = TraceID(high: 0, low: 0), spanID: SpanID = SpanID(0),
        resourceIndex: Int = 0
    ) {
        self.timeUnixNano = timeUnixNano
        self.severityNumber = severityNumber
        self.severityText = severityText
        self.body = body
        self.attributes = attributes
        self.traceID = traceID
        self.spanID = spanID
        self.resourceIndex = resourceIndex
    }

    /// The record's level: from `severity_number`, else from `severity_text`.
    public var severity: LogSeverity? {
        LogSeverity(number: severityNumber) ?? LogSeverity(text: severityText)
    }
}

/// Log records received together (one OTLP export request).
public struct LogBatch: Sendable, Equatable {
    public var source: String
    public var receivedAt: Timestamp
    public var resources: [SpanResource]
    public var records: [IncomingLogRecord]
    /// Whether the batch holds room on the receivers' ingest gate, given back once applied.
    public var holdsIngestReservation = false

    public init(source: String, receivedAt: Timestamp, resources: [SpanResource], records: [IncomingLogRecord]) {
        self.source = source
        self.receivedAt = receivedAt
        self.resources = resources
        self.records = records
    }
}

/// A stored log record as the screens read it.
public struct LogView: Sendable, Equatable {
    /// Arrival order across the whole store (larger is newer).
    public var sequence: UInt64
    public var timeUnixNano: UInt64
    public var severityNumber: UInt8
    public var severityText: String
    public var body: String
    /// Attributes as `key=value`, one per element.
    public var attributes: [String]
    public var traceID: TraceID?
    public var spanID: SpanID?
    public var region: String
    public var service: String

    /// The record's level, if it states one.
    public var severity: LogSeverity? { LogSeverity(number: severityNumber) ?? LogSeverity(text: severityText) }

    /// `ERROR`, `WARN`… or the record's own text when it has no number; `-` for neither.
    public var severityLabel: String {
        if let severity = LogSeverity(number: severityNumber) { return severity.name }
        return severityText.isEmpty ? "-" : severityText
    }
}
