import RegionWatchCore

/// The dashboard signals a metric can feed.
public enum MetricSignal: String, Sendable, Equatable, CaseIterable, Hashable {
    case requestsPerSecond
    case errorRate
    case p50Ms
    case p99Ms
    case trafficShare
    case replicationLagSeconds
    case replicationLagBytes
    case backupAgeSeconds
    /// Whether the target that exports the region's metrics is being scraped (`up`): 0 means
    /// the telemetry is missing, never that the region is down.
    case up
}

/// Where a metrics collector (`prometheus-scrape`, `promql`) reads and how its series map to
/// regions: what both kinds share.
public struct MetricsEndpoint: Equatable, Sendable {
    public var name: String
    public var target: HTTPTarget
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    /// Label naming the region, unless `fixedRegion` is set.
    public var regionLabel: String
    /// For series (or results) without a region label.
    public var fixedRegion: String?
    /// Extra request headers (for example `Authorization`); values are secrets.
    public var headers: [String: String]
    /// The region replication lag is measured from.
    public var replicationUpstream: String?
    /// Regions this collector is expected to feed (for the detail screen).
    public var regions: [String]

    public init(
        name: String, target: HTTPTarget, intervalSeconds: Double = 5, timeoutSeconds: Double = 2,
        regionLabel: String = "region", fixedRegion: String? = nil, headers: [String: String] = [:],
        replicationUpstream: String? = nil, regions: [String] = []
    ) {
        self.name = name
        self.target = target
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.regionLabel = regionLabel
        self.fixedRegion = fixedRegion
        self.headers = headers
        self.replicationUpstream = replicationUpstream
        self.regions = regions
    }
}

/// A polling source reading one metrics endpoint: its schedule, regions and secrets come from it.
protocol MetricsEndpointSource: PollingSource {
    var endpoint: MetricsEndpoint { get }
}

extension MetricsEndpointSource {
    public var name: String { endpoint.name }
    public var regions: [String] { endpoint.regions }
    public var intervalSeconds: Double { endpoint.intervalSeconds }
    public var timeoutSeconds: Double { endpoint.timeoutSeconds }
    public var secrets: [String] { Array(endpoint.headers.values) }

    /// Request headers: the endpoint's, in a stable order, after `first`.
    func requestHeaders(_ first: (String, String)) -> [(String, String)] {
        [first] + endpoint.headers.sorted { $0.key < $1.key }
    }

    /// Turns readings into events for this endpoint.
    func publish(_ readings: [SignalReading], at now: Timestamp) -> CollectionRound {
        SignalPublisher(source: endpoint.name, replicationUpstream: endpoint.replicationUpstream).events(
            for: readings, at: now)
    }
}

extension MetricSignal {
    /// A century, in seconds: no lag or age is longer.
    static let centurySeconds = 100 * 365.25 * 86_400

    /// Why `value` cannot be a reading of this signal (not a number, negative where that
    /// means nothing, or beyond any plausible range), or `nil` when it can. Such a value is
    /// rejected at the collector, counted and named, and never reaches formatting or health.
    public func implausibility(of value: Double) -> String? {
        guard value.isFinite else { return "\(value) is not a number" }
        let limit: Double, unit: String
        switch self {
        case .replicationLagSeconds, .backupAgeSeconds: (limit, unit) = (Self.centurySeconds, "s (beyond 100 years)")
        case .p50Ms, .p99Ms: (limit, unit) = (Self.centurySeconds * 1000, "ms (beyond 100 years)")
        case .replicationLagBytes: (limit, unit) = (1e18, "bytes (beyond an exabyte)")
        case .requestsPerSecond: (limit, unit) = (1e12, "requests/s (beyond 10^12)")
        case .errorRate, .trafficShare, .up: return nil
        }
        if value < 0 { return "\(value) is negative" }
        return value > limit ? "\(value) \(unit)" : nil
    }
}

/// The value of one signal for one region at one moment.
public struct SignalReading: Equatable, Sendable {
    public var region: String
    public var signal: MetricSignal
    public var value: Double

    public init(region: String, signal: MetricSignal, value: Double) {
        self.region = region
        self.signal = signal
        self.value = value
    }
}

/// Turns signal readings into dashboard events, and `up = 0` into a telemetry error.
public struct SignalPublisher: Sendable {
    public var source: String
    /// The region replication lag is measured from (the configured primary).
    public var replicationUpstream: String?

    public init(source: String, replicationUpstream: String?) {
        self.source = source
        self.replicationUpstream = replicationUpstream
    }

    /// Events for `readings` observed at `now`; regions whose telemetry is down get none (their
    /// data goes stale) and an error each.
    public func events(for readings: [SignalReading], at now: Timestamp) -> CollectionRound {
        var round = CollectionRound()
        let readings = readings.filter { reading in
            guard let problem = reading.signal.implausibility(of: reading.value) else { return true }
            round.rejected.append("\(reading.signal.rawValue) of \(reading.region): \(problem)")
            return false
        }
        let telemetryDown = Set(readings.filter { $0.signal == .up && $0.value < 1 }.map(\.region))
        for region in telemetryDown.sorted() { round.errors.append("\(region): target down (up = 0)") }
        var byRegion: [String: [MetricSignal: Double]] = [:]
        var order: [String] = []
        for reading in readings where !telemetryDown.contains(reading.region) && reading.signal != .up {
            if byRegion[reading.region] == nil { order.append(reading.region) }
            byRegion[reading.region, default: [:]][reading.signal] = reading.value
        }
        for region in order {
            let values = byRegion[region] ?? [:]
            var sample = RegionSample(region: region, source: source, observedAt: now)
            sample.requestsPerSecond = values[.requestsPerSecond]
            sample.errorRate = values[.errorRate].map { min(1, max(0, $0)) }
            sample.p50Milliseconds = values[.p50Ms]
            sample.p99Milliseconds = values[.p99Ms]
            sample.trafficShare = values[.trafficShare].map { min(1, max(0, $0)) }
            if [
                sample.requestsPerSecond, sample.errorRate, sample.p50Milliseconds, sample.p99Milliseconds,
                sample.trafficShare,
            ].contains(where: { $0 != nil }) {
                round.events.append(.regionSample(sample))
            }
            if let upstream = replicationUpstream, upstream != region,
                values[.replicationLagSeconds] != nil || values[.replicationLagBytes] != nil
            {
                round.events.append(
                    .replication(
                        ReplicationSample(
                            from: upstream, to: region, source: source, observedAt: now,
                            lagSeconds: values[.replicationLagSeconds].map { max(0, $0) },
                            lagBytes: values[.replicationLagBytes].map { max(0, $0) },
                            state: .unknown
                        )))
            }
            if let age = values[.backupAgeSeconds], age >= 0 {
                round.events.append(
                    .backup(
                        BackupSample(
                            region: region, source: source, observedAt: now, completedAt: now.adding(seconds: -age),
                            sizeBytes: nil, integrity: .unchecked)))
            }
        }
        return round
    }
}

/// How one signal is read from a scraped exposition.
public struct ScrapedSignal: Equatable, Sendable {
    public var signal: MetricSignal
    /// The metric family (a gauge, a counter read as a per-second rate, a summary's quantile or
    /// a histogram's buckets read as a quantile of the last interval).
    public var metric: String
    /// For `errorRate`: a second counter family, so the signal is rate(metric) / rate(total).
    public var denominator: String?
    /// Multiplier to the signal's unit (for example 1000 for seconds → milliseconds).
    public var scale: Double

    public init(signal: MetricSignal, metric: String, denominator: String? = nil, scale: Double? = nil) {
        self.signal = signal
        self.metric = metric
        self.denominator = denominator
        self.scale = scale ?? Self.defaultScale(signal: signal, metric: metric)
    }

    /// Latency signals are in milliseconds; metrics named in seconds are converted.
    public static func defaultScale(signal: MetricSignal, metric: String) -> Double {
        (signal == .p50Ms || signal == .p99Ms) && metric.contains("seconds") ? 1000 : 1
    }

    /// The quantile a latency signal asks for.
    var quantile: Double? {
        switch signal {
        case .p50Ms: 0.5
        case .p99Ms: 0.99
        default: nil
        }
    }
}

/// Reads signals out of consecutive scrapes: counters become rates and histograms become
/// quantiles of the interval between two scrapes, so a quantile describes now, not all time.
public struct ScrapeInterpreter: Sendable {
    public var signals: [ScrapedSignal]
    /// Label naming the region, when no fixed region is set.
    public var regionLabel: String
    public var fixedRegion: String?
    /// The counters of the last scrape only: a series that is gone (a label value that came
    /// once) is forgotten with the next scrape, so churning labels cannot grow it.
    private var previous: [CounterKey: (value: Double, at: Timestamp)] = [:]
    /// Counter series remembered between scrapes now.
    public var rememberedSeries: Int { previous.count }
    /// Counter series of the last scrape beyond `maximumRememberedSeries`: not remembered, so
    /// their rates stay unknown (a scrape of millions of label values cannot grow the state).
    public private(set) var seriesNotRemembered = 0
    /// Most counter series remembered from one scrape to the next.
    public var maximumRememberedSeries = 100_000

    public init(signals: [ScrapedSignal], regionLabel: String = "region", fixedRegion: String? = nil) {
        self.signals = signals
        self.regionLabel = regionLabel
        self.fixedRegion = fixedRegion
    }

    /// Families the parser must keep.
    public var families: Set<String> {
        var names = Set(signals.map(\.metric))
        names.formUnion(signals.compactMap(\.denominator))
        return names
    }

    private struct CounterKey: Hashable {
        var metric: String
        var region: String
        var le: String?
    }

    /// The counters of the scrape being read, up to a limit.
    private struct CounterMemory {
        let limit: Int
        var values: [CounterKey: Double] = [:]
        var notRemembered = 0

        /// Keeps `value` for the next scrape unless this scrape already has the most series.
        mutating func remember(_ value: Double, key: CounterKey) {
            if values[key] == nil, values.count >= limit {
                notRemembered += 1
                return
            }
            values[key] = value
        }
    }

    /// The readings in `document`, scraped at `now`. Rates and histogram quantiles need two
    /// scrapes: the first one only remembers the counters.
    public mutating func readings(from document: ExpositionDocument, at now: Timestamp) -> [SignalReading] {
        var byFamily: [String: [ExpositionSample]] = [:]
        for sample in document.samples {
            byFamily[ExpositionParser.familyName(of: sample.name), default: []].append(sample)
        }
        var readings: [SignalReading] = []
        var counters = CounterMemory(limit: maximumRememberedSeries)
        for spec in signals {
            let samples = byFamily[spec.metric] ?? byFamily[ExpositionParser.familyName(of: spec.metric)] ?? []
            let type = document.types[spec.metric] ?? document.types[ExpositionParser.familyName(of: spec.metric)]
            for (region, regionSamples) in group(samples) {
                if let value = value(
                    of: spec, type: type, samples: regionSamples, region: region, document: document,
                    byFamily: byFamily, now: now, counters: &counters)
                {
                    readings.append(SignalReading(region: region, signal: spec.signal, value: value * spec.scale))
                }
            }
        }
        previous = counters.values.mapValues { ($0, now) }
        seriesNotRemembered = counters.notRemembered
        return readings
    }

    private func group(_ samples: [ExpositionSample]) -> [(String, [ExpositionSample])] {
        var groups: [String: [ExpositionSample]] = [:]
        var order: [String] = []
        for sample in samples {
            guard let region = fixedRegion ?? sample.label(regionLabel) else { continue }
            if groups[region] == nil { order.append(region) }
            groups[region, default: []].append(sample)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    private func value(
        of spec: ScrapedSignal, type: ExpositionMetricType?, samples: [ExpositionSample], region: String,
        document: ExpositionDocument, byFamily: [String: [ExpositionSample]], now: Timestamp,
        counters: inout CounterMemory
    ) -> Double? {
        let buckets = samples.filter { $0.name.hasSuffix("_bucket") && $0.label("le") != nil }
        if let quantile = spec.quantile, !buckets.isEmpty {
            return histogramQuantile(
                quantile, buckets: buckets, metric: spec.metric, region: region, now: now, counters: &counters)
        }
        if let quantile = spec.quantile, samples.contains(where: { $0.label("quantile") != nil }) {
            let matching = samples.filter {
                $0.label("quantile").flatMap { ExpositionParser.parseValue($0) }.map { abs($0 - quantile) < 1e-9 }
                    ?? false
            }
            return matching.map(\.value).filter { !$0.isNaN }.max()
        }
        let isCounter = type == .counter || spec.metric.hasSuffix("_total") || spec.denominator != nil
        let plain = samples.filter { !$0.name.hasSuffix("_created") && !$0.name.hasSuffix("_bucket") }
        guard !plain.isEmpty else { return nil }
        let total = plain.reduce(0) { $0 + $1.value }
        guard isCounter else { return plain.count == 1 ? plain[0].value : plain.map(\.value).max() }
        guard
            let rate = rate(total, key: CounterKey(metric: spec.metric, region: region), now: now, counters: &counters)
        else { return nil }
        guard let denominator = spec.denominator else { return rate }
        let denominatorSamples =
            group(byFamily[denominator] ?? byFamily[ExpositionParser.familyName(of: denominator)] ?? []).first {
                $0.0 == region
            }?.1 ?? []
        let denominatorTotal = denominatorSamples.filter { !$0.name.hasSuffix("_created") }.reduce(0) { $0 + $1.value }
        guard
            let denominatorRate = self.rate(
                denominatorTotal, key: CounterKey(metric: denominator, region: region), now: now, counters: &counters)
        else { return nil }
        return denominatorRate > 0 ? rate / denominatorRate : nil
    }

    /// Per-second increase since the previous scrape; `nil` on the first scrape. A counter that
    /// went down was reset: its current value is the increase.
    private func rate(_ value: Double, key: CounterKey, now: Timestamp, counters: inout CounterMemory) -> Double? {
        counters.remember(value, key: key)
        guard let last = previous[key] else { return nil }
        let elapsed = now.seconds(since: last.at)
        guard elapsed > 0 else { return nil }
        let increase = value >= last.value ? value - last.value : value
        return increase / elapsed
    }

    private func histogramQuantile(
        _ quantile: Double, buckets: [ExpositionSample], metric: String, region: String, now: Timestamp,
        counters: inout CounterMemory
    ) -> Double? {
        var cumulative: [Double: Double] = [:]
        for bucket in buckets {
            guard let text = bucket.label("le"), let bound = ExpositionParser.parseValue(text) else { continue }
            cumulative[bound, default: 0] += bucket.value
        }
        var increases: [(bound: Double, count: Double)] = []
        var isComplete = true
        for (bound, count) in cumulative.sorted(by: { $0.key < $1.key }) {
            let key = CounterKey(metric: metric, region: region, le: "\(bound)")
            counters.remember(count, key: key)
            if let last = previous[key] {
                increases.append((bound, count >= last.value ? count - last.value : count))
            } else {
                isComplete = false
            }
        }
        return isComplete ? Self.quantile(quantile, cumulativeBuckets: increases) : nil
    }

    /// `histogram_quantile` over cumulative bucket counts (linear inside a bucket; the `+Inf`
    /// bucket answers with the highest finite bound). `nil` without observations.
    static func quantile(_ q: Double, cumulativeBuckets buckets: [(bound: Double, count: Double)]) -> Double? {
        guard let total = buckets.last?.count, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0
        var lowerCount = 0.0
        for (bound, count) in buckets {
            if count >= rank {
                if bound.isInfinite { return lowerBound }
                let inBucket = count - lowerCount
                guard inBucket > 0 else { return bound }
                return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / inBucket)
            }
            lowerBound = bound
            lowerCount = count
        }
        return lowerBound
    }
}
