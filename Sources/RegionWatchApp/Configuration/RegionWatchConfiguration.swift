import RegionWatchCollectors
import RegionWatchCore

/// A collector entry of the `collectors:` list.
public enum CollectorConfiguration: Equatable, Sendable {
    case simulator(SimulatorSettings)

    /// The collector's unique name.
    public var name: String {
        switch self {
        case .simulator(let settings): settings.name
        }
    }

    /// The kind as written in the configuration.
    public var kind: String {
        switch self {
        case .simulator: "simulator"
        }
    }

    /// Kinds the `collectors:` list accepts.
    public static let kinds = ["simulator"]
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
    /// Where it came from: a file path, or "built-in demo".
    public var source: String

    public init(topology: Topology, collectors: [CollectorConfiguration], display: DisplayConfiguration = DisplayConfiguration(), source: String) {
        self.topology = topology
        self.collectors = collectors
        self.display = display
        self.source = source
    }

    /// The built-in demo (examples/demo.yaml says the same in YAML).
    public static func builtInDemo(seed: UInt64 = 42) -> RegionWatchConfiguration {
        RegionWatchConfiguration(
            topology: .demo,
            collectors: [.simulator(SimulatorSettings(seed: seed))],
            source: "built-in demo"
        )
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
        collectors.map { collector in
            switch collector {
            case .simulator(let settings): settings.intervalSeconds
            }
        }.max() ?? 1
    }
}
