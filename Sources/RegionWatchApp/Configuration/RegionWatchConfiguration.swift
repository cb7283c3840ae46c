import RegionWatchCollectors
import RegionWatchCore
import RegionWatchFailover

/// A collector entry of the `collectors:` list.
public enum CollectorConfiguration: Equatable, Sendable {
    case simulator(SimulatorSettings)
    case otlp(OTLPReceiverSettings)
    case postgres(PostgresSettings)
    case prometheusScrape(PrometheusScrapeSettings)
    case promql(PromQLSettings)
    case httpProbe(HTTPProbeSettings)

    /// The collector's unique name.
    public var name: String {
        switch self {
        case .simulator(let settings): settings.name
        case .otlp(let settings): settings.name
        case .postgres(let settings): settings.name
        case .prometheusScrape(let settings): settings.endpoint.name
        case .promql(let settings): settings.endpoint.name
        case .httpProbe(let settings): settings.name
        }
    }

    /// The kind as written in the configuration.
    public var kind: String {
        switch self {
        case .simulator: "simulator"
        case .otlp: "otlp"
        case .postgres: "postgres"
        case .prometheusScrape: "prometheus-scrape"
        case .promql: "promql"
        case .httpProbe: "http-probe"
        }
    }

    /// Seconds between collection rounds (a push receiver reports every few seconds).
    public var intervalSeconds: Double {
        switch self {
        case .simulator(let settings): settings.intervalSeconds
        case .otlp: 1
        case .postgres(let settings): settings.intervalSeconds
        case .prometheusScrape(let settings): settings.endpoint.intervalSeconds
        case .promql(let settings): settings.endpoint.intervalSeconds
        case .httpProbe(let settings): settings.intervalSeconds
        }
    }

    /// Kinds the `collectors:` list accepts.
    public static let kinds = ["simulator", "otlp", "postgres", "prometheus-scrape", "promql", "http-probe"]
}

/// Display settings from the `ui:` section.
public struct DisplayConfiguration: Equatable, Sendable {
    /// Theme name or path.
    public var theme: String?
    /// Seconds between data-driven redraws.
    public var refreshSeconds: Double?

    public init(theme: String? = nil, refreshSeconds: Double? = nil) {
        self.theme = theme
        self.refreshSeconds = refreshSeconds
    }
}

/// A whole, validated configuration.
public struct RegionWatchConfiguration: Equatable, Sendable {
    public var topology: Topology
    public var collectors: [CollectorConfiguration]
    public var display: DisplayConfiguration
    /// Bounds of the trace store.
    public var traceLimits: TraceStoreLimits
    /// Bounds of the log store (`logs:`).
    public var logLimits = LogStoreLimits()
    /// The failover plan, lock, audit log and safety settings.
    public var failover = FailoverSettings()
    /// Where it came from: a file path, or "built-in demo".
    public var source: String

    public init(
        topology: Topology, collectors: [CollectorConfiguration],
        display: DisplayConfiguration = DisplayConfiguration(), traceLimits: TraceStoreLimits = TraceStoreLimits(),
        logLimits: LogStoreLimits = LogStoreLimits(), failover: FailoverSettings = FailoverSettings(),
        source: String
    ) {
        self.topology = topology
        self.collectors = collectors
        self.display = display
        self.traceLimits = traceLimits
        self.logLimits = logLimits
        self.failover = failover
        self.source = source
    }

    /// The built-in demo (examples/demo.yaml says the same in YAML): the simulator, and an
    /// OTLP receiver on 127.0.0.1:4318 (HTTP) and 127.0.0.1:4317 (gRPC) so any instrumented
    /// service can join in.
    public static func builtInDemo(seed: UInt64 = 42) -> RegionWatchConfiguration {
        var otlp = OTLPReceiverSettings()
        otlp.grpc = OTLPReceiverSettings.GRPCListen()
        return RegionWatchConfiguration(
            topology: .demo,
            collectors: [.simulator(SimulatorSettings(seed: seed)), .otlp(otlp)],
            failover: FailoverSettings(plan: FailoverSettings.demoPlan),
            source: "built-in demo"
        )
    }

    /// This configuration with the OTLP/HTTP receiver moved to `listen` (`HOST:PORT`), added
    /// when there is none, or turned `off`, which also turns gRPC off unless `keepingGRPC` (the
    /// collector stays, with its token, attribution, limits and certificate, for
    /// `withOTLPGRPCListen`). `nil` when `listen` is malformed.
    public func withOTLPListen(_ listen: String?, keepingGRPC: Bool = false) -> RegionWatchConfiguration? {
        guard let listen else { return self }
        var copy = self
        let index = copy.collectors.firstIndex { $0.kind == "otlp" }
        if listen.lowercased() == "off" {
            guard let index, case .otlp(var settings) = copy.collectors[index] else { return copy }
            settings.httpEnabled = false
            if !keepingGRPC { settings.grpc = nil }
            copy.collectors[index] = .otlp(settings)
            return copy
        }
        guard let (host, port) = OTLPReceiverSettings.parseListenAddress(listen) else { return nil }
        if let index, case .otlp(var settings) = copy.collectors[index] {
            settings.host = host
            settings.port = port
            settings.httpEnabled = true
            copy.collectors[index] = .otlp(settings)
        } else {
            copy.collectors.append(.otlp(OTLPReceiverSettings(host: host, port: port)))
        }
        return copy
    }

    /// This configuration with its OTLP/gRPC receiver moved to `listen` (`HOST:PORT`) or turned
    /// `off`; `nil` when `listen` is malformed. A configured certificate is kept. Without an
    /// `otlp` collector, one is added that listens on gRPC only.
    public func withOTLPGRPCListen(_ listen: String?) -> RegionWatchConfiguration? {
        guard let listen else { return self }
        var copy = self
        var grpc: OTLPReceiverSettings.GRPCListen?
        if listen.lowercased() != "off" {
            guard let (host, port) = OTLPReceiverSettings.parseListenAddress(listen) else { return nil }
            grpc = OTLPReceiverSettings.GRPCListen(host: host, port: port)
        }
        if let index = copy.collectors.firstIndex(where: { $0.kind == "otlp" }),
            case .otlp(var settings) = copy.collectors[index]
        {
            grpc?.tls = settings.grpc?.tls
            settings.grpc = grpc
            copy.collectors[index] = .otlp(settings)
        } else if let grpc {
            var settings = OTLPReceiverSettings()
            settings.grpc = grpc
            settings.httpEnabled = false
            copy.collectors.append(.otlp(settings))
        }
        return copy
    }

    /// Whether a simulator feeds this configuration (enables the demo chaos keys).
    public var isDemo: Bool {
        collectors.contains { if case .simulator = $0 { true } else { false } }
    }

    /// This configuration with every simulator's seed replaced by `seed`.
    public func withSeed(_ seed: UInt64) -> RegionWatchConfiguration {
        var copy = self
        copy.collectors = collectors.map { collector in
            guard case .simulator(var settings) = collector else { return collector }
            settings.seed = seed
            return .simulator(settings)
        }
        return copy
    }

    /// The longest collection interval, used as "one interval" by `status`.
    public var longestIntervalSeconds: Double {
        collectors.map(\.intervalSeconds).max() ?? 1
    }
}
