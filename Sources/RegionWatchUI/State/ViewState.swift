import RegionWatchCore

/// Screens of the dashboard.
public enum Screen: Equatable, Sendable {
    case overview
    case regionDetail(region: String)
}

/// Panes of the overview that Tab moves focus between.
public enum OverviewPane: CaseIterable, Equatable, Sendable {
    case regions
    case replication
    case events
}

/// A message in the footer, such as a command's result.
public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var isError: Bool

    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// The `:` command line being typed.
public struct CommandLineInput: Equatable, Sendable {
    public var text = ""
    public var history: [String] = []
    public var historyPosition: Int?

    public init() {}
}

/// Everything about the view that is not domain state: screen stack, selection, focus, scroll,
/// overlays, pause. Changed by `handle(_:state:)`.
public struct ViewState: Equatable, Sendable {
    /// Screens from the top level (first) to the current one (last).
    public internal(set) var screens: [Screen] = [.overview]
    /// Index of the selected region in the topology's order.
    public internal(set) var selectedRegion = 0
    public internal(set) var focusedPane: OverviewPane = .regions
    public internal(set) var eventsScroll = 0
    public internal(set) var replicationScroll = 0
    public internal(set) var detailScroll = 0
    public internal(set) var isHelpVisible = false
    public internal(set) var helpScroll = 0
    public internal(set) var commandLine: CommandLineInput?
    public internal(set) var commandHistory: [String] = []
    public internal(set) var message: StatusMessage?
    /// Whether the display is frozen (ingest continues).
    public internal(set) var isPaused = false
    /// Whether demo-only chaos keys are active (the simulator is running).
    public var isDemo: Bool
    /// Name of the theme in use.
    public var themeName: String
    /// Themes `:theme` can switch to.
    public var availableThemes: [String]

    public init(isDemo: Bool, themeName: String, availableThemes: [String]) {
        self.isDemo = isDemo
        self.themeName = themeName
        self.availableThemes = availableThemes
    }

    /// The screen shown.
    public var screen: Screen { screens.last ?? .overview }
}
