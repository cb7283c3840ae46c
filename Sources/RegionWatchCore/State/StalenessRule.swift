/// When data from a source is stale: `staleAfterIntervals` × the source's collection interval;
/// signals derived from spans ("COLLECTOR/spans") not before their window has passed.
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

    /// Seconds after which data from `source` is stale.
    public func staleAfter(_ source: String?) -> Double {
        if let source, source.hasSuffix(Self.spanSourceSuffix) {
            let collector = String(source.dropLast(Self.spanSourceSuffix.count))
            return max(spanWindowSeconds, staleAfter(collector))
        }
        return staleAfterIntervals * interval(of: source)
    }

    /// The collection interval of `source`, or the default before it has reported.
    public func interval(of source: String?) -> Double {
        source.flatMap { intervals[$0] } ?? Self.defaultIntervalSeconds
    }
}
