/// The newest reading of one received metric series (a metric, a resource and an attribute
/// set), for the metrics screen.
public struct MetricSeriesUpdate: Sendable, Equatable {
    public var region: String
    public var service: String
    public var metric: String
    /// `gauge`, `counter`, `updown`, `histogram`, `exp-histogram`, `summary`.
    public var kind: String
    /// The metric's own unit (`s`, `By`, `{request}`…).
    public var unit: String
    /// The series' attributes as `key=value`, comma-separated.
    public var attributes: String
    /// The value charted for the series: a gauge's value, a counter's rate per second, a
    /// histogram's p99 over the interval; `nil` until known (a counter's first point).
    public var value: Double?
    /// What `value` is in (`s`, `/s`…).
    public var valueUnit: String
    /// The reading in words (`p50 12 ms · p99 40 ms · 31/s`).
    public var summary: String
    /// Points this update adds.
    public var points: Int
    public var observedAt: Timestamp

    public init(
        region: String, service: String, metric: String, kind: String, unit: String, attributes: String,
        value: Double?, valueUnit: String, summary: String, points: Int = 1, observedAt: Timestamp
    ) {
        self.region = region
        self.service = service
        self.metric = metric
        self.kind = kind
        self.unit = unit
        self.attributes = attributes
        self.value = value
        self.valueUnit = valueUnit
        self.summary = summary
        self.points = points
        self.observedAt = observedAt
    }
}

/// Metric series updates received together (one OTLP request).
public struct MetricBatch: Sendable, Equatable {
    public var source: String
    public var updates: [MetricSeriesUpdate]

    public init(source: String, updates: [MetricSeriesUpdate]) {
        self.source = source
        self.updates = updates
    }
}

/// Received metrics by region, service, name and attributes, each with its recent values;
/// bounded (the stalest series is forgotten beyond `capacity`).
public struct MetricCatalog: Sendable, Equatable {
    /// One series as kept.
    public struct Series: Sendable, Equatable {
        public var latest: MetricSeriesUpdate
        /// Points received since the series was first seen.
        public var points: Int
        /// Charted values over time (`value` of each update).
        public var history: Signal

        /// The series' key.
        public var key: Key {
            Key(region: latest.region, service: latest.service, metric: latest.metric, attributes: latest.attributes)
        }
    }

    public struct Key: Hashable, Sendable {
        public var region: String
        public var service: String
        public var metric: String
        public var attributes: String

        public init(region: String, service: String, metric: String, attributes: String) {
            self.region = region
            self.service = service
            self.metric = metric
            self.attributes = attributes
        }
    }

    private var series: RecencyBoundedMap<Key, Series>
    /// Values kept per series for its chart.
    public static let historyCapacity = 240
    /// Most series kept.
    public static let defaultCapacity = 2_000
    /// Points received in all.
    public private(set) var pointsReceived = 0

    public init(capacity: Int = MetricCatalog.defaultCapacity) {
        series = RecencyBoundedMap(capacity: capacity)
    }

    public mutating func apply(_ batch: MetricBatch) {
        for update in batch.updates {
            pointsReceived += update.points
            let key = Key(
                region: update.region, service: update.service, metric: update.metric, attributes: update.attributes)
            series.update(
                key,
                default: Series(
                    latest: update, points: 0, history: Signal(historyCapacity: Self.historyCapacity))
            ) { entry in
                entry.latest = update
                entry.points += update.points
                if let value = update.value { entry.history.record(value, at: update.observedAt, source: batch.source) }
            }
        }
    }

    /// Every kept series, by region, service, metric and attributes.
    public var sortedSeries: [Series] {
        series.keys.sorted {
            ($0.region, $0.service, $0.metric, $0.attributes) < ($1.region, $1.service, $1.metric, $1.attributes)
        }
        .compactMap { series[$0] }
    }

    public var count: Int { series.count }

    /// How many series are kept and how many were forgotten.
    public var bound: StoreBound {
        StoreBound(
            name: "metric series", count: series.count, capacity: series.capacity, forgotten: series.forgottenCount)
    }
}
