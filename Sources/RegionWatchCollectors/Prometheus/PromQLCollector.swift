import Foundation
import RegionWatchCore

/// Configuration of a `promql` collector: instant queries against a Prometheus-compatible API.
public struct PromQLSettings: Equatable, Sendable {
    public var name: String
    /// Base URL of the API (`http://127.0.0.1:9090`, or a Thanos/Mimir prefix).
    public var target: HTTPTarget
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    public var regionLabel: String
    /// For queries whose result has no region label (or is a scalar).
    public var fixedRegion: String?
    /// One expression per signal, in configuration order.
    public var queries: [(signal: MetricSignal, expression: String)]
    public var headers: [String: String]
    public var replicationUpstream: String?
    public var regions: [String]

    public init(name: String, target: HTTPTarget, intervalSeconds: Double = 5, timeoutSeconds: Double = 2, regionLabel: String = "region", fixedRegion: String? = nil, queries: [(signal: MetricSignal, expression: String)] = [], headers: [String: String] = [:], replicationUpstream: String? = nil, regions: [String] = []) {
        self.name = name
        self.target = target
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.regionLabel = regionLabel
        self.fixedRegion = fixedRegion
        self.queries = queries
        self.headers = headers
        self.replicationUpstream = replicationUpstream
        self.regions = regions
    }

    public static func == (lhs: PromQLSettings, rhs: PromQLSettings) -> Bool {
        lhs.name == rhs.name && lhs.target == rhs.target && lhs.intervalSeconds == rhs.intervalSeconds && lhs.timeoutSeconds == rhs.timeoutSeconds
            && lhs.regionLabel == rhs.regionLabel && lhs.fixedRegion == rhs.fixedRegion && lhs.headers == rhs.headers
            && lhs.replicationUpstream == rhs.replicationUpstream && lhs.regions == rhs.regions
            && lhs.queries.map(\.signal) == rhs.queries.map(\.signal) && lhs.queries.map(\.expression) == rhs.queries.map(\.expression)
    }

    /// The request path of an instant query.
    public func queryPath(_ expression: String) -> String {
        var base = target.pathAndQuery
        if base.hasSuffix("/") { base.removeLast() }
        return "\(base)/api/v1/query?query=\(PercentEncoding.encodeQueryComponent(expression))"
    }
}

/// One series of an instant-query result.
public struct PromQLSeries: Equatable, Sendable {
    public var labels: [String: String]
    public var value: Double
}

/// An instant-query response, or why it is not one.
public enum PromQLResponse {
    /// Reads the body of `/api/v1/query`. Vector and scalar results give series; errors give
    /// `errorType: error`; anything else names what was wrong.
    public static func parse(_ body: [UInt8], status: Int) throws(PromQLError) -> [PromQLSeries] {
        guard !body.isEmpty else { throw PromQLError("HTTP \(status) with an empty body") }
        let decoded: Envelope
        do {
            decoded = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch {
            let excerpt = String(decoding: body.prefix(120), as: UTF8.self)
            throw PromQLError(status == 200 ? "response is not Prometheus API JSON (\(Self.describe(error))): \(excerpt)" : "HTTP \(status): \(excerpt)")
        }
        if decoded.status == "error" {
            throw PromQLError("\(status == 200 ? "" : "HTTP \(status): ")\(decoded.errorType ?? "error"): \(decoded.error ?? "no message")")
        }
        guard status == 200 else { throw PromQLError("HTTP \(status)") }
        guard decoded.status == "success", let data = decoded.data else { throw PromQLError("status '\(decoded.status)' without data") }
        switch data.resultType {
        case "vector":
            return try (data.result?.vector ?? []).map { item throws(PromQLError) in
                guard let pair = item.value, let value = ExpositionParser.parseValue(Substring(pair.text)) else {
                    throw PromQLError("a series has no numeric value")
                }
                return PromQLSeries(labels: item.metric ?? [:], value: value)
            }
        case "scalar":
            guard let pair = data.result?.scalar, let value = ExpositionParser.parseValue(Substring(pair.text)) else { throw PromQLError("scalar result without a numeric value") }
            return [PromQLSeries(labels: [:], value: value)]
        default:
            throw PromQLError("result type '\(data.resultType)' is not supported (use an instant vector or scalar)")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): context.debugDescription
        case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context): "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.valueNotFound(_, let context): "null at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }

    struct Envelope: Decodable {
        var status: String
        var data: DataPart?
        var errorType: String?
        var error: String?
    }

    struct DataPart: Decodable {
        var resultType: String
        var result: ResultPart?
    }

    enum ResultPart: Decodable {
        case vector([VectorItem])
        case scalar(SamplePair)
        case other

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let items = try? container.decode([VectorItem].self) {
                self = .vector(items)
            } else if let pair = try? container.decode(SamplePair.self) {
                self = .scalar(pair)
            } else {
                self = .other
            }
        }

        var vector: [VectorItem]? { if case .vector(let items) = self { items } else { nil } }
        var scalar: SamplePair? { if case .scalar(let pair) = self { pair } else { nil } }
    }

    struct VectorItem: Decodable {
        var metric: [String: String]?
        var value: SamplePair?
    }

    /// `[ <unix time>, "<value>" ]`.
    struct SamplePair: Decodable {
        var text: String

        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            _ = try container.decode(Double.self)
            text = try container.decode(String.self)
        }
    }
}

/// Why a query gave no usable result.
public struct PromQLError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Runs each signal's PromQL expression every interval and splits results by region.
public final class PromQLSource: PollingSource {
    public let settings: PromQLSettings
    private let fetcher: HTTPFetcher

    public init(settings: PromQLSettings, fetcher: HTTPFetcher = HTTPFetcher()) {
        self.settings = settings
        self.fetcher = fetcher
    }

    public var name: String { settings.name }
    public var kind: String { "promql" }
    public var regions: [String] { settings.regions }
    public var intervalSeconds: Double { settings.intervalSeconds }
    public var timeoutSeconds: Double { settings.timeoutSeconds }
    public var secrets: [String] { Array(settings.headers.values) }

    public func collect(at now: Timestamp) async -> CollectionRound {
        let settings = settings
        let fetcher = fetcher
        let outcomes = await withTaskGroup(of: (Int, Result<[PromQLSeries], PromQLError>).self) { group in
            for (index, query) in settings.queries.enumerated() {
                group.addTask {
                    let request = HTTPFetchRequest(
                        target: settings.target.with(pathAndQuery: settings.queryPath(query.expression)),
                        headers: [("Accept", "application/json")] + settings.headers.sorted { $0.key < $1.key },
                        timeoutSeconds: settings.timeoutSeconds,
                        maxBodyBytes: 8 << 20
                    )
                    do {
                        let response = try await fetcher.fetch(request)
                        return (index, Result { () throws(PromQLError) in try PromQLResponse.parse(response.body, status: response.status) })
                    } catch {
                        return (index, .failure(PromQLError("\(error)")))
                    }
                }
            }
            var results: [(Int, Result<[PromQLSeries], PromQLError>)] = []
            for await outcome in group { results.append(outcome) }
            return results.sorted { $0.0 < $1.0 }
        }
        var readings: [SignalReading] = []
        var errors: [String] = []
        for (index, outcome) in outcomes {
            let signal = settings.queries[index].signal
            switch outcome {
            case .success(let series):
                for item in series {
                    guard let region = item.labels[settings.regionLabel] ?? settings.fixedRegion, !item.value.isNaN else { continue }
                    let scale = (signal == .p50Ms || signal == .p99Ms) && settings.queries[index].expression.contains("seconds") ? 1000.0 : 1.0
                    readings.append(SignalReading(region: region, signal: signal, value: item.value * scale))
                }
            case .failure(let error):
                errors.append("\(signal.rawValue): \(error)")
            }
        }
        var round = SignalPublisher(source: settings.name, replicationUpstream: settings.replicationUpstream).events(for: readings, at: now)
        round.errors.insert(contentsOf: errors, at: 0)
        return round
    }
}
