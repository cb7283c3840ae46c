import RegionWatchCore

/// Screens of the dashboard.
public enum Screen: Equatable, Sendable {
    case overview
    case regionDetail(region: String)
    case traces
    case waterfall(trace: TraceID)
    case spanDetail(trace: TraceID, span: SpanID)
    case latencyMatrix
    case audit
    case logs
    case metrics

    /// The key context of this screen.
    public var keyContext: KeyContext {
        switch self {
        case .overview: .overview
        case .regionDetail: .regionDetail
        case .traces: .traces
        case .waterfall: .waterfall
        case .spanDetail: .spanDetail
        case .latencyMatrix: .latencyMatrix
        case .audit: .audit
        case .logs: .logs
        case .metrics: .metrics
        }
    }
}

/// Panes of the overview that Tab moves focus between.
public enum OverviewPane: CaseIterable, Equatable, Sendable {
    case regions
    case replication
    case events
}

/// Parts of the region detail screen that Tab moves focus between.
public enum RegionDetailPane: Equatable, Sendable {
    case facts
    case errorTraces
}

/// How the waterfall colours span bars.
public enum WaterfallColoring: Equatable, Sendable {
    case region
    case service
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

/// The failover dialog's two fields.
public struct FailoverDialogInput: Equatable, Sendable {
    public enum Field: Equatable, Sendable { case target, reason }
    public var field = Field.target
    public var target = ""
    public var reason = ""
    /// After a refusal: the reason for forcing the refusing gates, being typed.
    public var forceReason: String?

    public init() {}
}

/// Text being typed on the bottom line (the `:` command line or the `/` filter).
public struct CommandLineInput: Equatable, Sendable {
    public var text = ""
    public var historyPosition: Int?

    public init(text: String = "") {
        self.text = text
    }
}

/// The trace list's sort, filter and selection.
public struct TraceListState: Equatable, Sendable {
    public var sort = TraceSortOrder.time
    /// The filter as typed.
    public var filterText = ""
    public var filter = TraceQuery()
    /// The selected trace; kept across live updates.
    public var selected: TraceID?
    /// The `/` filter being typed.
    public var filterInput: CommandLineInput?

    public init() {}
}

/// The waterfall's selection, folding and colouring.
public struct WaterfallState: Equatable, Sendable {
    public var selected: SpanID?
    public var collapsed: Set<SpanID> = []
    public var coloring = WaterfallColoring.region

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
    public internal(set) var detailPane = RegionDetailPane.facts
    public internal(set) var selectedErrorTrace = 0
    public internal(set) var traceList = TraceListState()
    public internal(set) var waterfall = WaterfallState()
    public internal(set) var spanDetailScroll = 0
    public internal(set) var logList = LogListState()
    public internal(set) var metricList = MetricListState()
    public internal(set) var isHelpVisible = false
    public internal(set) var helpScroll = 0
    public internal(set) var commandLine: CommandLineInput?
    public internal(set) var commandHistory: [String] = []
    public internal(set) var message: StatusMessage?
    /// What the operator has typed into the failover dialog.
    public internal(set) var failoverInput = FailoverDialogInput()
    /// The interrupted attempt `A` asked to acknowledge: a second `A` confirms, any other key
    /// cancels.
    public internal(set) var pendingAcknowledgement: String?
    public internal(set) var auditScroll = 0
    /// The layout last drawn: the compact one (below 80×24) shows fewer panes.
    public internal(set) var layout = LayoutMode.standard
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

    /// The `/` filter being typed on the screen shown, if any.
    public var filterInput: CommandLineInput? {
        traceList.filterInput ?? logList.filterInput ?? metricList.filterInput
    }

    /// Opens `screen` on top of the current one.
    mutating func push(_ screen: Screen) {
        guard self.screen != screen else { return }
        if screens.count >= 16 { screens.removeFirst(screens.count - 15) }
        screens.append(screen)
    }
}
