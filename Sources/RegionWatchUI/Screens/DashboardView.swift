import RegionWatchCore
import RegionWatchTerminal

/// Which layout a terminal size gets.
public enum LayoutMode: Equatable, Sendable {
    /// 80×24 and larger.
    case standard
    /// Below 80×24: one line per region.
    case compact

    public init(size: TerminalSize) {
        self = size.width < 80 || size.height < 24 ? .compact : .standard
    }
}

/// The view: `render(state, view, size, theme) -> Frame`. Pure: no I/O, no curses, no clock.
public enum DashboardView {
    /// Renders the whole screen. `live` is the live state when `state` is another picture (a
    /// frozen one while paused): the failover dialog is always drawn from the live state, since
    /// its gates judge what is true now.
    public static func render(
        state: DashboardState, view: ViewState, size: TerminalSize, theme: Theme, live: DashboardState? = nil
    ) -> Frame {
        var frame = Frame(size: size)
        guard size.width > 0, size.height > 0 else { return frame }
        let context = ScreenContext(state: state, view: view, theme: theme)
        let area = frame.area
        let isCompact = LayoutMode(size: size) == .compact
        let hasCompactForm: Bool =
            switch view.screen {
            case .overview, .regionDetail: true
            default: false
            }
        if isCompact, hasCompactForm {
            CompactView(context: context).render(in: area, into: &frame)
        } else {
            let (header, rest) = area.splitTop(isCompact ? 1 : 2)
            let (body, footer) = rest.splitBottom(1)
            HeaderView(context: context).render(in: header, into: &frame)
            switch view.screen {
            case .overview:
                OverviewScreen(context: context).render(in: body, into: &frame)
            case .regionDetail(let name):
                if let region = state.region(named: name) {
                    RegionDetailScreen(context: context, region: region).render(in: body, into: &frame)
                } else {
                    frame.write(
                        "region \(name) is not in the configuration", x: body.x + 1, y: body.y, style: theme[.error])
                }
            case .traces:
                TracesScreen(context: context).render(in: body, into: &frame)
            case .waterfall(let trace):
                WaterfallScreen(context: context, traceID: trace).render(in: body, into: &frame)
            case .spanDetail(let trace, let span):
                SpanDetailScreen(context: context, traceID: trace, spanID: span).render(in: body, into: &frame)
            case .latencyMatrix:
                LatencyMatrixScreen(context: context).render(in: body, into: &frame)
            case .audit:
                AuditScreen(context: context).render(in: body, into: &frame)
            case .logs:
                LogsScreen(context: context).render(in: body, into: &frame)
            case .metrics:
                MetricsScreen(context: context).render(in: body, into: &frame)
            }
            FooterView(context: context).render(in: footer, into: &frame)
        }
        if state.failover.machine.state != .steady {
            let dialogContext = live.map { ScreenContext(state: $0, view: view, theme: theme) } ?? context
            FailoverDialog(context: dialogContext).render(in: area, into: &frame)
        }
        if view.isHelpVisible {
            HelpOverlay(context: context).render(in: area, into: &frame)
        }
        return frame
    }
}
