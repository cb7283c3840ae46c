import RegionWatchCore
import Synchronization

/// Configuration of a `prometheus-scrape` collector: one exposition endpoint.
public struct PrometheusScrapeSettings: Equatable, Sendable {
    public var endpoint: MetricsEndpoint
    public var signals: [ScrapedSignal]
    public var maxBodyBytes: Int

    public init(endpoint: MetricsEndpoint, signals: [ScrapedSignal] = [], maxBodyBytes: Int = 16 << 20) {
        self.endpoint = endpoint
        self.signals = signals
        self.maxBodyBytes = maxBodyBytes
    }

    public init(
        name: String, target: HTTPTarget, intervalSeconds: Double = 5, timeoutSeconds: Double = 2,
        regionLabel: String = "region", fixedRegion: String? = nil, signals: [ScrapedSignal] = [],
        headers: [String: String] = [:], replicationUpstream: String? = nil, regions: [String] = [],
        maxBodyBytes: Int = 16 << 20
    ) {
        self.init(
            endpoint: MetricsEndpoint(
                name: name, target: target, intervalSeconds: intervalSeconds, timeoutSeconds: timeoutSeconds,
                regionLabel: regionLabel, fixedRegion: fixedRegion, headers: headers,
                replicationUpstream: replicationUpstream, regions: regions),
            signals: signals, maxBodyBytes: maxBodyBytes
        )
    }
}

/// Scrapes a Prometheus or OpenMetrics text endpoint and maps series to region signals.
public final class PrometheusScrapeSource: MetricsEndpointSource {
    public let settings: PrometheusScrapeSettings
    private let fetcher: HTTPFetcher
    private let interpreter: Mutex<ScrapeInterpreter>
    private let parser: ExpositionParser

    public init(settings: PrometheusScrapeSettings, fetcher: HTTPFetcher = HTTPFetcher()) {
        self.settings = settings
        self.fetcher = fetcher
        let interpreter = ScrapeInterpreter(
            signals: settings.signals, regionLabel: settings.endpoint.regionLabel,
            fixedRegion: settings.endpoint.fixedRegion)
        parser = ExpositionParser(families: interpreter.families)
        self.interpreter = Mutex(interpreter)
    }

    var endpoint: MetricsEndpoint { settings.endpoint }
    public var kind: String { "prometheus-scrape" }

    public func collect(at now: Timestamp) async -> CollectionRound {
        let request = HTTPFetchRequest(
            target: endpoint.target,
            headers: requestHeaders(
                ("Accept", "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")),
            timeoutSeconds: endpoint.timeoutSeconds,
            maxBodyBytes: settings.maxBodyBytes
        )
        let response: HTTPFetchResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            return CollectionRound(errors: ["scrape \(endpoint.target): \(error)"])
        }
        guard response.status == 200 else {
            return CollectionRound(errors: [
                "scrape \(endpoint.target): HTTP \(response.status)\(Self.excerpt(response.body))"
            ])
        }
        let document = parser.parse(response.body)
        let (readings, notRemembered, limit) = interpreter.withLock { interpreter in
            (
                interpreter.readings(from: document, at: now), interpreter.seriesNotRemembered,
                interpreter.maximumRememberedSeries
            )
        }
        var round = publish(readings, at: now)
        if notRemembered > 0 {
            round.rejected.append(
                "\(notRemembered) counter series beyond the \(limit) remembered between scrapes (their rates stay unknown)"
            )
        }
        if document.rejectedLines > 0, let first = document.errors.first {
            let problem =
                "\(document.rejectedLines) line\(document.rejectedLines == 1 ? "" : "s") rejected (first: \(first))"
            // Nothing usable at all is a failed scrape; otherwise the rest was used.
            if document.samples.isEmpty { round.errors.append(problem) } else { round.rejected.append(problem) }
        }
        return round
    }

    /// The start of a response body, for an error message.
    static func excerpt(_ body: [UInt8]) -> String {
        let text =
            String(decoding: body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
            ?? ""
        return text.isEmpty ? "" : ": \(text)"
    }
}
