#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Observations in buckets with known ranges, from any number of histograms (explicit bounds
/// of any layout, exponential buckets of any scale), for quantiles of their union.
///
/// Inside a bucket observations are taken as spread evenly (as Prometheus'
/// `histogram_quantile` does); the first explicit bucket starts at 0 for positive bounds (or at
/// the histogram's `min`), and the `+Inf` bucket answers with its lower bound (or `max`).
public struct BucketDistribution: Sendable, Equatable {
    /// One bucket: `count` observations in `lower...upper`.
    public struct Bucket: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Double
    }

    public private(set) var buckets: [Bucket] = []

    public init() {}

    /// Observations in the distribution.
    public var total: Double { buckets.reduce(0) { $0 + $1.count } }

    /// Adds explicit-bound buckets (`counts.count == bounds.count + 1`).
    public mutating func add(bounds: [Double], counts: [Double], min: Double? = nil, max: Double? = nil) {
        guard counts.count == bounds.count + 1 else { return }
        for (index, count) in counts.enumerated() where count > 0 {
            var lower = index == 0 ? Swift.min(0, bounds.first ?? 0) : bounds[index - 1]
            var upper = index < bounds.count ? bounds[index] : bounds.last ?? 0
            if index == 0, let min, min.isFinite { lower = Swift.min(min, upper) }
            if index == bounds.count, let max, max.isFinite { upper = Swift.max(max, lower) }
            if index == 0, bounds.first.map({ $0 <= 0 }) ?? true, min == nil { lower = upper }
            buckets.append(Bucket(lower: lower, upper: upper, count: count))
        }
    }

    /// Adds exponential buckets.
    public mutating func add(_ exponential: ExponentialBuckets) {
        let base = pow(2, pow(2, -Double(exponential.scale)))
        if exponential.zeroCount > 0 { buckets.append(Bucket(lower: 0, upper: 0, count: exponential.zeroCount)) }
        // Buckets beyond Double's range (a coarse scale with a far offset) describe no value.
        for (position, count) in exponential.positive.enumerated() where count > 0 {
            let index = Double(Int(exponential.positiveOffset) + position)
            let lower = pow(base, index), upper = pow(base, index + 1)
            if lower.isFinite, upper.isFinite { buckets.append(Bucket(lower: lower, upper: upper, count: count)) }
        }
        for (position, count) in exponential.negative.enumerated() where count > 0 {
            let index = Double(Int(exponential.negativeOffset) + position)
            let lower = -pow(base, index + 1), upper = -pow(base, index)
            if lower.isFinite, upper.isFinite { buckets.append(Bucket(lower: lower, upper: upper, count: count)) }
        }
    }

    public mutating func merge(_ other: BucketDistribution) {
        buckets += other.buckets
    }

    /// The `q` quantile (0…1) of every observation, or `nil` when there are none.
    ///
    /// One sweep over the buckets' edges in order: the cumulative count grows by the sum of the
    /// open buckets' densities between edges and jumps at a zero-width bucket, so any mix of
    /// layouts costs a sort, not a pass over every bucket per edge.
    public func quantile(_ q: Double) -> Double? {
        let total = self.total
        guard total > 0, q.isFinite else { return nil }
        let rank = Swift.min(Swift.max(q, 0), 1) * total
        // At each edge: the change of slope, and the count that sits exactly on it.
        var changes: [(edge: Double, slope: Double, mass: Double)] = []
        changes.reserveCapacity(buckets.count * 2)
        for bucket in buckets {
            if bucket.upper > bucket.lower {
                let density = bucket.count / (bucket.upper - bucket.lower)
                changes.append((bucket.lower, density, 0))
                changes.append((bucket.upper, -density, 0))
            } else {
                changes.append((bucket.lower, 0, bucket.count))
            }
        }
        changes.sort { $0.edge < $1.edge }
        var cumulative = 0.0, slope = 0.0
        var position = changes.first?.edge ?? 0
        var index = 0
        while index < changes.count {
            let edge = changes[index].edge
            // Between the previous edge and this one the count grows linearly.
            let reached = cumulative + slope * (edge - position)
            if reached >= rank, slope > 0 { return position + (rank - cumulative) / slope }
            cumulative = reached
            position = edge
            while index < changes.count, changes[index].edge == edge {
                slope += changes[index].slope
                cumulative += changes[index].mass
                index += 1
            }
            if cumulative >= rank { return edge }
        }
        return position
    }
}

extension ExponentialBuckets {
    /// These buckets at a coarser `scale` (each bucket merges 2^(self.scale − scale) of them).
    func downscaled(to scale: Int32) -> ExponentialBuckets {
        guard scale < self.scale else { return self }
        let shift = Int(self.scale - scale)
        func merge(_ offset: Int32, _ counts: [Double]) -> (Int32, [Double]) {
            guard !counts.isEmpty else { return (0, []) }
            let first = Int(offset) >> shift
            var merged: [Double] = []
            for (position, count) in counts.enumerated() {
                let index = ((Int(offset) + position) >> shift) - first
                while merged.count <= index { merged.append(0) }
                merged[index] += count
            }
            return (Int32(first), merged)
        }
        var result = self
        result.scale = scale
        (result.positiveOffset, result.positive) = merge(positiveOffset, positive)
        (result.negativeOffset, result.negative) = merge(negativeOffset, negative)
        return result
    }

    /// Counts of `self` minus `earlier` bucket by bucket at the coarser of the two scales, or
    /// `nil` when some bucket went down (a reset).
    func subtracting(_ earlier: ExponentialBuckets) -> ExponentialBuckets? {
        let scale = Swift.min(self.scale, earlier.scale)
        let now = downscaled(to: scale), before = earlier.downscaled(to: scale)
        func difference(_ a: (Int32, [Double]), _ b: (Int32, [Double])) -> (Int32, [Double])? {
            guard !b.1.isEmpty else { return a }
            guard !a.1.isEmpty else { return b.1.allSatisfy { $0 == 0 } ? a : nil }
            let low = Swift.min(Int(a.0), Int(b.0))
            let high = Swift.max(Int(a.0) + a.1.count, Int(b.0) + b.1.count)
            // Offsets far apart are not the same series continued: a reset, never a huge array.
            guard high - low <= 2 * DecodedMetrics.maxBuckets else { return nil }
            var result: [Double] = []
            for index in low..<high {
                let x = (index >= Int(a.0) && index < Int(a.0) + a.1.count) ? a.1[index - Int(a.0)] : 0
                let y = (index >= Int(b.0) && index < Int(b.0) + b.1.count) ? b.1[index - Int(b.0)] : 0
                guard x >= y else { return nil }
                result.append(x - y)
            }
            return (Int32(low), result)
        }
        guard now.zeroCount >= before.zeroCount, now.count >= before.count,
            let positive = difference((now.positiveOffset, now.positive), (before.positiveOffset, before.positive)),
            let negative = difference((now.negativeOffset, now.negative), (before.negativeOffset, before.negative))
        else { return nil }
        return ExponentialBuckets(
            scale: scale, count: now.count - before.count,
            sum: now.sum.flatMap { sum in before.sum.map { sum - $0 } }, zeroCount: now.zeroCount - before.zeroCount,
            positiveOffset: positive.0, positive: positive.1, negativeOffset: negative.0, negative: negative.1)
    }
}
