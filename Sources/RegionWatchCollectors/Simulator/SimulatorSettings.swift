import RegionWatchCore

/// Configuration of the built-in simulator collector.
public struct SimulatorSettings: Equatable, Sendable {
    /// Collector name.
    public var name: String
    /// Seed of the random walk: the same seed and the same tick times give the same demo.
    public var seed: UInt64
    /// Seconds between samples.
    public var intervalSeconds: Double
    /// Whether the scripted incident plays (lag past the RPO on the last standby, then an
    /// error and latency rise on the primary), and how often it repeats (seconds).
    public var scriptedIncident: Bool
    public var incidentRepeatSeconds: Double
    /// Total requests per second across all regions, before the slow wave.
    public var totalRequestsPerSecond: Double
    /// Service versions per region; regions not listed get the defaults (the last region one
    /// version behind, so version skew shows).
    public var versions: [String: [String: String]]
    /// Traces produced per second across serving regions (0 turns traces off).
    public var tracesPerSecond: Double

    public init(
        name: String = "simulator",
        seed: UInt64 = 42,
        intervalSeconds: Double = 1,
        scriptedIncident: Bool = true,
        incidentRepeatSeconds: Double = 600,
        totalRequestsPerSecond: Double = 1200,
        versions: [String: [String: String]] = [:],
        tracesPerSecond: Double = 12
    ) {
        self.name = name
        self.seed = seed
        self.intervalSeconds = intervalSeconds
        self.scriptedIncident = scriptedIncident
        self.incidentRepeatSeconds = incidentRepeatSeconds
        self.totalRequestsPerSecond = totalRequestsPerSecond
        self.versions = versions
        self.tracesPerSecond = tracesPerSecond
    }
}

/// A demo-only disturbance, triggered from the keyboard.
public enum ChaosCommand: Equatable, Sendable {
    /// The region stops serving and fails its health probe; links from it break.
    case takeDown(region: String)
    /// Replication into the region falls behind by about `seconds` for a minute.
    case injectLag(region: String, seconds: Double)
    /// Clears every disturbance of the region.
    case recover(region: String)
    /// Failover step (demo): the region refuses writes from now on.
    case fence(region: String)
    /// Roll back (demo): the region takes writes again.
    case unfence(region: String)
    /// Failover step (demo): the region becomes the primary; the old primary a standby, and
    /// replication runs from the new primary to every other region.
    case promote(region: String)
    /// Failover step (demo): `to` takes over the traffic of `from`.
    case shiftTraffic(from: String, to: String)
}
