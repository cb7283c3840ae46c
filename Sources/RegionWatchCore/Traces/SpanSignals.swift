#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Latency counts in logarithmic buckets (4 per doubling, from 10 µs to about 20 minutes), so
/// percentiles cost a fixed amount of memory with about ±9% precision.
public struct LatencyHistogram: Equatable, Sendable {
    static let bucketCount = 108
    static let smallestMilliseconds = 0.01
    private(set) var counts = [UInt32](repeating: 0, count: bucketCount)
    public private(set) var total = 0

    public init() {}

    static func bucket(for milliseconds: Double) -> Int {
        guard milliseconds > smallestMilliseconds else { return 0 }
        let index = Int((log2(milliseconds / smallestMilliseconds) * 4).rounded(.up))
        return min(bucketCount - 1, max(0, index))
    }

    /// The upper bound of bucket `index`, in milliseconds.
    static func upperBound(of index: Int) -> Double {
        smallestMilliseconds * pow(2, Double(index) / 4)
    }

    public mutating func record(_ milliseconds: Double) {
        guard milliseconds.isFinite, milliseconds >= 0 else { return }
        counts[Self.bucket(for: milliseconds)] &+= 1
        total += 1
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        total += other.total
    }

    /// The `fraction` quantile (0...1), or `nil` when empty.
    public func quantile(_ fraction: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= rank {
                // Geometric middle of the bucket.
                return index == 0 ? Self.smallestMilliseconds : Self.upperBound(of: index) / pow(2, 0.125)
            }
        }
        return Self.upperBound(of: Self.bucketCount - 1)
    }
}

/// Request rate, error rate and latency percentiles per region from entry spans (SERVER and
/// CONSUMER) over the last `windowSeconds` seconds of receipt time.
public struct SpanSignalWindow: Equatable, Sendable {
    public let windowSeconds: Int
    /// Windows by region name; names come from spans, so the stalest window is forgotten beyond
    /// `regionCapacity` (its figures were old anyway).
    private var regions = RecencyBoundedMap<String, RegionWindow>(capacity: SpanSignalWindow.regionCapacity)
    /// Most regions with a window at once: more than the trace store's region names.
    public static let regionCapacity = 256

    struct Second: Equatable, Sendable {
        var second = Int.min
        var count = 0
        var errors = 0
        var latency = LatencyHistogram()
    }

    struct RegionWindow: Equatable, Sendable {
        var seconds: [Second]
        var lastObservation: Timestamp
        var source: String

        mutating func record(_ observation: EntrySpanObservation, at time: Timestamp, source: String) {
            let second = Int(time.secondsSinceEpoch.rounded(.down))
            let slot = ((second % seconds.count) + seconds.count) % seconds.count
            if seconds[slot].second != second { seconds[slot] = Second(second: second) }
            seconds[slot].count += 1
            if observation.isError { seconds[slot].errors += 1 }
            seconds[slot].latency.record(observation.durationMilliseconds)
            lastObservation = max(lastObservation, time)
            if self.source != source { self.source = source }
        }
    }

    /// Figures for one region.
    public struct Figures: Equatable, Sendable {
        public var requestsPerSecond: Double
        public var errorRate: Double?
        public var p50Milliseconds: Double?
        public var p99Milliseconds: Double?
        /// Receipt time of the newest span counted.
        public var observedAt: Timestamp
        public var source: String
    }

    public init(windowSeconds: Int = 10) {
        self.windowSeconds = windowSeconds
    }

    /// Regions with span data.
    public var regionNames: [String] { regions.keys }

    /// How many region windows are kept and how many were forgotten.
    public var bound: StoreBound {
        StoreBound(
            name: "span signal regions", count: regions.count, capacity: regions.capacity,
            forgotten: regions.forgottenCount)
    }

    /// Counts one entry span received at `time` from `source`.
    public mutating func record(_ observation: EntrySpanObservation, at time: Timestamp, source: String) {
        // Mutated in place in the map: copying the window out and back would copy its
        // histograms on every span.
        regions.update(
            observation.region,
            default: RegionWindow(
                seconds: Array(repeating: Second(), count: windowSeconds + 1), lastObservation: time, source: source)
        ) {
            $0.record(observation, at: time, source: source)
        }
    }

    /// Counts entry spans received together at `time` from `source`: one window lookup per
    /// region of the batch, not one per span (hashing the region name was a tenth of storing
    /// a span).
    public mutating func record(_ observations: [EntrySpanObservation], at time: Timestamp, source: String) {
        var regionsSeen: [String] = []
        for observation in observations where !regionsSeen.contains(observation.region) {
            regionsSeen.append(observation.region)
            guard regionsSeen.count <= 8 else { break }
        }
        guard regionsSeen.count <= 8 else {
            for observation in observations { record(observation, at: time, source: source) }
            return
        }
        for region in regionsSeen {
            regions.update(
                region,
                default: RegionWindow(
                    seconds: Array(repeating: Second(), count: windowSeconds + 1), lastObservation: time,
                    source: source)
            ) { window in
                for observation in observations where observation.region == region {
                    window.record(observation, at: time, source: source)
                }
            }
        }
    }

    /// The figures of `region` over the window ending at `now`, or `nil` without spans in it.
    public func figures(for region: String, at now: Timestamp) -> Figures? {
        guard let window = regions[region] else { return nil }
        let current = Int(now.secondsSinceEpoch.rounded(.down))
        var count = 0, errors = 0
        var latency = LatencyHistogram()
        for second in window.seconds where second.second > current - windowSeconds && second.second <= current {
            count += second.count
            errors += second.errors
            latency.merge(second.latency)
        }
        guard count > 0 else { return nil }
        return Figures(
            requestsPerSecond: Double(count) / Double(windowSeconds),
            errorRate: Double(errors) / Double(count),
            p50Milliseconds: latency.quantile(0.5),
            p99Milliseconds: latency.quantile(0.99),
            observedAt: window.lastObservation,
            source: window.source
        )
    }
}

/// Latency between regions measured from spans: for each ordered pair of regions, recent hop
/// latencies (bounded) and a total count.
public struct HopLatencyMatrix: Equatable, Sendable {
    public struct Pair: Hashable, Sendable {
        public var from: String
        public var to: String
    }

    /// Statistics of one pair.
    public struct Statistics: Equatable, Sendable {
        public var count: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
    }

    /// Most recent samples kept per pair.
    public static let samplesPerPair = 512
    /// Most pairs tracked; a hop between a new pair beyond it forgets the pair whose last hop
    /// is the oldest.
    public static let maximumPairs = 1024

    struct PairHistory: Equatable, Sendable {
        var samples = RingBuffer<Double>(capacity: HopLatencyMatrix.samplesPerPair)
        var total = 0
    }

    private var histories = RecencyBoundedMap<Pair, PairHistory>(capacity: HopLatencyMatrix.maximumPairs)

    public init() {}

    /// Pairs forgotten to make room for newer ones.
    public var forgottenPairs: Int { histories.forgottenCount }

    /// How many pairs are kept and how many were forgotten.
    public var bound: StoreBound {
        StoreBound(
            name: "region hop pairs", count: histories.count, capacity: histories.capacity,
            forgotten: histories.forgottenCount)
    }

    public mutating func record(_ hop: CrossRegionHop) {
        histories.update(Pair(from: hop.from, to: hop.to), default: PairHistory()) { history in
            history.samples.append(hop.latencyMilliseconds)
            history.total += 1
        }
    }

    /// Pairs with at least one hop.
    public var pairs: [Pair] { histories.keys }

    /// Statistics for `from` → `to` over the kept samples, or `nil` without hops.
    public func statistics(from: String, to: String) -> Statistics? {
        guard let history = histories[Pair(from: from, to: to)], !history.samples.isEmpty else { return nil }
        let sorted = history.samples.elements.sorted()
        func quantile(_ fraction: Double) -> Double {
            sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))]
        }
        return Statistics(count: history.total, p50Milliseconds: quantile(0.5), p99Milliseconds: quantile(0.99))
    }
}
