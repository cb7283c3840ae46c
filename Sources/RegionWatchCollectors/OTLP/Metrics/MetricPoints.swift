import RegionWatchCore

/// How a metric's points add up over time (OTLP `AggregationTemporality`).
public enum MetricTemporality: String, Sendable, Equatable {
    /// Each point counts since the previous one.
    case delta
    /// Each point counts since the series' start time (a reset starts anew).
    case cumulative
}

/// One OTLP metric's kind.
public enum MetricKind: Sendable, Equatable {
    case gauge
    case sum(monotonic: Bool, temporality: MetricTemporality)
    case histogram(temporality: MetricTemporality)
    case exponentialHistogram(temporality: MetricTemporality)
    case summary

    /// `gauge`, `counter`, `updown`, `histogram`, `exp-histogram`, `summary`.
    public var name: String {
        switch self {
        case .gauge: "gauge"
        case .sum(let monotonic, _): monotonic ? "counter" : "updown"
        case .histogram: "histogram"
        case .exponentialHistogram: "exp-histogram"
        case .summary: "summary"
        }
    }

    var temporality: MetricTemporality? {
        switch self {
        case .gauge, .summary: nil
        case .sum(_, let temporality), .histogram(let temporality), .exponentialHistogram(let temporality):
            temporality
        }
    }
}

/// The value of one data point.
public enum MetricPointValue: Sendable, Equatable {
    case number(Double)
    /// Explicit buckets: `counts` has one more entry than `bounds` (the last is `+Inf`).
    case histogram(count: Double, sum: Double?, bounds: [Double], counts: [Double], min: Double?, max: Double?)
    case exponential(ExponentialBuckets)
    /// Pre-computed quantiles (`quantile` → value).
    case summary(count: Double, sum: Double, quantiles: [(Double, Double)])

    public static func == (lhs: MetricPointValue, rhs: MetricPointValue) -> Bool {
        switch (lhs, rhs) {
        case (.number(let left), .number(let right)): left == right || (left.isNaN && right.isNaN)
        case (
            .histogram(let a, let b, let c, let d, let e, let f), .histogram(let g, let h, let i, let j, let k, let l)
        ):
            a == g && b == h && c == i && d == j && e == k && f == l
        case (.exponential(let left), .exponential(let right)): left == right
        case (.summary(let a, let b, let c), .summary(let d, let e, let f)):
            a == d && b == e && c.map(\.0) == f.map(\.0) && c.map(\.1) == f.map(\.1)
        default: false
        }
    }
}

/// An exponential histogram's buckets: bucket `i` of a side covers (base^i, base^(i+1)] with
/// base = 2^(2^-scale).
public struct ExponentialBuckets: Sendable, Equatable {
    public var scale: Int32
    public var count: Double
    public var sum: Double?
    public var zeroCount: Double
    public var positiveOffset: Int32
    public var positive: [Double]
    public var negativeOffset: Int32
    public var negative: [Double]

    public init(
        scale: Int32, count: Double, sum: Double?, zeroCount: Double, positiveOffset: Int32, positive: [Double],
        negativeOffset: Int32 = 0, negative: [Double] = []
    ) {
        self.scale = scale
        self.count = count
        self.sum = sum
        self.zeroCount = zeroCount
        self.positiveOffset = positiveOffset
        self.positive = positive
        self.negativeOffset = negativeOffset
        self.negative = negative
    }

    /// Scales OTLP allows.
    static let scales: ClosedRange<Int32> = -10...20
}

/// One data point of a metric.
public struct MetricPoint: Sendable, Equatable {
    public var attributes: [Attribute]
    public var startUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var value: MetricPointValue

    public init(attributes: [Attribute], startUnixNano: UInt64, timeUnixNano: UInt64, value: MetricPointValue) {
        self.attributes = attributes
        self.startUnixNano = startUnixNano
        self.timeUnixNano = timeUnixNano
        self.value = value
    }
}

/// One metric of an export with its valid points.
public struct IncomingMetric: Sendable, Equatable {
    public var name: String
    public var unit: String
    public var kind: MetricKind
    public var resourceIndex: Int
    public var points: [MetricPoint]

    public init(name: String, unit: String, kind: MetricKind, resourceIndex: Int = 0, points: [MetricPoint]) {
        self.name = name
        self.unit = unit
        self.kind = kind
        self.resourceIndex = resourceIndex
        self.points = points
    }
}

/// One decoded OTLP metrics export: resources, metrics with their valid points, and what was
/// rejected and why.
public struct DecodedMetrics: Sendable {
    public var resources: [SpanResource] = []
    public var metrics: [IncomingMetric] = []
    var rejected = RejectionTally()

    /// Valid data points.
    public var pointCount: Int { metrics.reduce(0) { $0 + $1.points.count } }

    /// Points refused inside the request.
    public var rejectedPoints: Int { rejected.count }

    /// The `partial_success.error_message` text, or `nil` when nothing was rejected.
    public var rejectionMessage: String? {
        rejected.message(accepted: pointCount, noun: OTLPSignal.metrics.itemNoun)
    }

    /// Most buckets a histogram point may have (explicit or one exponential side).
    static let maxBuckets = 1024

    /// Adds a point after checking it, or counts why it is refused.
    mutating func add(_ point: MetricPoint, flags: UInt32, to metric: inout IncomingMetric) {
        // FLAG_NO_RECORDED_VALUE: a staleness marker, not a value.
        if flags & 1 == 1 { return }
        if let problem = Self.problem(of: point, kind: metric.kind) {
            rejected.reject("\(metric.name.isEmpty ? "unnamed metric" : metric.name): \(problem)")
            return
        }
        metric.points.append(point)
    }

    /// Why a point cannot be used, or `nil`.
    static func problem(of point: MetricPoint, kind: MetricKind) -> String? {
        if point.timeUnixNano == 0 { return "missing time" }
        if point.startUnixNano > point.timeUnixNano { return "start time after time" }
        switch point.value {
        case .number(let value):
            if !value.isFinite { return "value \(value) is not a number" }
        case .histogram(let count, let sum, let bounds, let counts, _, _):
            if counts.isEmpty { return count == 0 || sum != nil ? nil : "no buckets" }
            if counts.count != bounds.count + 1 {
                return "\(counts.count) bucket counts for \(bounds.count) bounds (expected \(bounds.count + 1))"
            }
            if counts.count > maxBuckets { return "more than \(maxBuckets) buckets" }
            if bounds.contains(where: { !$0.isFinite }) { return "a bucket bound is not finite" }
            if zip(bounds, bounds.dropFirst()).contains(where: { $0 >= $1 }) {
                return "bucket bounds are not increasing"
            }
            if counts.reduce(0, +) != count {
                return "bucket counts add up to \(counts.reduce(0, +)), not count \(count)"
            }
        case .exponential(let buckets):
            if !ExponentialBuckets.scales.contains(buckets.scale) { return "scale \(buckets.scale) outside -10…20" }
            if buckets.positive.count > maxBuckets || buckets.negative.count > maxBuckets {
                return "more than \(maxBuckets) buckets"
            }
            let total = buckets.zeroCount + buckets.positive.reduce(0, +) + buckets.negative.reduce(0, +)
            if total != buckets.count { return "bucket counts add up to \(total), not count \(buckets.count)" }
        case .summary(_, let sum, let quantiles):
            if !sum.isFinite { return "sum \(sum) is not a number" }
            if quantiles.contains(where: { !(0...1).contains($0.0) }) { return "a quantile outside 0…1" }
        }
        if case .sum(true, _) = kind, case .number(let value) = point.value, value < 0 {
            return "a monotonic sum is negative (\(value))"
        }
        return nil
    }
}
