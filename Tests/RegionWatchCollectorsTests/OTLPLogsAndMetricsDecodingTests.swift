import Foundation
import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore
@testable import RegionWatchOTLPProtocol

/// Builders for OTLP logs and metrics in the collectors' tests.
enum Signals {
    static let now = Timestamp(secondsSinceEpoch: 1_795_789_800)
    static let base: UInt64 = 1_795_789_800_000_000_000

    static func resource(_ region: String, service: String = "api", instance: String = "1") -> SpanResource {
        SpanResource(
            region: region, provider: nil, service: service, serviceVersion: nil,
            attributes: [
                Attribute("service.name", .string(service)), Attribute("cloud.region", .string(region)),
                Attribute("service.instance.id", .string(instance)),
            ])
    }

    static func decodeLogs(_ bytes: [UInt8], json: Bool = false) throws(OTLPDecodingError) -> DecodedLogs {
        let result: Result<DecodedLogs, OTLPDecodingError> = bytes.withUnsafeBytes { buffer in
            do throws(OTLPDecodingError) {
                return .success(
                    json
                        ? try OTLPLogsDecoder.decodeJSON(
                            buffer, attribution: RegionAttribution(), source: "otlp", receivedAt: now)
                        : try OTLPLogsDecoder.decodeProtobuf(
                            buffer, attribution: RegionAttribution(), source: "otlp", receivedAt: now))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func decodeMetrics(_ bytes: [UInt8], json: Bool = false) throws(OTLPDecodingError) -> DecodedMetrics {
        let result: Result<DecodedMetrics, OTLPDecodingError> = bytes.withUnsafeBytes { buffer in
            do throws(OTLPDecodingError) {
                return .success(
                    json
                        ? try OTLPMetricsDecoder.decodeJSON(buffer, attribution: RegionAttribution())
                        : try OTLPMetricsDecoder.decodeProtobuf(buffer, attribution: RegionAttribution()))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func logs(_ records: [IncomingLogRecord], region: String = "eu-west-1") -> LogBatch {
        LogBatch(source: "t", receivedAt: now, resources: [resource(region)], records: records)
    }

    /// A cumulative `http.server.request.duration` histogram point (seconds).
    static func durationPoint(
        status: Int, counts: [Double], start: Double = -1000, at seconds: Double,
        bounds: [Double] = [0.005, 0.01, 0.05, 0.1, 0.5, 1]
    ) -> MetricPoint {
        MetricPoint(
            attributes: [
                Attribute("http.request.method", .string("GET")),
                Attribute("http.response.status_code", .int(Int64(status))),
            ],
            startUnixNano: UInt64(Int64(base) + Int64(start * 1e9)),
            timeUnixNano: UInt64(Int64(base) + Int64(seconds * 1e9)),
            value: .histogram(count: counts.reduce(0, +), sum: nil, bounds: bounds, counts: counts, min: nil, max: nil))
    }
}

@Suite("OTLP logs decoding")
struct OTLPLogsDecodingTests {
    @Test func protobufAndJSONGiveTheSameRecords() throws {
        let records = [
            IncomingLogRecord(
                timeUnixNano: Signals.base, severityNumber: 17, severityText: "ERROR", body: "payment failed",
                attributes: [Attribute("order", .int(42))], traceID: TraceID(high: 1, low: 2), spanID: SpanID(3)),
            IncomingLogRecord(timeUnixNano: Signals.base + 1, severityNumber: 9, severityText: "INFO", body: "ok"),
        ]
        for json in [false, true] {
            let batch = Signals.logs(records)
            let bytes = json ? OTLPLogsEncoder.json(batch) : OTLPLogsEncoder.protobuf(batch)
            let decoded = try Signals.decodeLogs(bytes, json: json)
            #expect(decoded.batch.records == records, "json: \(json)")
            #expect(decoded.batch.resources[0].region == "eu-west-1")
            #expect(decoded.rejectionMessage == nil)
        }
    }

    @Test func jsonAcceptsEnumNamesSnakeCaseAndNonStringBodies() throws {
        let decoded = try Signals.decodeLogs(
            Array(
                #"""
                {"resource_logs":[{"scope_logs":[{"log_records":[
                  {"observed_time_unix_nano":"5","severity_number":"SEVERITY_NUMBER_WARN2","body":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}},
                  {"severityText":"fatal","body":{"intValue":7},"traceId":"","spanId":null},
                  {"timeUnixNano":9,"traceId":"0102","body":{"stringValue":"bad id"}},
                  {"timeUnixNano":9,"spanId":"zz00000000000000"}
                ]}]}]}
                """#.utf8), json: true)
        #expect(decoded.batch.records.count == 2)
        #expect(decoded.batch.records[0].timeUnixNano == 5 && decoded.batch.records[0].severityNumber == 14)
        #expect(decoded.batch.records[0].body == "{a: 1}" || decoded.batch.records[0].body.contains("a"))
        #expect(decoded.batch.records[1].severity == .fatal && decoded.batch.records[1].body == "7")
        #expect(decoded.batch.records[1].timeUnixNano == Signals.now.unixNanoseconds, "no time: when received")
        #expect(decoded.rejectionMessage == "rejected 2 of 4 log records: invalid trace id (1), invalid span id (1)")
        #expect(
            String(decoding: DecodedSignalRequest.logs(decoded).jsonResponse, as: UTF8.self).contains(
                #""rejectedLogRecords":"2""#))
        let response = try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse(
            serializedBytes: DecodedSignalRequest.logs(decoded).protobufResponse)
        #expect(response.partialSuccess.rejectedLogRecords == 2)
    }

    @Test(arguments: [
        (#"[]"#, "expected an object"),
        (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"x"}]}]}]}"#, "timeUnixNano"),
        (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":5}}]}]}]}"#, "expected a string"),
        (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":{}}]}]}]}"#, "severityNumber"),
        (#"{"resourceLogs":[{"#, "malformed JSON"),
        (#"{"resourceLogs":[]} trailing"#, "unexpected data"),
    ])
    func malformedJSONIsRefusedWithWhere(body: String, expected: String) {
        #expect {
            try Signals.decodeLogs(Array(body.utf8), json: true)
        } throws: { error in
            (error as? OTLPDecodingError)?.description.contains(expected) == true
        }
    }

    @Test func hostileProtobufIsRefusedOrBounded() throws {
        let valid = OTLPLogsEncoder.protobuf(Signals.logs([IncomingLogRecord(timeUnixNano: 1, body: "hello")]))
        for cut in [1, 3, valid.count / 2, valid.count - 1] {
            #expect(throws: OTLPDecodingError.self) { try Signals.decodeLogs(Array(valid.prefix(cut))) }
        }
        #expect(throws: OTLPDecodingError.self) { try Signals.decodeLogs([]) }
        #expect(throws: OTLPDecodingError.self) { try Signals.decodeLogs([0xFF, 0xFF, 0xFF, 0xFF]) }
        // Invalid UTF-8 in the body string.
        var invalid = valid
        if let index = invalid.firstRange(of: Array("hello".utf8))?.lowerBound {
            invalid[index] = 0xC3
            invalid[index + 1] = 0x28
        }
        #expect {
            try Signals.decodeLogs(invalid)
        } throws: { error in
            (error as? OTLPDecodingError)?.description.contains("UTF-8") == true
        }
        // A record with 10,000 attributes is decoded; the store keeps its limit of them.
        let many = (0..<10_000).map { Attribute("k\($0)", .int(Int64($0))) }
        let decoded = try Signals.decodeLogs(
            OTLPLogsEncoder.protobuf(Signals.logs([IncomingLogRecord(timeUnixNano: 1, body: "x", attributes: many)])))
        var store = LogStore()
        _ = store.insert(decoded.batch)
        #expect(
            store.newest(matching: LogQuery(), limit: 1).records[0].attributes.count == LogStoreLimits().maxAttributes
                + 1)
    }
}

@Suite("OTLP metrics decoding and interpretation")
struct OTLPMetricsTests {
    static let bounds = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0]

    @Test func protobufAndJSONDecodeEveryKind() throws {
        let points = [Signals.durationPoint(status: 200, counts: [1, 2, 3, 4, 0, 0, 0], at: 10)]
        let metrics = [
            IncomingMetric(
                name: "http.server.request.duration", unit: "s", kind: .histogram(temporality: .cumulative),
                points: points),
            IncomingMetric(
                name: "queue.depth", unit: "{item}", kind: .gauge,
                points: [MetricPoint(attributes: [], startUnixNano: 0, timeUnixNano: Signals.base, value: .number(7))]),
            IncomingMetric(
                name: "requests", unit: "1", kind: .sum(monotonic: true, temporality: .delta),
                points: [
                    MetricPoint(
                        attributes: [], startUnixNano: Signals.base - 1_000_000_000, timeUnixNano: Signals.base,
                        value: .number(5))
                ]),
            IncomingMetric(
                name: "latency.exp", unit: "ms", kind: .exponentialHistogram(temporality: .delta),
                points: [
                    MetricPoint(
                        attributes: [], startUnixNano: 1, timeUnixNano: Signals.base,
                        value: .exponential(
                            ExponentialBuckets(
                                scale: 2, count: 6, sum: 60, zeroCount: 1, positiveOffset: 10, positive: [2, 3])))
                ]),
            IncomingMetric(
                name: "rpc.summary", unit: "s", kind: .summary,
                points: [
                    MetricPoint(
                        attributes: [], startUnixNano: 1, timeUnixNano: Signals.base,
                        value: .summary(count: 10, sum: 2, quantiles: [(0.5, 0.1), (0.99, 0.9)]))
                ]),
        ]
        let decoded = try Signals.decodeMetrics(
            OTLPMetricsEncoder.protobuf(resources: [Signals.resource("eu-west-1")], metrics: metrics))
        #expect(decoded.rejectionMessage == nil)
        #expect(decoded.metrics == metrics)

        let json = try Signals.decodeMetrics(
            Array(
                #"""
                {"resourceMetrics":[{"resource":{"attributes":[{"key":"cloud.region","value":{"stringValue":"eu-west-1"}}]},
                 "scopeMetrics":[{"metrics":[
                  {"name":"http.server.request.duration","unit":"s","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
                    "dataPoints":[{"startTimeUnixNano":"1","timeUnixNano":"2","count":"10","sum":1.5,"bucketCounts":["1","2","3","4","0","0","0"],"explicitBounds":[0.005,0.01,0.05,0.1,0.5,1]}]}},
                  {"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"2","asInt":"-3"},{"timeUnixNano":"2","asDouble":"NaN"}]}},
                  {"name":"c","sum":{"aggregation_temporality":1,"is_monotonic":true,"data_points":[{"time_unix_nano":"2","as_double":4}]}},
                  {"name":"e","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"2","count":"3","scale":-1,"zeroCount":"1","positive":{"offset":-2,"bucketCounts":["2"]}}]}},
                  {"name":"nt","sum":{"dataPoints":[{"timeUnixNano":"2","asInt":"1"}]}}
                 ]}]}]}
                """#.utf8), json: true)
        #expect(json.metrics.map(\.name) == ["http.server.request.duration", "g", "c", "e"])
        #expect(json.metrics[1].points.count == 1, "NaN is rejected, -3 kept")
        #expect(json.resources[0].region == "eu-west-1")
        #expect(
            json.rejectionMessage
                == "rejected 2 of 6 data points: g: value nan is not a number (1), nt: no aggregation temporality (1)")
    }

    @Test func inconsistentPointsAreRejectedOneByOne() throws {
        func point(_ value: MetricPointValue, time: UInt64 = Signals.base, start: UInt64 = 0) -> MetricPoint {
            MetricPoint(attributes: [], startUnixNano: start, timeUnixNano: time, value: value)
        }
        let histogram = MetricKind.histogram(temporality: .delta)
        let cases: [(MetricKind, MetricPoint, String)] = [
            (
                histogram, point(.histogram(count: 3, sum: nil, bounds: [1, 2], counts: [1, 2], min: nil, max: nil)),
                "2 bucket counts for 2 bounds"
            ),
            (
                histogram,
                point(.histogram(count: 3, sum: nil, bounds: [2, 1], counts: [1, 1, 1], min: nil, max: nil)),
                "not increasing"
            ),
            (
                histogram, point(.histogram(count: 9, sum: nil, bounds: [1], counts: [1, 1], min: nil, max: nil)),
                "add up to 2.0, not count 9.0"
            ),
            (
                histogram,
                point(.histogram(count: 2, sum: nil, bounds: [.infinity], counts: [1, 1], min: nil, max: nil)),
                "not finite"
            ),
            (
                .exponentialHistogram(temporality: .delta),
                point(
                    .exponential(
                        ExponentialBuckets(scale: 40, count: 0, sum: nil, zeroCount: 0, positiveOffset: 0, positive: [])
                    )), "scale 40"
            ),
            (.gauge, point(.number(1), time: 0), "missing time"),
            (.gauge, point(.number(1), time: 5, start: 9), "start time after time"),
            (.sum(monotonic: true, temporality: .cumulative), point(.number(-1)), "monotonic sum is negative"),
        ]
        for (kind, bad, expected) in cases {
            let metric = IncomingMetric(name: "m", unit: "", kind: kind, points: [bad])
            let decoded = try Signals.decodeMetrics(
                OTLPMetricsEncoder.protobuf(resources: [Signals.resource("r")], metrics: [metric]))
            #expect(decoded.metrics.isEmpty && decoded.rejectedPoints == 1)
            #expect(
                decoded.rejectionMessage?.contains(expected) == true,
                "\(decoded.rejectionMessage ?? "nil") lacks \(expected)")
        }
    }

    @Test func malformedMetricsBodiesAreRefused() {
        let valid = OTLPMetricsEncoder.protobuf(
            resources: [Signals.resource("r")],
            metrics: [
                IncomingMetric(
                    name: "g", unit: "", kind: .gauge,
                    points: [MetricPoint(attributes: [], startUnixNano: 0, timeUnixNano: 1, value: .number(1))])
            ])
        for cut in [2, valid.count / 2, valid.count - 1] {
            #expect(throws: OTLPDecodingError.self) { try Signals.decodeMetrics(Array(valid.prefix(cut))) }
        }
        for body in [
            #"{"resourceMetrics":"x"}"#,
            #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":true}]}}]}]}]}"#,
        ] {
            #expect(throws: OTLPDecodingError.self) { try Signals.decodeMetrics(Array(body.utf8), json: true) }
        }
        let tooMany =
            #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"aggregationTemporality":1,"dataPoints":[{"bucketCounts":["#
            + Array(repeating: "1", count: 5000).joined(separator: ",") + "]}]}}]}]}]}"
        #expect {
            try Signals.decodeMetrics(Array(tooMany.utf8), json: true)
        } throws: { error in
            (error as? OTLPDecodingError)?.description.contains("too many bucket counts") == true
        }
    }

    // MARK: Quantiles

    /// Observations drawn from a known distribution, bucketed like an SDK would.
    static func observations(count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        // Log-normal around 40 ms.
        return (0..<count).map { _ in
            let u1 = Double.random(in: 0.0001..<1, using: &generator), u2 = Double.random(in: 0..<1, using: &generator)
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return exp(log(0.04) + 0.6 * normal)
        }
    }

    static func exactQuantile(_ q: Double, _ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
    }

    @Test func explicitAndExponentialQuantilesMatchTheTrueQuantileWithinABucket() {
        let values = Self.observations(count: 20_000, seed: 7)
        // Explicit: the SDK's default boundaries, in seconds.
        let bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
        var counts = [Double](repeating: 0, count: bounds.count + 1)
        for value in values { counts[bounds.firstIndex { value <= $0 } ?? bounds.count] += 1 }
        var explicit = BucketDistribution()
        explicit.add(bounds: bounds, counts: counts)
        // Exponential at scale 3 (8 buckets per doubling: ±4.4%).
        let scale: Int32 = 3
        let base = pow(2, pow(2, -Double(scale)))
        var indexCounts: [Int: Double] = [:]
        for value in values { indexCounts[Int((log(value) / log(base)).rounded(.up)) - 1, default: 0] += 1 }
        let low = indexCounts.keys.min()!, high = indexCounts.keys.max()!
        var exponential = BucketDistribution()
        exponential.add(
            ExponentialBuckets(
                scale: scale, count: Double(values.count), sum: nil, zeroCount: 0, positiveOffset: Int32(low),
                positive: (low...high).map { indexCounts[$0] ?? 0 }))
        for q in [0.5, 0.9, 0.99] {
            let truth = Self.exactQuantile(q, values)
            let bucket = bounds.firstIndex { truth <= $0 }!
            let (lower, upper) = (bucket == 0 ? 0 : bounds[bucket - 1], bounds[bucket])
            let estimate = explicit.quantile(q)!
            #expect(
                estimate >= lower && estimate <= upper,
                "q\(q): \(estimate) outside [\(lower), \(upper)] of truth \(truth)")
            #expect(
                abs(exponential.quantile(q)! - truth) / truth < 0.05,
                "q\(q) exponential \(exponential.quantile(q)!) vs \(truth)")
        }
        // Differently bucketed histograms merge into one distribution.
        var merged = explicit
        merged.merge(exponential)
        #expect(merged.total == Double(2 * values.count))
        #expect(abs(merged.quantile(0.5)! - Self.exactQuantile(0.5, values)) / Self.exactQuantile(0.5, values) < 0.15)
    }

    @Test func exponentialCountsSubtractAcrossADownscale() throws {
        let earlier = ExponentialBuckets(
            scale: 2, count: 3, sum: nil, zeroCount: 0, positiveOffset: 4, positive: [1, 1, 1])
        // Later the SDK downscaled to 1: buckets 4,5 → 2 and 6 → 3, plus new observations.
        let later = ExponentialBuckets(scale: 1, count: 7, sum: nil, zeroCount: 1, positiveOffset: 2, positive: [3, 3])
        let difference = try #require(later.subtracting(earlier))
        #expect(difference.scale == 1 && difference.positiveOffset == 2 && difference.positive == [1, 2])
        #expect(difference.count == 4 && difference.zeroCount == 1)
        let reset = ExponentialBuckets(scale: 2, count: 1, sum: nil, zeroCount: 0, positiveOffset: 4, positive: [1])
        #expect(reset.subtracting(earlier) == nil, "counts that went down are a reset")
    }

    // MARK: Interpretation

    func interpret(
        _ exports: [(seconds: Double, metrics: [IncomingMetric])],
        resources: [SpanResource] = [Signals.resource("eu-west-1")]
    )
        -> (readings: [[RegionSample]], interpreter: OTLPMetricInterpreter)
    {
        var interpreter = OTLPMetricInterpreter(source: "otlp/metrics")
        var samples: [[RegionSample]] = []
        for export in exports {
            var decoded = DecodedMetrics()
            decoded.resources = resources
            decoded.metrics = export.metrics
            let round = interpreter.events(for: decoded, at: Signals.now.adding(seconds: export.seconds))
            samples.append(round.events.compactMap { if case .regionSample(let sample) = $0 { sample } else { nil } })
        }
        return (samples, interpreter)
    }

    static func duration(
        _ points: [MetricPoint], temporality: MetricTemporality = .cumulative, unit: String = "s"
    ) -> IncomingMetric {
        IncomingMetric(
            name: "http.server.request.duration", unit: unit, kind: .histogram(temporality: temporality), points: points
        )
    }

    @Test func httpSemanticConventionsGiveRateErrorsAndLatencyOfTheInterval() throws {
        // 10 s apart: 100 more OK requests (all in 10–50 ms), 5 more 503s (in 0.5–1 s).
        let first = [
            Signals.durationPoint(status: 200, counts: [0, 0, 1000, 0, 0, 0, 0], at: 0, bounds: Self.bounds),
            Signals.durationPoint(status: 503, counts: [0, 0, 0, 0, 0, 10, 0], at: 0, bounds: Self.bounds),
        ]
        let second = [
            Signals.durationPoint(status: 200, counts: [0, 0, 1100, 0, 0, 0, 0], at: 10, bounds: Self.bounds),
            Signals.durationPoint(status: 503, counts: [0, 0, 0, 0, 0, 15, 0], at: 10, bounds: Self.bounds),
        ]
        let (samples, _) = interpret([(0, [Self.duration(first)]), (10, [Self.duration(second)])])
        #expect(samples[0].isEmpty, "one cumulative point of unknown age gives no rate")
        let sample = try #require(samples[1].first)
        #expect(sample.source == "otlp/metrics" && sample.region == "eu-west-1")
        #expect(abs(sample.requestsPerSecond! - 10.5) < 1e-9)
        #expect(abs(sample.errorRate! - 5.0 / 105) < 1e-9)
        // Oracle: of 105 observations, 100 are uniform in 10–50 ms and 5 in 500–1000 ms.
        // p50 is rank 52.5 → 10 + 40 × 52.5/100 = 31 ms; p99 is rank 103.95 → 500 + 500 × 3.95/5 = 895 ms.
        #expect(abs(sample.p50Milliseconds! - 31) < 1e-6)
        #expect(abs(sample.p99Milliseconds! - 895) < 1e-6)
    }

    @Test func aCumulativeResetStartsAnewFromItsStartTime() throws {
        let before = [
            Signals.durationPoint(
                status: 200, counts: [0, 0, 500, 0, 0, 0, 0], start: -100, at: 0, bounds: Self.bounds)
        ]
        let continued = [
            Signals.durationPoint(
                status: 200, counts: [0, 0, 600, 0, 0, 0, 0], start: -100, at: 10, bounds: Self.bounds)
        ]
        // The process restarted at 15 s: a new start time and counts from zero.
        let restarted = [
            Signals.durationPoint(status: 200, counts: [0, 0, 20, 0, 0, 0, 0], start: 15, at: 20, bounds: Self.bounds)
        ]
        let (samples, _) = interpret([
            (0, [Self.duration(before)]), (10, [Self.duration(continued)]), (20, [Self.duration(restarted)]),
        ])
        #expect(samples[1].first?.requestsPerSecond == 10)
        #expect(
            samples[2].first?.requestsPerSecond == 4, "20 requests in the 5 s since the new start, not a negative rate")
        // Counts that went down with the same start are a reset too.
        let lower = [
            Signals.durationPoint(
                status: 200, counts: [0, 0, 100, 0, 0, 0, 0], start: -100, at: 20, bounds: Self.bounds)
        ]
        let (afterDrop, _) = interpret([(0, [Self.duration(before)]), (20, [Self.duration(lower)])])
        #expect(afterDrop[1].isEmpty || (afterDrop[1].first?.requestsPerSecond ?? 0) >= 0)
    }

    @Test func deltaPointsAreIntervalsAsTheyCome() throws {
        let point = MetricPoint(
            attributes: [Attribute("http.response.status_code", .int(200))], startUnixNano: Signals.base,
            timeUnixNano: Signals.base + 5_000_000_000,
            value: .histogram(
                count: 50, sum: nil, bounds: Self.bounds, counts: [0, 50, 0, 0, 0, 0, 0], min: nil, max: nil))
        let (samples, _) = interpret([(5, [Self.duration([point], temporality: .delta, unit: "ms")])])
        let sample = try #require(samples[0].first)
        #expect(sample.requestsPerSecond == 10)
        #expect(sample.errorRate == 0)
        // Unit ms: no conversion; 50 in (0.005, 0.01] ms.
        #expect(sample.p99Milliseconds! <= 0.01 && sample.p99Milliseconds! > 0.005)
    }

    @Test func servicesExportingAtDifferentMomentsAddUp() throws {
        let resources = [Signals.resource("eu-west-1", service: "api"), Signals.resource("eu-west-1", service: "web")]
        func metric(_ resource: Int, count: Double, at seconds: Double) -> IncomingMetric {
            var metric = Self.duration([
                Signals.durationPoint(
                    status: 200, counts: [0, 0, count, 0, 0, 0, 0], start: -1, at: seconds, bounds: Self.bounds)
            ])
            metric.resourceIndex = resource
            return metric
        }
        var interpreter = OTLPMetricInterpreter(source: "otlp/metrics")
        func send(_ metrics: [IncomingMetric], at seconds: Double) -> RegionSample? {
            var decoded = DecodedMetrics()
            decoded.resources = resources
            decoded.metrics = metrics
            return interpreter.events(for: decoded, at: Signals.now.adding(seconds: seconds)).events.compactMap {
                if case .regionSample(let sample) = $0 { sample } else { nil }
            }.first
        }
        _ = send([metric(0, count: 0, at: 0)], at: 0)
        _ = send([metric(1, count: 0, at: 1)], at: 1)
        let first = try #require(send([metric(0, count: 100, at: 10)], at: 10)?.requestsPerSecond)
        #expect(abs(first - 10) < 1e-9, "web's first interval had no requests")
        let both = try #require(send([metric(1, count: 180, at: 11)], at: 11)?.requestsPerSecond)
        #expect(abs(both - 28) < 1e-9, "api's fresh interval and web's add up")
    }

    @Test func aConfiguredMappingFeedsAnySignalAndImplausibleValuesAreCounted() throws {
        var interpreter = OTLPMetricInterpreter(
            source: "otlp/metrics",
            mappings: [
                OTLPMetricMapping(
                    signal: .trafficShare, metric: "lb.share",
                    matchers: [AttributeMatcher(key: "pool", pattern: "main")]),
                OTLPMetricMapping(signal: .p99Ms, metric: "rpc.latency", scale: 1),
            ])
        var decoded = DecodedMetrics()
        decoded.resources = [Signals.resource("us-east-1")]
        func gauge(_ name: String, _ value: Double, pool: String = "main") -> IncomingMetric {
            IncomingMetric(
                name: name, unit: "", kind: .gauge,
                points: [
                    MetricPoint(
                        attributes: [Attribute("pool", .string(pool))], startUnixNano: 0, timeUnixNano: Signals.base,
                        value: .number(value))
                ])
        }
        decoded.metrics = [gauge("lb.share", 0.4), gauge("lb.share", 0.9, pool: "canary"), gauge("rpc.latency", -5)]
        let round = interpreter.events(for: decoded, at: Signals.now)
        let sample = try #require(
            round.events.compactMap { if case .regionSample(let sample) = $0 { sample } else { nil } }.first)
        #expect(sample.trafficShare == 0.4, "only the matching series")
        #expect(sample.p99Milliseconds == nil)
        #expect(round.rejected == ["p99Ms of us-east-1: -5.0 is negative"])
        let catalog = round.events.compactMap { if case .metrics(let batch) = $0 { batch } else { nil } }.first
        #expect(catalog?.updates.map(\.metric) == ["lb.share", "lb.share", "rpc.latency"])
        #expect(catalog?.updates.first?.summary == "0.400")
    }

    @Test func rememberedSeriesAreBounded() {
        var interpreter = OTLPMetricInterpreter(source: "otlp/metrics")
        var decoded = DecodedMetrics()
        decoded.resources = [Signals.resource("r")]
        decoded.metrics = [
            IncomingMetric(
                name: "churn", unit: "", kind: .sum(monotonic: true, temporality: .cumulative),
                points: (0..<(OTLPMetricInterpreter.seriesCapacity + 500)).map {
                    MetricPoint(
                        attributes: [Attribute("id", .int(Int64($0)))], startUnixNano: 1, timeUnixNano: Signals.base,
                        value: .number(1))
                })
        ]
        _ = interpreter.events(for: decoded, at: Signals.now)
        #expect(interpreter.rememberedSeries == OTLPMetricInterpreter.seriesCapacity)
    }
}
