/// When data from a source is stale: `staleAfterIntervals` × the source's collection interval;
/// signals derived from spans ("COLLECTOR/spans") not before their window has passed; logs
/// ("COLLECTOR/logs") as their collector.
///
/// A small value of its own, so that readers (health rules, link freshness) can carry it
/// without holding on to the whole dashboard state.
public struct StalenessRule: Equatable, Sendable {
    /// Collection interval by collector name, as reported.
    var intervals: [String: Double] = [:]
    var staleAfterIntervals: Double
    var spanWindowSeconds: Double

    /// Suffix of the source name of signals derived from spans.
    public static let spanSourceSuffix = "/spans"
    /// Interval assumed for a source before its collector has reported one.
    public static let defaultIntervalSeconds = 5.0

    /// Suffix of the source name of records derived from logs.
    public static let logSourceSuffix = "/logs"

    /// Seconds after which data from `source` is stale. Logs ("COLLECTOR/logs") are as fresh
    /// as their collector: a region that sends logs is not judged more slowly for it.
    public func staleAfter(_ source: String?) -> Double {
        if let source, source.hasSuffix(Self.spanSourceSuffix) {
            let collector = String(source.dropLast(Self.spanSourceSuffix.count))
            return max(spanWindowSeconds, staleAfter(collector))
        }
        if let source, source.hasSuffix(Self.logSourceSuffix) {
            return staleAfter(String(source.dropLast(Self.logSourceSuffix.count)))
        }
        return staleAfterIntervals * interval(of: source)
    }

    /// The collection interval of `source`, or the default before it has reported.
    public func interval(of source: String?) -> Double {
        source.flatMap { intervals[$0] } ?? Self.defaultIntervalSeconds
    }
}
