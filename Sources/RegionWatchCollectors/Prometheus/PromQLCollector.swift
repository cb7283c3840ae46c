import Foundation
import RegionWatchCore

/// Configuration of a `promql` collector: instant queries against a Prometheus-compatible API
/// (the endpoint's target is the API's base URL, or a Thanos/Mimir prefix).
public struct PromQLSettings: Equatable, Sendable {
    public var endpoint: MetricsEndpoint
    /// One expression per signal, in configuration order.
    public var queries: [(signal: MetricSignal, expression: String)]

    public init(endpoint: MetricsEndpoint, queries: [(signal: MetricSignal, expression: String)] = []) {
        self.endpoint = endpoint
        self.queries = queries
    }

    public init(
        name: String, target: HTTPTarget, intervalSeconds: Double = 5, timeoutSeconds: Double = 2,
        regionLabel: String = "region", fixedRegion: String? = nil,
        queries: [(signal: MetricSignal, expression: String)] = [], headers: [String: String] = [:],
        replicationUpstream: String? = nil, regions: [String] = []
    ) {
        self.init(
            endpoint: MetricsEndpoint(
                name: name, target: target, intervalSeconds: intervalSeconds, timeoutSeconds: timeoutSeconds,
                regionLabel: regionLabel, fixedRegion: fixedRegion, headers: headers,
                replicationUpstream: replicationUpstream, regions: regions),
            queries: queries
        )
    }

    public static func == (lhs: PromQLSettings, rhs: PromQLSettings) -> Bool {
        lhs.endpoint == rhs.endpoint
            && lhs.queries.map(\.signal) == rhs.queries.map(\.signal)
            && lhs.queries.map(\.expression) == rhs.queries.map(\.expression)
    }

    /// The request path of an instant query.
    public func queryPath(_ expression: String) -> String {
        var base = endpoint.target.pathAndQuery
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
            throw PromQLError(
                status == 200
                    ? "response is not Prometheus API JSON (\(Self.describe(error))): \(excerpt)"
                    : "HTTP \(status): \(excerpt)")
        }
        if decoded.status == "error" {
            throw PromQLError(
                "\(status == 200 ? "" : "HTTP \(status): ")\(decoded.errorType ?? "error"): \(decoded.error ?? "no message")"
            )
        }
        guard status == 200 else { throw PromQLError("HTTP \(status)") }
        guard decoded.status == "success", let data = decoded.data else {
            throw PromQLError("status '\(decoded.status)' without data")
        }
        switch data.resultType {
        case "vector":
            return try (data.result?.vector ?? []).map { item throws(PromQLError) in
                guard let pair = item.value, let value = ExpositionParser.parseValue(Substring(pair.text)) else {
                    throw PromQLError("a series has no numeric value")
                }
                return PromQLSeries(labels: item.metric ?? [:], value: value)
            }
        case "scalar":
            guard let pair = data.result?.scalar, let value = ExpositionParser.parseValue(Substring(pair.text)) else {
                throw PromQLError("scalar result without a numeric value")
            }
            return [PromQLSeries(labels: [:], value: value)]
        default:
            throw PromQLError("result type '\(data.resultType)' is not supported (use an instant vector or scalar)")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): context.debugDescription
        case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.valueNotFound(_, let context):
            "null at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
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
public final class PromQLSource: MetricsEndpointSource {
    public let settings: PromQLSettings
    private let fetcher: HTTPFetcher

    public init(settings: PromQLSettings, fetcher: HTTPFetcher = HTTPFetcher()) {
        self.settings = settings
        self.fetcher = fetcher
    }

    var endpoint: MetricsEndpoint { settings.endpoint }
    public var kind: String { "promql" }

    public func collect(at now: Timestamp) async -> CollectionRound {
        let settings = settings
        let endpoint = endpoint
        let fetcher = fetcher
        let headers = requestHeaders(("Accept", "application/json"))
        let outcomes = await concurrentMap(settings.queries.map(\.expression)) {
            expression -> Result<[PromQLSeries], PromQLError> in
            let request = HTTPFetchRequest(
                target: endpoint.target.with(pathAndQuery: settings.queryPath(expression)),
                headers: headers,
                timeoutSeconds: endpoint.timeoutSeconds,
                maxBodyBytes: 8 << 20
            )
            do {
                let response = try await fetcher.fetch(request)
                return Result { () throws(PromQLError) in
                    try PromQLResponse.parse(response.body, status: response.status)
                }
            } catch {
                return .failure(PromQLError("\(error)"))
            }
        }
        var readings: [SignalReading] = []
        var errors: [String] = []
        for (index, outcome) in outcomes.enumerated() {
            let signal = settings.queries[index].signal
            switch outcome {
            case .success(let series):
                for item in series {
                    guard let region = item.labels[endpoint.regionLabel] ?? endpoint.fixedRegion, !item.value.isNaN
                    else { continue }
                    let scale = ScrapedSignal.defaultScale(signal: signal, metric: settings.queries[index].expression)
                    readings.append(SignalReading(region: region, signal: signal, value: item.value * scale))
                }
            case .failure(let error):
                errors.append("\(signal.rawValue): \(error)")
            }
        }
        var round = publish(readings, at: now)
        round.errors.insert(contentsOf: errors, at: 0)
        return round
    }
}
