/// Log records and records of level ERROR or above per second, per region, over the last
/// `windowSeconds` seconds of receipt time: the *log error rate* of the detail screen, JSON
/// and health.
public struct LogRateWindow: Equatable, Sendable {
    public let windowSeconds: Int
    /// Windows by region name; the stalest is forgotten beyond `regionCapacity`.
    private var regions = RecencyBoundedMap<String, RegionWindow>(capacity: LogRateWindow.regionCapacity)
    /// Most regions with a window at once.
    public static let regionCapacity = 256

    struct Second: Equatable, Sendable {
        var second = Int.min
        var records = 0
        var errors = 0
    }

    struct RegionWindow: Equatable, Sendable {
        var seconds: [Second]
        var source: String
    }

    /// Figures for one region.
    public struct Figures: Equatable, Sendable {
        public var recordsPerSecond: Double
        public var errorsPerSecond: Double
        public var source: String
    }

    public init(windowSeconds: Int = 60) {
        self.windowSeconds = windowSeconds
    }

    /// Counts `records` records, `errors` of them ERROR or above, received at `time`.
    public mutating func record(region: String, records: Int, errors: Int, at time: Timestamp, source: String) {
        let second = Int(time.secondsSinceEpoch.rounded(.down))
        let size = windowSeconds
        regions.update(region, default: RegionWindow(seconds: Array(repeating: Second(), count: size), source: source))
        {
            window in
            let slot = ((second % size) + size) % size
            if window.seconds[slot].second != second { window.seconds[slot] = Second(second: second) }
            window.seconds[slot].records += records
            window.seconds[slot].errors += errors
            if window.source != source { window.source = source }
        }
    }

    /// The rates for `region` over the window ending at `now`, or `nil` before any record.
    public func figures(for region: String, at now: Timestamp) -> Figures? {
        guard let window = regions[region] else { return nil }
        let newest = Int(now.secondsSinceEpoch.rounded(.down))
        var records = 0, errors = 0
        for second in window.seconds where second.second > newest - windowSeconds && second.second <= newest {
            records += second.records
            errors += second.errors
        }
        return Figures(
            recordsPerSecond: Double(records) / Double(windowSeconds),
            errorsPerSecond: Double(errors) / Double(windowSeconds), source: window.source)
    }

    /// How many region windows are kept and how many were forgotten.
    public var bound: StoreBound {
        StoreBound(
            name: "log rate regions", count: regions.count, capacity: regions.capacity,
            forgotten: regions.forgottenCount)
    }
}
