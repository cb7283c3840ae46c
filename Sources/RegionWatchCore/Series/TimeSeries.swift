/// One value of a signal at one time.
public struct TimeSeriesPoint: Equatable, Sendable {
    public var at: Timestamp
    public var value: Double

    public init(at: Timestamp, value: Double) {
        self.at = at
        self.value = value
    }
}

/// A bounded history of one signal plus its latest observation and who reported it.
///
/// The latest value keeps its observation time, so a reader can always tell how old it is;
/// a signal is never "current" merely because it was once reported.
public struct Signal: Equatable, Sendable {
    /// Newest value, or `nil` when never reported or reported as unknown.
    public private(set) var latest: Double?
    /// When `latest` was observed.
    public private(set) var observedAt: Timestamp?
    /// Which collector reported it.
    public private(set) var source: String?
    /// Past values, oldest first, bounded.
    public private(set) var history: RingBuffer<TimeSeriesPoint>

    /// Default number of points kept per signal: ten minutes at one report a second, the
    /// window the detail screen's charts show.
    public static let defaultHistoryCapacity = 600

    public init(historyCapacity: Int = Signal.defaultHistoryCapacity) {
        history = RingBuffer(capacity: historyCapacity)
    }

    /// Records a value (or an explicit unknown, `nil`) observed at `at` by `source`.
    /// Observations older than the current one are ignored for `latest` (late arrivals never
    /// overwrite newer truth).
    public mutating func record(_ value: Double?, at: Timestamp, source: String) {
        if let observedAt, at < observedAt { return }
        latest = value
        observedAt = at
        self.source = source
        if let value, value.isFinite {
            history.append(TimeSeriesPoint(at: at, value: value))
        }
    }

    /// Seconds since the latest observation, or `nil` when never observed.
    public func age(at now: Timestamp) -> Double? {
        observedAt.map { max(0, now.seconds(since: $0)) }
    }

    /// The history in `buckets` equal time slices of the `window` seconds ending at `now`,
    /// oldest first: each slice holds the largest value reported in it (a spike is never
    /// averaged away), `nil` when nothing was.
    public func buckets(_ buckets: Int, window: Double, endingAt now: Timestamp) -> [Double?] {
        guard buckets > 0, window > 0 else { return [] }
        var result = [Double?](repeating: nil, count: buckets)
        let start = now.adding(seconds: -window)
        for point in history where point.at > start && point.at <= now {
            let index = min(buckets - 1, Int(point.at.seconds(since: start) / window * Double(buckets)))
            result[index] = max(result[index] ?? -Double.infinity, point.value)
        }
        return result
    }

    /// The newest `count` values, oldest first, for sparklines.
    public func recentValues(_ count: Int) -> [Double] {
        history.suffix(count).map(\.value)
    }
}
