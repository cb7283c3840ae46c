import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol
import SwiftProtobuf

typealias ExportMetricsServiceRequest = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
typealias ProtoNumberPoint = Opentelemetry_Proto_Metrics_V1_NumberDataPoint

/// Decodes OTLP metrics exports, `application/x-protobuf` (swift-protobuf's generated
/// messages) and `application/json` (the hand-written scanner). Points that cannot be used
/// (no time, buckets that do not add up, values that are not numbers) are rejected one by one
/// with their reason (partial success); the rest are kept.
public enum OTLPMetricsDecoder {
    public static func decodeProtobuf(
        _ bytes: UnsafeRawBufferPointer, attribution: RegionAttribution
    ) throws(OTLPDecodingError) -> DecodedMetrics {
        let request = try OTLPProtobufDecoder.message(
            ExportMetricsServiceRequest.self, from: bytes, named: OTLPSignal.metrics.requestName)
        var decoded = DecodedMetrics()
        for resourceMetrics in request.resourceMetrics {
            decoded.resources.append(
                attribution.resource(from: OTLPProtobufDecoder.attributes(resourceMetrics.resource.attributes)))
            let resourceIndex = decoded.resources.count - 1
            for scopeMetrics in resourceMetrics.scopeMetrics {
                for metric in scopeMetrics.metrics {
                    convert(metric, resourceIndex: resourceIndex, into: &decoded)
                }
            }
        }
        return decoded
    }

    private static func temporality(
        _ value: Opentelemetry_Proto_Metrics_V1_AggregationTemporality
    ) -> MetricTemporality? {
        switch value {
        case .delta: .delta
        case .cumulative: .cumulative
        default: nil
        }
    }

    private static func convert(
        _ metric: Opentelemetry_Proto_Metrics_V1_Metric, resourceIndex: Int, into decoded: inout DecodedMetrics
    ) {
        let label = metric.name.isEmpty ? "unnamed metric" : metric.name
        func attributes(_ list: [Opentelemetry_Proto_Common_V1_KeyValue]) -> [Attribute] {
            OTLPProtobufDecoder.attributes(list)
        }
        func numberPoints(_ list: [ProtoNumberPoint]) -> [(MetricPoint, UInt32)] {
            list.map { point in
                let value: Double =
                    switch point.value {
                    case .asDouble(let value): value
                    case .asInt(let value): Double(value)
                    case nil: .nan
                    }
                return (
                    MetricPoint(
                        attributes: attributes(point.attributes), startUnixNano: point.startTimeUnixNano,
                        timeUnixNano: point.timeUnixNano, value: .number(value)), point.flags
                )
            }
        }
        var kind = MetricKind.gauge
        var points: [(MetricPoint, UInt32)] = []
        switch metric.data {
        case .gauge(let gauge):
            points = numberPoints(gauge.dataPoints)
        case .sum(let sum):
            guard let temporality = temporality(sum.aggregationTemporality) else {
                return decoded.reject(sum.dataPoints.count, "\(label): sum without aggregation temporality")
            }
            kind = .sum(monotonic: sum.isMonotonic, temporality: temporality)
            points = numberPoints(sum.dataPoints)
        case .histogram(let histogram):
            guard let temporality = temporality(histogram.aggregationTemporality) else {
                return decoded.reject(
                    histogram.dataPoints.count, "\(label): histogram without aggregation temporality")
            }
            kind = .histogram(temporality: temporality)
            points = histogram.dataPoints.map { point in
                (
                    MetricPoint(
                        attributes: attributes(point.attributes), startUnixNano: point.startTimeUnixNano,
                        timeUnixNano: point.timeUnixNano,
                        value: .histogram(
                            count: Double(point.count), sum: point.hasSum ? point.sum : nil,
                            bounds: point.explicitBounds, counts: point.bucketCounts.map { Double($0) },
                            min: point.hasMin ? point.min : nil, max: point.hasMax ? point.max : nil)), point.flags
                )
            }
        case .exponentialHistogram(let histogram):
            guard let temporality = temporality(histogram.aggregationTemporality) else {
                return decoded.reject(
                    histogram.dataPoints.count, "\(label): histogram without aggregation temporality")
            }
            kind = .exponentialHistogram(temporality: temporality)
            points = histogram.dataPoints.map { point in
                (
                    MetricPoint(
                        attributes: attributes(point.attributes), startUnixNano: point.startTimeUnixNano,
                        timeUnixNano: point.timeUnixNano,
                        value: .exponential(
                            ExponentialBuckets(
                                scale: point.scale, count: Double(point.count), sum: point.hasSum ? point.sum : nil,
                                zeroCount: Double(point.zeroCount), positiveOffset: point.positive.offset,
                                positive: point.positive.bucketCounts.map { Double($0) },
                                negativeOffset: point.negative.offset,
                                negative: point.negative.bucketCounts.map { Double($0) }))), point.flags
                )
            }
        case .summary(let summary):
            kind = .summary
            points = summary.dataPoints.map { point in
                (
                    MetricPoint(
                        attributes: attributes(point.attributes), startUnixNano: point.startTimeUnixNano,
                        timeUnixNano: point.timeUnixNano,
                        value: .summary(
                            count: Double(point.count), sum: point.sum,
                            quantiles: point.quantileValues.map { ($0.quantile, $0.value) })), point.flags
                )
            }
        case nil:
            return
        }
        var incoming = IncomingMetric(
            name: metric.name, unit: metric.unit, kind: kind, resourceIndex: resourceIndex, points: [])
        for (point, flags) in points { decoded.add(point, flags: flags, to: &incoming) }
        if !incoming.points.isEmpty { decoded.metrics.append(incoming) }
    }

    // MARK: JSON

    public static func decodeJSON(
        _ bytes: UnsafeRawBufferPointer, attribution: RegionAttribution
    ) throws(OTLPDecodingError) -> DecodedMetrics {
        var decoded = DecodedMetrics()
        try OTLPJSONRequest.read(bytes, request: OTLPSignal.metrics.requestName) {
            scanner, key throws(JSONScanner.Failure) in
            guard key.isField("resourceMetrics", "resource_metrics") else { return false }
            try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                // The resource's slot first: "resource" may come after "scopeMetrics".
                decoded.resources.append(attribution.resource(from: []))
                let index = decoded.resources.count - 1
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("resource") {
                        decoded.resources[index] = attribution.resource(
                            from: try OTLPJSONRequest.resourceAttributes(&scanner))
                    } else if key.isField("scopeMetrics", "scope_metrics") {
                        try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                            try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                                guard key.equals("metrics") else { return try scanner.skipValue() }
                                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                                    try readMetric(&scanner, resourceIndex: index, into: &decoded)
                                }
                            }
                        }
                    } else {
                        try scanner.skipValue()
                    }
                }
            }
            return true
        }
        return decoded
    }

    /// The JSON fields of any data point, read before its kind is known to be right.
    private struct JSONPoint {
        var attributes: [Attribute] = []
        var start: UInt64 = 0
        var time: UInt64 = 0
        var flags: UInt32 = 0
        var number: Double?
        var count: Double = 0
        var sum: Double?
        var bounds: [Double] = []
        var counts: [Double] = []
        var min: Double?
        var max: Double?
        var scale: Int32 = 0
        var zeroCount: Double = 0
        var positive: (Int32, [Double]) = (0, [])
        var negative: (Int32, [Double]) = (0, [])
        var quantiles: [(Double, Double)] = []
    }

    private static func readMetric(
        _ scanner: inout JSONScanner, resourceIndex: Int, into decoded: inout DecodedMetrics
    ) throws(JSONScanner.Failure) {
        var name = "", unit = ""
        var kind: MetricKind?
        var points: [JSONPoint] = []
        var temporalityProblem = false
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            if key.equals("name") {
                name = try scanner.string()
            } else if key.equals("unit") {
                unit = try scanner.string()
            } else if key.equals("gauge") || key.equals("sum") || key.equals("histogram") || key.equals("summary")
                || key.isField("exponentialHistogram", "exponential_histogram")
            {
                let which = String(decoding: key, as: UTF8.self)
                var temporality: MetricTemporality?
                var monotonic = false
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.isField("dataPoints", "data_points") {
                        try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                            points.append(try readPoint(&scanner))
                        }
                    } else if key.isField("aggregationTemporality", "aggregation_temporality") {
                        let value = try OTLPJSONRequest.enumValue(&scanner) { name in
                            [
                                "AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA",
                                "AGGREGATION_TEMPORALITY_CUMULATIVE",
                            ].firstIndex(of: name)
                        }
                        temporality = value == 1 ? .delta : value == 2 ? .cumulative : nil
                    } else if key.isField("isMonotonic", "is_monotonic") {
                        monotonic = try scanner.bool()
                    } else {
                        try scanner.skipValue()
                    }
                }
                switch which {
                case "gauge": kind = .gauge
                case "summary": kind = .summary
                default:
                    guard let temporality else {
                        temporalityProblem = true
                        return
                    }
                    kind =
                        which == "sum"
                        ? .sum(monotonic: monotonic, temporality: temporality)
                        : which == "histogram"
                            ? .histogram(temporality: temporality) : .exponentialHistogram(temporality: temporality)
                }
            } else {
                try scanner.skipValue()
            }
        }
        let label = name.isEmpty ? "unnamed metric" : name
        if temporalityProblem { return decoded.reject(points.count, "\(label): no aggregation temporality") }
        guard let kind else { return }
        var metric = IncomingMetric(name: name, unit: unit, kind: kind, resourceIndex: resourceIndex, points: [])
        for point in points {
            let value: MetricPointValue
            switch kind {
            case .gauge, .sum: value = .number(point.number ?? .nan)
            case .histogram:
                value = .histogram(
                    count: point.count, sum: point.sum, bounds: point.bounds, counts: point.counts, min: point.min,
                    max: point.max)
            case .exponentialHistogram:
                value = .exponential(
                    ExponentialBuckets(
                        scale: point.scale, count: point.count, sum: point.sum, zeroCount: point.zeroCount,
                        positiveOffset: point.positive.0, positive: point.positive.1, negativeOffset: point.negative.0,
                        negative: point.negative.1))
            case .summary: value = .summary(count: point.count, sum: point.sum ?? 0, quantiles: point.quantiles)
            }
            decoded.add(
                MetricPoint(
                    attributes: point.attributes, startUnixNano: point.start, timeUnixNano: point.time, value: value),
                flags: point.flags, to: &metric)
        }
        if !metric.points.isEmpty { decoded.metrics.append(metric) }
    }

    private static func readPoint(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> JSONPoint {
        var point = JSONPoint()
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            if key.equals("attributes") {
                point.attributes = try OTLPJSONDecoder.readAttributes(&scanner)
            } else if key.isField("startTimeUnixNano", "start_time_unix_nano") {
                point.start = try scanner.unsigned()
            } else if key.isField("timeUnixNano", "time_unix_nano") {
                point.time = try scanner.unsigned()
            } else if key.equals("flags") {
                point.flags = UInt32(truncatingIfNeeded: try scanner.unsigned())
            } else if key.isField("asDouble", "as_double") {
                point.number = try scanner.double()
            } else if key.isField("asInt", "as_int") {
                point.number = Double(try scanner.signed())
            } else if key.equals("count") {
                point.count = Double(try scanner.unsigned())
            } else if key.equals("sum") {
                point.sum = try scanner.double()
            } else if key.equals("min") {
                point.min = try scanner.double()
            } else if key.equals("max") {
                point.max = try scanner.double()
            } else if key.isField("bucketCounts", "bucket_counts") {
                point.counts = try readCounts(&scanner)
            } else if key.isField("explicitBounds", "explicit_bounds") {
                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                    point.bounds.append(try scanner.double())
                    if point.bounds.count > DecodedMetrics.maxBuckets { throw scanner.fail("too many bucket bounds") }
                }
            } else if key.equals("scale") {
                point.scale = Int32(clamping: try scanner.signed())
            } else if key.isField("zeroCount", "zero_count") {
                point.zeroCount = Double(try scanner.unsigned())
            } else if key.equals("positive") {
                point.positive = try readBuckets(&scanner)
            } else if key.equals("negative") {
                point.negative = try readBuckets(&scanner)
            } else if key.isField("quantileValues", "quantile_values") {
                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                    var quantile = 0.0, value = 0.0
                    try scanner.object { scanner, key throws(JSONScanner.Failure) in
                        if key.equals("quantile") {
                            quantile = try scanner.double()
                        } else if key.equals("value") {
                            value = try scanner.double()
                        } else {
                            try scanner.skipValue()
                        }
                    }
                    point.quantiles.append((quantile, value))
                }
            } else {
                try scanner.skipValue()
            }
        }
        return point
    }

    private static func readCounts(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [Double] {
        var counts: [Double] = []
        try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
            counts.append(Double(try scanner.unsigned()))
            if counts.count > DecodedMetrics.maxBuckets { throw scanner.fail("too many bucket counts") }
        }
        return counts
    }

    private static func readBuckets(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> (Int32, [Double]) {
        var offset: Int32 = 0
        var counts: [Double] = []
        try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
            if key.equals("offset") {
                offset = Int32(clamping: try scanner.signed())
            } else if key.isField("bucketCounts", "bucket_counts") {
                counts = try readCounts(&scanner)
            } else {
                try scanner.skipValue()
            }
        }
        return (offset, counts)
    }
}

extension DecodedMetrics {
    /// Counts `count` points of a metric refused as a whole (none for a metric without points).
    mutating func reject(_ count: Int, _ reason: String) {
        for _ in 0..<count { rejected.reject(reason) }
    }
}
