import Foundation
import RegionWatchCore
import RegionWatchOTLPProtocol
import SwiftProtobuf

/// Encodes log records as OTLP export requests (the load generator's and the tests' client
/// side).
public enum OTLPLogsEncoder {
    /// The batch as an `ExportLogsServiceRequest` in protobuf, one resource per batch resource.
    public static func protobuf(_ batch: LogBatch) -> [UInt8] {
        var request = ExportLogsServiceRequest()
        request.resourceLogs = batch.resources.indices.map { index in
            var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            resourceLogs.resource.attributes = batch.resources[index].attributes.map(OTLPEncoder.keyValue)
            var scope = Opentelemetry_Proto_Logs_V1_ScopeLogs()
            scope.logRecords = batch.records.filter { $0.resourceIndex == index }.map { record in
                var message = Opentelemetry_Proto_Logs_V1_LogRecord()
                message.timeUnixNano = record.timeUnixNano
                message.observedTimeUnixNano = record.timeUnixNano
                message.severityNumber =
                    Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: Int(record.severityNumber)) ?? .unspecified
                message.severityText = record.severityText
                message.body.stringValue = record.body
                message.attributes = record.attributes.map(OTLPEncoder.keyValue)
                if record.traceID.isValid { message.traceID = Data(OTLPEncoder.bytes(of: record.traceID)) }
                if record.spanID.isValid { message.spanID = Data(OTLPEncoder.bytes(of: record.spanID)) }
                return message
            }
            resourceLogs.scopeLogs = [scope]
            return resourceLogs
        }
        return (try? request.serializedBytes()) ?? []
    }

    /// The batch as OTLP/JSON.
    public static func json(_ batch: LogBatch) -> [UInt8] {
        var out = Array(#"{"resourceLogs":["#.utf8)
        for index in batch.resources.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"resource":{"attributes":"#.utf8)
            OTLPEncoder.writeAttributes(batch.resources[index].attributes, into: &out)
            out += Array(#"},"scopeLogs":[{"logRecords":["#.utf8)
            for (position, record) in batch.records.filter({ $0.resourceIndex == index }).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(
                    #"{"timeUnixNano":"\#(record.timeUnixNano)","severityNumber":\#(record.severityNumber),"severityText":"#
                        .utf8)
                OTLPEncoder.writeString(record.severityText, into: &out)
                out += Array(#","body":"#.utf8)
                OTLPEncoder.writeValue(.string(record.body), into: &out)
                out += Array(#","attributes":"#.utf8)
                OTLPEncoder.writeAttributes(record.attributes, into: &out)
                if record.traceID.isValid { out += Array(#","traceId":"\#(record.traceID.hex)""#.utf8) }
                if record.spanID.isValid { out += Array(#","spanId":"\#(record.spanID.hex)""#.utf8) }
                out.append(UInt8(ascii: "}"))
            }
            out += Array("]}]}".utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}

/// Encodes metrics as OTLP export requests (the load generator's and the tests' client side).
public enum OTLPMetricsEncoder {
    /// `metrics` of `resources` as an `ExportMetricsServiceRequest` in protobuf.
    public static func protobuf(resources: [SpanResource], metrics: [IncomingMetric]) -> [UInt8] {
        var request = ExportMetricsServiceRequest()
        request.resourceMetrics = resources.indices.map { index in
            var resourceMetrics = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
            resourceMetrics.resource.attributes = resources[index].attributes.map(OTLPEncoder.keyValue)
            var scope = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
            scope.metrics = metrics.filter { $0.resourceIndex == index }.map(message)
            resourceMetrics.scopeMetrics = [scope]
            return resourceMetrics
        }
        return (try? request.serializedBytes()) ?? []
    }

    private static func temporality(_ value: MetricTemporality) -> Opentelemetry_Proto_Metrics_V1_AggregationTemporality
    {
        value == .delta ? .delta : .cumulative
    }

    private static func message(_ metric: IncomingMetric) -> Opentelemetry_Proto_Metrics_V1_Metric {
        var message = Opentelemetry_Proto_Metrics_V1_Metric()
        message.name = metric.name
        message.unit = metric.unit
        func number(_ point: MetricPoint) -> ProtoNumberPoint {
            var number = ProtoNumberPoint()
            number.attributes = point.attributes.map(OTLPEncoder.keyValue)
            number.startTimeUnixNano = point.startUnixNano
            number.timeUnixNano = point.timeUnixNano
            if case .number(let value) = point.value { number.asDouble = value }
            return number
        }
        switch metric.kind {
        case .gauge:
            message.gauge.dataPoints = metric.points.map(number)
        case .sum(let monotonic, let kind):
            message.sum.isMonotonic = monotonic
            message.sum.aggregationTemporality = temporality(kind)
            message.sum.dataPoints = metric.points.map(number)
        case .histogram(let kind):
            message.histogram.aggregationTemporality = temporality(kind)
            message.histogram.dataPoints = metric.points.compactMap { point in
                guard case .histogram(let count, let sum, let bounds, let counts, let min, let max) = point.value
                else { return nil }
                var histogram = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
                histogram.attributes = point.attributes.map(OTLPEncoder.keyValue)
                histogram.startTimeUnixNano = point.startUnixNano
                histogram.timeUnixNano = point.timeUnixNano
                histogram.count = UInt64(count)
                if let sum { histogram.sum = sum }
                histogram.explicitBounds = bounds
                histogram.bucketCounts = counts.map { UInt64($0) }
                if let min { histogram.min = min }
                if let max { histogram.max = max }
                return histogram
            }
        case .exponentialHistogram(let kind):
            message.exponentialHistogram.aggregationTemporality = temporality(kind)
            message.exponentialHistogram.dataPoints = metric.points.compactMap { point in
                guard case .exponential(let buckets) = point.value else { return nil }
                var histogram = Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint()
                histogram.attributes = point.attributes.map(OTLPEncoder.keyValue)
                histogram.startTimeUnixNano = point.startUnixNano
                histogram.timeUnixNano = point.timeUnixNano
                histogram.count = UInt64(buckets.count)
                if let sum = buckets.sum { histogram.sum = sum }
                histogram.scale = buckets.scale
                histogram.zeroCount = UInt64(buckets.zeroCount)
                histogram.positive.offset = buckets.positiveOffset
                histogram.positive.bucketCounts = buckets.positive.map { UInt64($0) }
                histogram.negative.offset = buckets.negativeOffset
                histogram.negative.bucketCounts = buckets.negative.map { UInt64($0) }
                return histogram
            }
        case .summary:
            message.summary.dataPoints = metric.points.compactMap { point in
                guard case .summary(let count, let sum, let quantiles) = point.value else { return nil }
                var summary = Opentelemetry_Proto_Metrics_V1_SummaryDataPoint()
                summary.attributes = point.attributes.map(OTLPEncoder.keyValue)
                summary.startTimeUnixNano = point.startUnixNano
                summary.timeUnixNano = point.timeUnixNano
                summary.count = UInt64(count)
                summary.sum = sum
                summary.quantileValues = quantiles.map { quantile, value in
                    var entry = Opentelemetry_Proto_Metrics_V1_SummaryDataPoint.ValueAtQuantile()
                    entry.quantile = quantile
                    entry.value = value
                    return entry
                }
                return summary
            }
        }
        return message
    }
}
