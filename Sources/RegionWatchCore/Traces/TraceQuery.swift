/// A trace-list filter: free words plus `region=`, `service=`, `error` and duration
/// comparisons such as `>500ms` or `<2s`. Every part must match.
public struct TraceQuery: Equatable, Sendable {
    /// Lower-cased words; each must appear in the trace id (prefix), a span name, a service or
    /// a region.
    public var words: [String] = []
    public var region: String?
    public var service: String?
    public var errorsOnly = false
    public var minimumMilliseconds: Double?
    public var maximumMilliseconds: Double?

    public init() {}

    /// Whether the query matches everything.
    public var isEmpty: Bool { self == TraceQuery() }

    /// Why a filter could not be understood.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses filter text, for example `checkout region=eu-west-1 error >500ms`.
    public static func parse(_ text: String) -> Result<TraceQuery, ParseError> {
        var query = TraceQuery()
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            let lowered = token.lowercased()
            if let value = lowered.value(after: "region=") {
                guard !value.isEmpty else { return .failure(ParseError(description: "region= needs a region name")) }
                query.region = String(token.dropFirst(7))
            } else if let value = lowered.value(after: "service=") {
                guard !value.isEmpty else { return .failure(ParseError(description: "service= needs a service name")) }
                query.service = String(token.dropFirst(8))
            } else if lowered == "error" || lowered == "errors" {
                query.errorsOnly = true
            } else if let first = lowered.first, first == ">" || first == "<" {
                let isAtLeast = first == ">"
                let amount = lowered.dropFirst().drop { $0 == "=" }
                guard let milliseconds = Self.milliseconds(String(amount)) else {
                    return .failure(
                        ParseError(description: "'\(token)' is not a duration comparison (try >500ms or <2s)"))
                }
                if isAtLeast {
                    query.minimumMilliseconds = milliseconds
                } else {
                    query.maximumMilliseconds = milliseconds
                }
            } else {
                query.words.append(lowered)
            }
        }
        return .success(query)
    }

    /// `500ms`, `2s`, `1.5s`, `1m`, `250us`, or a bare number of milliseconds.
    static func milliseconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 1), ("us", 0.001), ("µs", 0.001), ("s", 1000), ("m", 60_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
            return value * scale
        }
        guard let value = Double(text), value >= 0, value.isFinite else { return nil }
        return value
    }
}

/// Orders for the trace list.
public enum TraceSortOrder: String, CaseIterable, Sendable {
    case time
    case duration
    case errors

    /// The next order (the `s` key cycles).
    public var next: TraceSortOrder {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }

    /// `traces` sorted: newest, slowest or most errors first; ties by newest then trace id.
    @inlinable
    public func sorted<Trace: TraceSortable>(_ traces: [Trace]) -> [Trace] {
        traces.sorted { lhs, rhs in
            switch self {
            case .time:
                if lhs.startUnixNano != rhs.startUnixNano { return lhs.startUnixNano > rhs.startUnixNano }
            case .duration:
                if lhs.durationNanos != rhs.durationNanos { return lhs.durationNanos > rhs.durationNanos }
            case .errors:
                if lhs.errorCount != rhs.errorCount { return lhs.errorCount > rhs.errorCount }
                if lhs.startUnixNano != rhs.startUnixNano { return lhs.startUnixNano > rhs.startUnixNano }
            }
            return lhs.traceID < rhs.traceID
        }
    }
}

extension String {
    func value(after prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
