/// What the dashboard knows about one collector.
public struct CollectorState: Equatable, Sendable {
    public let name: String
    public internal(set) var kind: String
    public internal(set) var intervalSeconds: Double
    public internal(set) var regions: [String]
    public internal(set) var lastSuccessAt: Timestamp?
    public internal(set) var lastErrorAt: Timestamp?
    public internal(set) var lastError: String?
    public internal(set) var consecutiveFailures = 0
    /// How many pieces of data its rounds refused (see `CollectorReport.rejected`), and the
    /// latest reason.
    public internal(set) var rejectedCount = 0
    public internal(set) var lastRejection: String?

    init(report: CollectorReport) {
        name = report.collector
        kind = report.kind
        intervalSeconds = report.intervalSeconds
        regions = report.regions
    }

    /// Seconds since the last successful round, or `nil` before any.
    public func age(at now: Timestamp) -> Double? {
        lastSuccessAt.map { max(0, now.seconds(since: $0)) }
    }

    mutating func record(_ report: CollectorReport) {
        kind = report.kind
        intervalSeconds = report.intervalSeconds
        regions = report.regions
        rejectedCount += report.rejectedCount
        if let rejection = report.rejection { lastRejection = rejection }
        if let error = report.error {
            lastError = error
            lastErrorAt = report.observedAt
            consecutiveFailures += 1
        } else {
            lastSuccessAt = report.observedAt
            consecutiveFailures = 0
        }
    }
}
