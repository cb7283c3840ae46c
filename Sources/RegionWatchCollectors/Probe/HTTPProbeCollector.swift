import RegionWatchCore

/// Configuration of an `http-probe` collector: one URL per region.
public struct HTTPProbeSettings: Equatable, Sendable {
    public struct Target: Equatable, Sendable {
        public var region: String
        public var target: HTTPTarget

        public init(region: String, target: HTTPTarget) {
            self.region = region
            self.target = target
        }
    }

    public var name: String
    public var targets: [Target]
    public var method: HTTPFetchRequest.Method
    /// Status codes that count as up (default 200–399).
    public var expectedStatus: Set<Int>
    /// When set, the body must contain this text (GET only).
    public var bodyContains: String?
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    public var verifiesCertificates: Bool
    public var headers: [String: String]

    public init(
        name: String, targets: [Target], method: HTTPFetchRequest.Method = .get,
        expectedStatus: Set<Int> = Set(200...399), bodyContains: String? = nil, intervalSeconds: Double = 5,
        timeoutSeconds: Double = 2, verifiesCertificates: Bool = true, headers: [String: String] = [:]
    ) {
        self.name = name
        self.targets = targets
        self.method = method
        self.expectedStatus = expectedStatus
        self.bodyContains = bodyContains
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.verifiesCertificates = verifiesCertificates
        self.headers = headers
    }
}

/// Probes each region's URL every interval: latency, status, optional body text and, over
/// https, the certificate's expiry. A failed probe is data (the region's health), reported
/// also as the collector's last error so the detail screen says what failed.
public final class HTTPProbeSource: PollingSource {
    public let settings: HTTPProbeSettings
    private let fetcher: HTTPFetcher

    public init(settings: HTTPProbeSettings, fetcher: HTTPFetcher = HTTPFetcher()) {
        self.settings = settings
        self.fetcher = fetcher
    }

    public var name: String { settings.name }
    public var kind: String { "http-probe" }
    public var regions: [String] { settings.targets.map(\.region) }
    public var intervalSeconds: Double { settings.intervalSeconds }
    public var timeoutSeconds: Double { settings.timeoutSeconds }
    public var secrets: [String] { Array(settings.headers.values) }

    public func collect(at now: Timestamp) async -> CollectionRound {
        let settings = settings
        let fetcher = fetcher
        let results = await concurrentMap(settings.targets) { target in
            await Self.probe(target, settings: settings, fetcher: fetcher, at: now)
        }
        return CollectionRound(
            events: results.map { .probe($0) },
            errors: results.filter { !$0.isSuccess }.map { "\($0.region): \($0.message)" }
        )
    }

    public func timeoutEvents(at now: Timestamp) -> [DashboardEvent] {
        settings.targets.map { target in
            .probe(
                ProbeResult(
                    region: target.region, source: settings.name, observedAt: now, isSuccess: false,
                    latencyMilliseconds: nil, message: "timed out after \(Format.duration(settings.timeoutSeconds))"))
        }
    }

    static func probe(
        _ target: HTTPProbeSettings.Target, settings: HTTPProbeSettings, fetcher: HTTPFetcher, at now: Timestamp
    ) async -> ProbeResult {
        let request = HTTPFetchRequest(
            method: settings.method, target: target.target,
            headers: settings.headers.sorted { $0.key < $1.key },
            timeoutSeconds: settings.timeoutSeconds, maxBodyBytes: 1 << 20,
            verifiesCertificates: settings.verifiesCertificates
        )
        func result(_ success: Bool, _ latency: Double?, _ message: String, expiry: Timestamp? = nil) -> ProbeResult {
            ProbeResult(
                region: target.region, source: settings.name, observedAt: now, isSuccess: success,
                latencyMilliseconds: latency, message: message, certificateExpiry: expiry)
        }
        do {
            let response = try await fetcher.fetch(request)
            let milliseconds = response.seconds * 1000
            guard settings.expectedStatus.contains(response.status) else {
                return result(
                    false, milliseconds, "HTTP \(response.status), expected \(describe(settings.expectedStatus))",
                    expiry: response.certificateExpiry)
            }
            if let text = settings.bodyContains, settings.method == .get,
                String(decoding: response.body, as: UTF8.self).firstRange(of: text) == nil
            {
                return result(
                    false, milliseconds, "HTTP \(response.status) but the body lacks \"\(text)\"",
                    expiry: response.certificateExpiry)
            }
            return result(
                true, milliseconds, "HTTP \(response.status) in \(Format.milliseconds(milliseconds))",
                expiry: response.certificateExpiry)
        } catch {
            return result(false, nil, "\(error)")
        }
    }

    /// `200–399`, `200, 204`.
    static func describe(_ statuses: Set<Int>) -> String {
        let sorted = statuses.sorted()
        guard let first = sorted.first, let last = sorted.last else { return "none" }
        if last - first + 1 == sorted.count, sorted.count > 2 { return "\(first)–\(last)" }
        return sorted.map(String.init).joined(separator: ", ")
    }
}
