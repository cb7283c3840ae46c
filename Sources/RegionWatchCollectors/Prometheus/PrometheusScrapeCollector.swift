import RegionWatchCore
import Synchronization

/// Configuration of a `prometheus-scrape` collector: one exposition endpoint.
public struct PrometheusScrapeSettings: Equatable, Sendable {
    public var name: String
    public var target: HTTPTarget
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    /// Label naming the region (default `region`), unless `fixedRegion` is set.
    public var regionLabel: String
    public var fixedRegion: String?
    public var signals: [ScrapedSignal]
    /// Extra request headers (for example `Authorization`); values are secrets.
    public var headers: [String: String]
    /// The region replication lag is measured from.
    public var replicationUpstream: String?
    /// Regions this collector is expected to feed (for the detail screen).
    public var regions: [String]
    public var maxBodyBytes: Int

    public init(name: String, target: HTTPTarget, intervalSeconds: Double = 5, timeoutSeconds: Double = 2, regionLabel: String = "region", fixedRegion: String? = nil, signals: [ScrapedSignal] = [], headers: [String: String] = [:], replicationUpstream: String? = nil, regions: [String] = [], maxBodyBytes: Int = 16 << 20) {
        self.name = name
        self.target = target
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.regionLabel = regionLabel
        self.fixedRegion = fixedRegion
        self.signals = signals
        self.headers = headers
        self.replicationUpstream = replicationUpstream
        self.regions = regions
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Scrapes a Prometheus or OpenMetrics text endpoint and maps series to region signals.
public final class PrometheusScrapeSource: PollingSource {
    public let settings: PrometheusScrapeSettings
    private let fetcher: HTTPFetcher
    private let interpreter: Mutex<ScrapeInterpreter>
    private let parser: ExpositionParser

    public init(settings: PrometheusScrapeSettings, fetcher: HTTPFetcher = HTTPFetcher()) {
        self.settings = settings
        self.fetcher = fetcher
        let interpreter = ScrapeInterpreter(signals: settings.signals, regionLabel: settings.regionLabel, fixedRegion: settings.fixedRegion)
        parser = ExpositionParser(families: interpreter.families)
        self.interpreter = Mutex(interpreter)
    }

    public var name: String { settings.name }
    public var kind: String { "prometheus-scrape" }
    public var regions: [String] { settings.regions }
    public var intervalSeconds: Double { settings.intervalSeconds }
    public var timeoutSeconds: Double { settings.timeoutSeconds }
    public var secrets: [String] { Array(settings.headers.values) }

    public func collect(at now: Timestamp) async -> CollectionRound {
        let request = HTTPFetchRequest(
            target: settings.target,
            headers: [("Accept", "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")] + settings.headers.sorted { $0.key < $1.key },
            timeoutSeconds: settings.timeoutSeconds,
            maxBodyBytes: settings.maxBodyBytes
        )
        let response: HTTPFetchResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            return CollectionRound(errors: ["scrape \(settings.target): \(error)"])
        }
        guard response.status == 200 else {
            return CollectionRound(errors: ["scrape \(settings.target): HTTP \(response.status)\(Self.excerpt(response.body))"])
        }
        let document = parser.parse(response.body)
        let readings = interpreter.withLock { $0.readings(from: document, at: now) }
        var round = SignalPublisher(source: settings.name, replicationUpstream: settings.replicationUpstream).events(for: readings, at: now)
        if document.rejectedLines > 0, let first = document.errors.first {
            round.errors.append("\(document.rejectedLines) line\(document.rejectedLines == 1 ? "" : "s") rejected (first: \(first))")
        }
        return round
    }

    /// The start of a response body, for an error message.
    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return text.isEmpty ? "" : ": \(text)"
    }
}
