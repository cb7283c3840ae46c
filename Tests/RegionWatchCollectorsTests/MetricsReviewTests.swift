import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore

/// Defects a review of the metrics path found, each with the input that triggered it.
@Suite("OTLP metrics: hostile and sparse input")
struct MetricsReviewTests {
    func point(_ attributes: [Attribute], start: Double, at seconds: Double, _ value: MetricPointValue) -> MetricPoint {
        MetricPoint(
            attributes: attributes, startUnixNano: UInt64(Int64(Signals.base) + Int64(start * 1e9)),
            timeUnixNano: UInt64(Int64(Signals.base) + Int64(seconds * 1e9)), value: value)
    }

    func histogram(count: Double) -> MetricPointValue {
        .histogram(count: count, sum: nil, bounds: [0.1], counts: [count, 0], min: nil, max: nil)
    }

    func samples(_ round: CollectionRound) -> [RegionSample] {
        round.events.compactMap { if case .regionSample(let sample) = $0 { sample } else { nil } }
    }

    /// A status code sent as a huge or infinite double trapped converting it to Int.
    @Test func aDoubleStatusCodeOfAnySizeIsCompared() {
        let matcher = AttributeMatcher(key: "http.response.status_code", pattern: "5xx")
        #expect(!matcher.matches([Attribute("http.response.status_code", .double(1e300))]))
        #expect(!matcher.matches([Attribute("http.response.status_code", .double(.infinity))]))
        #expect(matcher.matches([Attribute("http.response.status_code", .double(503))]))
    }

    /// Two points whose offsets lie 4e9 buckets apart allocated a 4e9-element array.
    @Test func farApartExponentialOffsetsAreAResetNotAHugeArray() {
        let earlier = ExponentialBuckets(
            scale: 0, count: 0, sum: nil, zeroCount: 0, positiveOffset: 2_147_483_000, positive: [0])
        let later = ExponentialBuckets(
            scale: 0, count: 1, sum: nil, zeroCount: 0, positiveOffset: -2_147_483_000, positive: [1])
        #expect(later.subtracting(earlier) == nil)
        // At the coarsest scale bucket bounds overflow Double: those buckets are left out.
        var distribution = BucketDistribution()
        distribution.add(
            ExponentialBuckets(scale: -10, count: 2, sum: nil, zeroCount: 0, positiveOffset: 0, positive: [1, 1]))
        #expect(distribution.buckets.allSatisfy { $0.lower.isFinite && $0.upper.isFinite })
    }

    /// The sweep that replaced a quadratic scan gives the same quantiles: checked against the
    /// cumulative count evaluated directly, on random mixes of buckets and point masses.
    @Test func quantilesFromOneSweepMatchTheDirectCumulativeCount() {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            var distribution = BucketDistribution()
            let count = 1 + Int(random.next() % 40)
            var buckets: [BucketDistribution.Bucket] = []
            for _ in 0..<count {
                let lower = Double(random.next() % 100)
                let width = random.next() % 4 == 0 ? 0 : Double(1 + random.next() % 50)
                buckets.append(.init(lower: lower, upper: lower + width, count: Double(1 + random.next() % 20)))
            }
            for bucket in buckets {
                if bucket.upper == bucket.lower {
                    distribution.add(bounds: [bucket.lower], counts: [bucket.count, 0], min: bucket.lower)
                } else {
                    distribution.add(
                        bounds: [bucket.lower, bucket.upper], counts: [0, bucket.count, 0], min: nil, max: nil)
                }
            }
            let total = distribution.total
            func cumulative(_ x: Double) -> Double {
                distribution.buckets.reduce(0) { sum, bucket in
                    if x >= bucket.upper { return sum + bucket.count }
                    if x <= bucket.lower { return sum }
                    return sum + bucket.count * (x - bucket.lower) / (bucket.upper - bucket.lower)
                }
            }
            for q in [0.01, 0.25, 0.5, 0.9, 0.99] {
                guard let value = distribution.quantile(q) else {
                    Issue.record("no quantile")
                    continue
                }
                // The answer is where the cumulative count reaches the rank.
                let rank = q * total
                #expect(
                    cumulative(value) >= rank - 1e-6 * total, "q\(q): \(value) reaches \(cumulative(value)) < \(rank)")
                #expect(cumulative(value - 1e-6) <= rank + 1e-6 * total, "q\(q): \(value) is past the rank")
            }
        }
    }

    /// One request naming thousands of regions published a sample per region, enough to push
    /// span batches (and their ingest reservations) out of the dashboard's queue.
    @Test func oneRequestFeedsABoundedNumberOfRegions() {
        var interpreter = OTLPMetricInterpreter(source: "otlp/metrics")
        var decoded = DecodedMetrics()
        decoded.resources = (0..<600).map { Signals.resource("region-\($0)") }
        decoded.metrics = decoded.resources.indices.map {
            IncomingMetric(
                name: "http.server.request.duration", unit: "ms", kind: .gauge, resourceIndex: $0,
                points: [point([], start: 0, at: 0, .number(5))])
        }
        let round = interpreter.events(for: decoded, at: Signals.now)
        #expect(samples(round).count == OTLPMetricInterpreter.regionsPerRequest)
        #expect(round.rejected.contains { $0.contains("more than 256 regions in one request") })
    }

    /// A delta 5xx series that stopped being exported (no errors in the next interval) kept
    /// its old error rate for minutes.
    @Test func aDeltaSeriesLeftOutOfTheLatestExportCountsAsZero() throws {
        var interpreter = OTLPMetricInterpreter(source: "otlp/metrics")
        let ok = [Attribute("http.response.status_code", .int(200))]
        let failed = [Attribute("http.response.status_code", .int(503))]
        func export(_ points: [MetricPoint], at seconds: Double) -> RegionSample? {
            var decoded = DecodedMetrics()
            decoded.resources = [Signals.resource("eu-west-1")]
            decoded.metrics = [
                IncomingMetric(
                    name: "http.server.request.duration", unit: "s", kind: .histogram(temporality: .delta),
                    points: points)
            ]
            return samples(interpreter.events(for: decoded, at: Signals.now.adding(seconds: seconds))).first
        }
        let first = try #require(
            export(
                [
                    point(ok, start: 0, at: 10, histogram(count: 90)),
                    point(failed, start: 0, at: 10, histogram(count: 10)),
                ],
                at: 10))
        #expect(abs(first.errorRate! - 0.1) < 1e-9)
        let second = try #require(export([point(ok, start: 10, at: 20, histogram(count: 100))], at: 20))
        #expect(second.errorRate == 0, "no 503 series in the latest export: no errors in its interval")
        #expect(second.requestsPerSecond == 10)
    }

    /// "resource" after "scopeLogs"/"scopeMetrics" in the JSON object left the records without
    /// their region.
    @Test func theResourceMayComeAfterTheRecordsInJSON() throws {
        let logs = try Signals.decodeLogs(
            Array(
                #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"x"}}]}],"resource":{"attributes":[{"key":"cloud.region","value":{"stringValue":"eu-west-1"}}]}}]}"#
                    .utf8), json: true)
        #expect(logs.batch.resources[logs.batch.records[0].resourceIndex].region == "eu-west-1")
        let metrics = try Signals.decodeMetrics(
            Array(
                #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"2","asInt":"1"}]}}]}],"resource":{"attributes":[{"key":"cloud.region","value":{"stringValue":"eu-west-1"}}]}}]}"#
                    .utf8), json: true)
        #expect(metrics.resources[metrics.metrics[0].resourceIndex].region == "eu-west-1")
    }

    /// A sum without temporality and without points was counted as one rejected point.
    @Test func aMetricWithoutPointsRejectsNoPoints() throws {
        let metrics = try Signals.decodeMetrics(
            Array(#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"s","sum":{"dataPoints":[]}}]}]}]}"#.utf8),
            json: true)
        #expect(metrics.rejectedPoints == 0 && metrics.rejectionMessage == nil)
    }
}
