import RegionWatchCore

/// A screen's keys, kept next to its view (`Screens/<Screen>/<Screen>Keys.swift`): the bindings
/// of its key context, from which the key map, help and footer hints are built, and what its
/// own actions do to the view state. What every screen shares (other screens, failover, pause,
/// help, the command line) stays in `ViewState.perform`.
protocol ScreenKeys {
    /// The screen's own bindings, in the order help and the footer list them.
    static var bindings: [KeyBinding] { get }
    /// ↑↓, PgUp/PgDn, g/G: moves the selection or the scroll by `delta` rows.
    static func move(by delta: Int, in view: inout ViewState, state: DashboardState)
    /// Enter: opens what is selected.
    static func open(in view: inout ViewState, state: DashboardState)
    /// Tab and Shift-Tab.
    static func switchPane(forward: Bool, in view: inout ViewState)
    /// Esc: whether the screen used the key itself (otherwise the screen closes).
    static func back(in view: inout ViewState) -> Bool
    /// The screen's own actions (sorting, folding, acknowledging…); `nil` when `action` is not
    /// one of them.
    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]?
}

extension ScreenKeys {
    static var bindings: [KeyBinding] { [] }
    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {}
    static func open(in view: inout ViewState, state: DashboardState) {}
    static func switchPane(forward: Bool, in view: inout ViewState) {}
    static func back(in view: inout ViewState) -> Bool { false }
    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? { nil }

    /// `value` moved by `delta` (which may be ±`Int.max / 2` for first and last), kept within
    /// `0...upper`.
    static func moved(_ value: Int, by delta: Int, upTo upper: Int) -> Int {
        max(0, min(max(0, upper), value.addingReportingOverflow(delta).partialValue))
    }
}

extension Screen {
    /// This screen's keys.
    var keys: any ScreenKeys.Type {
        switch self {
        case .overview: OverviewKeys.self
        case .regionDetail: RegionDetailKeys.self
        case .traces: TracesKeys.self
        case .waterfall: WaterfallKeys.self
        case .spanDetail: SpanDetailKeys.self
        case .latencyMatrix: LatencyMatrixKeys.self
        case .audit: AuditKeys.self
        case .logs: LogsKeys.self
        case .metrics: MetricsKeys.self
        }
    }

    /// Every screen's keys, in the order help lists the screens.
    static let allKeys: [any ScreenKeys.Type] = [
        OverviewKeys.self, RegionDetailKeys.self, TracesKeys.self, WaterfallKeys.self, SpanDetailKeys.self,
        LatencyMatrixKeys.self, AuditKeys.self, LogsKeys.self, MetricsKeys.self,
    ]
}

extension KeyHint {
    /// The same hint on each of `contexts`.
    static func on(_ contexts: [KeyContext], _ key: String, _ text: String) -> [KeyContext: KeyHint] {
        Dictionary(uniqueKeysWithValues: contexts.map { ($0, KeyHint(key, text)) })
    }
}
