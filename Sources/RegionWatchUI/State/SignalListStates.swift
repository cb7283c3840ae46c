import RegionWatchCore

/// The logs screen's filter, minimum level, selection and whether it follows the newest.
public struct LogListState: Equatable, Sendable {
    /// The filter as typed (`region=`, `service=`, `trace=`, `span=`, `level=`, words).
    public var filterText = ""
    public var filter = LogQuery()
    /// The minimum level the `v` key cycles (combined with the filter's `level=`).
    public var minimumSeverity: LogSeverity?
    /// The selected record (its store sequence); `nil` follows the newest.
    public var selected: UInt64?
    /// The `/` filter being typed.
    public var filterInput: CommandLineInput?
    /// Whether the filter came with the screen (a region's, trace's or span's logs) rather than
    /// from the operator: opening the logs from elsewhere clears it.
    public var isContextFilter = false

    public init() {}

    /// Whether the list follows the newest record (no row picked).
    public var isFollowing: Bool { selected == nil }

    /// The query the store is asked: the filter with the chosen minimum level.
    public var query: LogQuery {
        var query = filter
        if let minimum = minimumSeverity, (query.minimumSeverity ?? .trace) < minimum {
            query.minimumSeverity = minimum
        }
        return query
    }
}

/// The metrics screen's filter and selected series.
public struct MetricListState: Equatable, Sendable {
    /// Words every shown series contains (region, service, metric or attributes).
    public var filterText = ""
    public var selected: MetricCatalog.Key?
    public var filterInput: CommandLineInput?

    public init() {}
}
