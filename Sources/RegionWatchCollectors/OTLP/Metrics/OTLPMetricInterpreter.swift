import RegionWatchCore
import Synchronization

/// How one OTLP metric feeds a dashboard signal.
///
/// A histogram feeds `requestsPerSecond` with its count's rate, `p50Ms`/`p99Ms` with the
/// quantile of its interval's observations, and `errorRate` with the rate of the series that
/// `errorWhen` matches over the rate of all; a monotonic sum feeds its rate; a gauge, an
/// up-down sum or a summary (`p50Ms`/`p99Ms`: its quantile) its value.
public struct OTLPMetricMapping: Equatable, Sendable {
    public var signal: MetricSignal
    public var metric: String
    /// Attribute matchers every counted series satisfies.
    public var matchers: [AttributeMatcher]
    /// For `errorRate`: the series that are errors, when any one of these sets matches.
    public var errorWhen: [[AttributeMatcher]]
    /// Multiplier to the signal's unit; `nil` derives it from the metric's unit (`s` → ms).
    public var scale: Double?

    public init(
        signal: MetricSignal, metric: String, matchers: [AttributeMatcher] = [], errorWhen: [[AttributeMatcher]] = [],
        scale: Double? = nil
    ) {
        self.signal = signal
        self.metric = metric
        self.matchers = matchers
        self.errorWhen = errorWhen
        self.scale = scale
    }

    /// The OpenTelemetry HTTP semantic conventions: `http.server.request.duration` (stable,
    /// seconds) and `http.server.duration` (older, milliseconds) give request rate, p50/p99
    /// latency, and error rate from `http.response.status_code` ≥ 500 (or the older
    /// `http.status_code`) or any `error.type`.
    public static let httpSemanticConventions: [OTLPMetricMapping] = [
        "http.server.request.duration", "http.server.duration",
    ]
    .flatMap { metric in
        [
            OTLPMetricMapping(signal: .requestsPerSecond, metric: metric),
            OTLPMetricMapping(
                signal: .errorRate, metric: metric,
                errorWhen: [
                    [AttributeMatcher(key: "http.response.status_code", pattern: "5xx")],
                    [AttributeMatcher(key: "http.status_code", pattern: "5xx")],
                    [AttributeMatcher(key: "error.type", pattern: "*")],
                ]),
            OTLPMetricMapping(signal: .p50Ms, metric: metric),
            OTLPMetricMapping(signal: .p99Ms, metric: metric),
        ]
    }

    /// The multiplier for a metric in `unit`: latency signals are in milliseconds.
    func scale(forUnit unit: String) -> Double {
        if let scale { return scale }
        guard signal == .p50Ms || signal == .p99Ms else { return 1 }
        switch unit {
        case "s": return 1000
        case "us", "µs": return 0.001
        case "ns": return 1e-6
        default: return 1
        }
    }
}

/// Matches one attribute: an exact value, `*` (present with any value), or a status class
/// such as `5xx` (a status code from 500 to 599, as a number or text).
public struct AttributeMatcher: Equatable, Sendable {
    public var key: String
    public var pattern: String

    public init(key: String, pattern: String) {
        self.key = key
        self.pattern = pattern
    }

    func matches(_ attributes: [Attribute]) -> Bool {
        guard let attribute = attributes.first(where: { $0.key == key }) else { return false }
        if pattern == "*" { return true }
        let text: String =
            switch attribute.value {
            case .string(let value): value
            case .int(let value): String(value)
            case .bool(let value): String(value)
            case .double(let value): Int(exactly: value).map(String.init) ?? String(value)
            default: attribute.value.description
            }
        let lowered = pattern.lowercased()
        if lowered.count == 3, lowered.hasSuffix("xx"), let first = lowered.first, first.isNumber {
            return text.count == 3 && text.first == first && text.allSatisfy(\.isNumber)
        }
        return text == pattern
    }
}

/// Turns OTLP metric points into region signals and metric-screen readings.
///
/// Cumulative series are remembered from one point to the next (bounded): a counter's or a
/// histogram's interval is the difference of two points, and a point whose start time moved
/// or whose counts went down starts anew (a reset: its counts are the interval since its start).
/// Delta points are intervals as they come. Each region's figures combine the newest interval
/// of every fresh series of the mapped metric, so services exporting at different moments add
/// up instead of replacing each other.
public struct OTLPMetricInterpreter: Sendable {
    public var mappings: [OTLPMetricMapping]
    public let source: String
    private var series: RecencyBoundedMap<SeriesKey, SeriesState>
    /// Most series remembered; the stalest is forgotten beyond it.
    public static let seriesCapacity = 10_000
    /// Time between export requests, per resource, for the staleness of the figures.
    public private(set) var exportIntervalSeconds: Double?
    private var lastExportAt: [String: Timestamp] = [:]
    /// Each resource's latest export, however close to the one before.
    private var latestExportAt: [String: Timestamp] = [:]

    struct SeriesKey: Hashable, Sendable {
        var metric: String
        var region: String
        var resource: String
        var attributes: String
    }

    /// What the newest interval of a series says.
    struct Interval: Sendable {
        var receivedAt: Timestamp
        /// Length of the interval; `nil` when unknown (a first cumulative point of long ago).
        var seconds: Double?
        /// Increase of the count (histograms) or the sum (counters) over the interval.
        var increase: Double
        var distribution: BucketDistribution?
        /// A gauge's or up-down sum's value.
        var value: Double?
        /// A summary's quantiles.
        var quantiles: [(Double, Double)] = []

        var rate: Double? {
            guard let seconds, seconds > 0 else { return nil }
            return increase / seconds
        }
    }

    struct SeriesState: Sendable {
        var metric: String
        var unit: String
        var kind: MetricKind
        var attributes: [Attribute]
        var startUnixNano: UInt64 = 0
        var timeUnixNano: UInt64 = 0
        var value: MetricPointValue?
        var interval: Interval?
    }

    public init(source: String, mappings: [OTLPMetricMapping] = OTLPMetricMapping.httpSemanticConventions) {
        self.source = source
        self.mappings = mappings
        series = RecencyBoundedMap(capacity: Self.seriesCapacity)
    }

    /// Series remembered now.
    public var rememberedSeries: Int { series.count }

    /// The events for `export`, received at `now`: the metric-screen readings and a sample of
    /// each region whose mapped signals changed.
    public mutating func events(for export: DecodedMetrics, at now: Timestamp) -> CollectionRound {
        var updates: [MetricSeriesUpdate] = []
        var touched: [String] = []
        var touchedSet: Set<String> = []
        var rejected: [String] = []
        // Metrics by resource, once (not a pass over every metric per resource).
        var metricsByResource: [Int: [Int]] = [:]
        for (position, metric) in export.metrics.enumerated() {
            metricsByResource[metric.resourceIndex, default: []].append(position)
        }
        for (index, resource) in export.resources.enumerated() {
            let identity = Self.bounded(
                resource.attributes.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ","))
            noteExport(of: identity, at: now)
            for position in metricsByResource[index] ?? [] {
                let metric = export.metrics[position]
                for point in metric.points {
                    let key = SeriesKey(
                        metric: Self.bounded(metric.name), region: resource.region, resource: identity,
                        attributes: Self.bounded(
                            point.attributes.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))
                    var state =
                        series[key]
                        ?? SeriesState(
                            metric: metric.name, unit: metric.unit, kind: metric.kind, attributes: point.attributes)
                    Self.advance(&state, with: point, kind: metric.kind, unit: metric.unit, at: now)
                    series.update(key, default: state) { $0 = state }
                    updates.append(Self.reading(of: state, key: key, service: resource.service, at: now))
                    guard !touchedSet.contains(resource.region) else { continue }
                    // A bounded number of regions per request: one sample each, so a request
                    // naming thousands of regions cannot flood the bus.
                    if touched.count < Self.regionsPerRequest {
                        touched.append(resource.region)
                        touchedSet.insert(resource.region)
                    } else if rejected.isEmpty {
                        rejected.append(
                            "more than \(Self.regionsPerRequest) regions in one request: the others feed no signals")
                    }
                }
            }
        }
        var round = SignalPublisher(source: source, replicationUpstream: nil).events(
            for: signalReadings(for: touchedSet, at: now), at: now)
        round.rejected += rejected
        if !updates.isEmpty { round.events.insert(.metrics(MetricBatch(source: source, updates: updates)), at: 0) }
        return round
    }

    /// Most regions one request feeds signals to.
    static let regionsPerRequest = 256
    /// Longest key text (metric name, attributes, resource identity) remembered.
    static let keyBytes = 512

    /// `text` cut to `keyBytes` (keys need not be whole to tell series apart).
    static func bounded(_ text: String) -> String {
        text.utf8.count <= keyBytes ? text : String(decoding: text.utf8.prefix(keyBytes), as: UTF8.self)
    }

    /// Remembers when a resource exported (its latest export, which delta series must belong to
    /// to count, and the export interval, from exports at least a second apart: flushes in quick
    /// succession, a shutdown, say nothing about it).
    private mutating func noteExport(of identity: String, at now: Timestamp) {
        latestExportAt[identity] = now
        let previousExport = lastExportAt[identity]
        if previousExport.map({ now.seconds(since: $0) >= Self.minimumIntervalSeconds }) ?? true {
            if let previousExport {
                let seconds = now.seconds(since: previousExport)
                exportIntervalSeconds = min(300, max(seconds, (exportIntervalSeconds ?? 0) * 0.8))
            }
            lastExportAt[identity] = now
        }
        if lastExportAt.count > Self.resourceCapacity { lastExportAt = [identity: now] }
        if latestExportAt.count > Self.resourceCapacity { latestExportAt = [identity: now] }
    }

    /// Most exporting resources remembered for their export times.
    static let resourceCapacity = 4096

    /// Moves a series to its new point, computing the interval since the previous one.
    static func advance(
        _ state: inout SeriesState, with point: MetricPoint, kind: MetricKind, unit: String, at now: Timestamp
    ) {
        let previous = state
        state.kind = kind
        state.unit = unit
        state.startUnixNano = point.startUnixNano
        state.timeUnixNano = point.timeUnixNano
        state.value = point.value
        // A point older than the one remembered (a retried export) changes nothing; a cumulative
        // point within a second of the last one is folded into the next interval (a rate over
        // milliseconds says nothing).
        let temporality = kind.temporality
        if previous.timeUnixNano > 0, point.timeUnixNano < previous.timeUnixNano {
            state = previous
            return
        }
        if temporality == .cumulative, previous.value != nil, point.startUnixNano == previous.startUnixNano,
            Double(point.timeUnixNano &- previous.timeUnixNano) / 1e9 < minimumIntervalSeconds
        {
            state = previous
            return
        }
        let sincePrevious =
            previous.timeUnixNano > 0 ? Double(point.timeUnixNano &- previous.timeUnixNano) / 1e9 : nil
        let sinceStart = point.startUnixNano > 0 ? Double(point.timeUnixNano &- point.startUnixNano) / 1e9 : nil
        /// A first point (or a reset) counts since its start only when that start is recent:
        /// an average over days says nothing about now.
        let freshStart = sinceStart.flatMap { $0 <= Self.freshStartSeconds ? $0 : nil }
        let isContinuation =
            temporality == .cumulative && previous.value != nil
            && (point.startUnixNano == 0 || point.startUnixNano == previous.startUnixNano)
        switch point.value {
        case .number(let value):
            guard case .sum(true, _) = kind else {
                state.interval = Interval(receivedAt: now, seconds: nil, increase: 0, value: value)
                return
            }
            if temporality == .delta {
                state.interval = Interval(receivedAt: now, seconds: sinceStart ?? sincePrevious, increase: value)
            } else if isContinuation, case .number(let before)? = previous.value, value >= before {
                state.interval = Interval(receivedAt: now, seconds: sincePrevious, increase: value - before)
            } else {
                state.interval = Interval(receivedAt: now, seconds: freshStart, increase: value)
            }
        case .histogram(let count, _, let bounds, let counts, let min, let max):
            if temporality == .delta {
                var distribution = BucketDistribution()
                distribution.add(bounds: bounds, counts: counts, min: min, max: max)
                state.interval = Interval(
                    receivedAt: now, seconds: sinceStart ?? sincePrevious, increase: count, distribution: distribution)
            } else if isContinuation,
                case .histogram(let countBefore, _, let boundsBefore, let countsBefore, _, _)? =
                    previous.value, bounds == boundsBefore, count >= countBefore,
                zip(counts, countsBefore).allSatisfy({ $0 >= $1 })
            {
                var distribution = BucketDistribution()
                distribution.add(bounds: bounds, counts: zip(counts, countsBefore).map { $0 - $1 })
                state.interval = Interval(
                    receivedAt: now, seconds: sincePrevious, increase: count - countBefore, distribution: distribution)
            } else {
                // A first point (or a reset) describes now only when its start is recent.
                var distribution = BucketDistribution()
                distribution.add(bounds: bounds, counts: counts, min: min, max: max)
                state.interval = Interval(
                    receivedAt: now, seconds: freshStart, increase: count,
                    distribution: freshStart == nil ? nil : distribution)
            }
        case .exponential(let buckets):
            var increment = buckets
            var seconds = temporality == .delta ? sinceStart ?? sincePrevious : freshStart
            if temporality == .cumulative, isContinuation, case .exponential(let before)? = previous.value,
                let difference = buckets.subtracting(before)
            {
                increment = difference
                seconds = sincePrevious
            }
            var distribution = BucketDistribution()
            distribution.add(increment)
            state.interval = Interval(
                receivedAt: now, seconds: seconds, increase: increment.count,
                distribution: temporality == .cumulative && seconds == nil ? nil : distribution)
        case .summary(let count, _, let quantiles):
            var increase = count
            var seconds = freshStart
            if isContinuation || temporality == nil, case .summary(let before, _, _)? = previous.value,
                count >= before, previous.startUnixNano == point.startUnixNano
            {
                increase = count - before
                seconds = sincePrevious
            }
            state.interval = Interval(receivedAt: now, seconds: seconds, increase: increase, quantiles: quantiles)
        }
    }

    /// A first point's start counts when it is at most this old.
    static let freshStartSeconds = 300.0
    /// Cumulative points closer together than this are one interval.
    static let minimumIntervalSeconds = 1.0

    /// The series' reading for the metrics screen.
    static func reading(of state: SeriesState, key: SeriesKey, service: String, at now: Timestamp) -> MetricSeriesUpdate
    {
        var value: Double?
        var valueUnit = state.unit
        var parts: [String] = []
        let interval = state.interval
        switch state.kind {
        case .gauge, .sum(false, _):
            value = interval?.value
            parts.append(value.map { Format.number($0) + unitSuffix(state.unit) } ?? "—")
        case .sum(true, _):
            value = interval?.rate
            valueUnit = "/s"
            parts.append(value.map { Format.rate($0) + "/s" } ?? "rate after the next point")
        case .histogram, .exponentialHistogram:
            let p50 = interval?.distribution?.quantile(0.5)
            let p99 = interval?.distribution?.quantile(0.99)
            value = p99
            if let p50 { parts.append("p50 \(Format.number(p50))\(unitSuffix(state.unit))") }
            if let p99 { parts.append("p99 \(Format.number(p99))\(unitSuffix(state.unit))") }
            if let rate = interval?.rate { parts.append(Format.rate(rate) + "/s") }
            if parts.isEmpty { parts.append("no observations in the interval") }
        case .summary:
            let quantiles = interval?.quantiles ?? []
            value = quantiles.first { abs($0.0 - 0.99) < 1e-9 }?.1 ?? quantiles.last?.1
            parts += quantiles.map { "q\(Format.number($0.0)) \(Format.number($0.1))\(unitSuffix(state.unit))" }
            if let rate = interval?.rate { parts.append(Format.rate(rate) + "/s") }
        }
        return MetricSeriesUpdate(
            region: key.region, service: service, metric: key.metric, kind: state.kind.name, unit: state.unit,
            attributes: key.attributes, value: value, valueUnit: valueUnit, summary: parts.joined(separator: " · "),
            observedAt: now)
    }

    private static func unitSuffix(_ unit: String) -> String {
        unit.isEmpty || unit == "1" || unit.hasPrefix("{") ? "" : " " + unit
    }

    /// Each region's signals from every fresh series of each mapped metric; for each signal the
    /// first mapping that yields a value wins. A delta series counts only when it was in its
    /// resource's latest export: SDKs leave out delta series without measurements, so an absent
    /// one means zero, not its last interval again.
    func signalReadings(for regions: Set<String>, at now: Timestamp) -> [SignalReading] {
        guard !regions.isEmpty else { return [] }
        let maximumAge = max(15, 2.5 * (exportIntervalSeconds ?? 60))
        var fresh: [String: [String: [SeriesState]]] = [:]
        for key in series.keys where regions.contains(key.region) {
            guard let state = series[key], let interval = state.interval,
                now.seconds(since: interval.receivedAt) <= maximumAge
            else { continue }
            if state.kind.temporality == .delta,
                let latest = latestExportAt[key.resource], interval.receivedAt < latest
            {
                continue
            }
            fresh[key.region, default: [:]][key.metric, default: []].append(state)
        }
        var readings: [SignalReading] = []
        for region in regions.sorted() {
            guard let metrics = fresh[region] else { continue }
            var done: Set<MetricSignal> = []
            for mapping in mappings where !done.contains(mapping.signal) {
                let matching = (metrics[mapping.metric] ?? []).filter { state in
                    mapping.matchers.allSatisfy { $0.matches(state.attributes) }
                }
                guard let first = matching.first,
                    let value = Self.value(of: mapping, series: matching, unit: first.unit)
                else { continue }
                readings.append(SignalReading(region: region, signal: mapping.signal, value: value))
                done.insert(mapping.signal)
            }
        }
        return readings
    }

    private static func value(of mapping: OTLPMetricMapping, series: [SeriesState], unit: String) -> Double? {
        let scale = mapping.scale(forUnit: unit)
        let intervals = series.compactMap(\.interval)
        switch mapping.signal {
        case .errorRate where !mapping.errorWhen.isEmpty:
            var total = 0.0, errors = 0.0, known = false
            for state in series {
                guard let rate = state.interval?.rate else { continue }
                known = true
                total += rate
                if mapping.errorWhen.contains(where: { set in set.allSatisfy { $0.matches(state.attributes) } }) {
                    errors += rate
                }
            }
            return known && total > 0 ? errors / total : nil
        case .p50Ms, .p99Ms:
            let q = mapping.signal == .p50Ms ? 0.5 : 0.99
            var merged = BucketDistribution()
            for interval in intervals { if let distribution = interval.distribution { merged.merge(distribution) } }
            if merged.total > 0 { return merged.quantile(q).map { $0 * scale } }
            let fromSummaries = intervals.compactMap { interval in
                interval.quantiles.first { abs($0.0 - q) < 1e-9 }?.1
            }
            if let worst = fromSummaries.max() { return worst * scale }
            return intervals.compactMap(\.value).max().map { $0 * scale }
        case .requestsPerSecond:
            let rates = intervals.compactMap(\.rate)
            if !rates.isEmpty { return rates.reduce(0, +) * scale }
            let values = intervals.compactMap(\.value)
            return values.isEmpty ? nil : values.reduce(0, +) * scale
        default:
            if let value = intervals.compactMap(\.value).max() { return value * scale }
            let rates = intervals.compactMap(\.rate)
            return rates.isEmpty ? nil : rates.reduce(0, +) * scale
        }
    }
}

/// One `otlp` collector's metrics, shared by its HTTP and gRPC receivers: the interpreter
/// (cumulative series are the same whichever transport brought them) and its heartbeat as the
/// collector `<name>/metrics`, whose interval is the exporters' observed export interval, so
/// metric-derived signals go stale only when exports stop.
public final class OTLPMetricsFeed: Sendable {
    private let interpreter: Mutex<OTLPMetricInterpreter>
    private let lastReport = Mutex<Timestamp?>(nil)
    private let rejections = Mutex<(count: Int, last: String?)>((0, nil))
    public let collector: String

    public init(settings: OTLPReceiverSettings) {
        collector = settings.name + "/metrics"
        interpreter = Mutex(OTLPMetricInterpreter(source: collector, mappings: settings.metricMappings))
    }

    /// The events for one decoded export received at `now`.
    func events(for export: DecodedMetrics, at now: Timestamp) -> CollectionRound {
        let round = interpreter.withLock { $0.events(for: export, at: now) }
        if !round.rejected.isEmpty {
            rejections.withLock { $0 = ($0.count + round.rejected.count, round.rejected.last) }
        }
        return round
    }

    /// The heartbeat once metrics have arrived (at most one a half second, whichever receiver
    /// asks): interval = the exporters' export interval (60 s, the SDKs' default, until seen).
    func report(at now: Timestamp) -> CollectorReport? {
        let (seen, interval) = interpreter.withLock { ($0.rememberedSeries > 0, $0.exportIntervalSeconds) }
        guard seen else { return nil }
        let due = lastReport.withLock { last -> Bool in
            guard last.map({ now.seconds(since: $0) >= 0.5 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return nil }
        let (count, last) = rejections.withLock { $0 }
        return CollectorReport(
            collector: collector, kind: "otlp-metrics", observedAt: now, intervalSeconds: max(1, interval ?? 60),
            regions: [], rejectedCount: count, rejection: last)
    }
}
