import RegionWatchCore
import RegionWatchTerminal

/// The named parts of the screen a theme styles. Theme files use these names as keys.
public enum ThemeRole: String, CaseIterable, Sendable {
    case text
    case muted
    case header
    case headerAccent = "header-accent"
    case border
    case focusBorder = "focus-border"
    case title
    case tableHeader = "table-header"
    case selection
    case ok
    case degraded
    case down
    case stale
    case sparkline
    case sparklineAlert = "sparkline-alert"
    case threshold
    case info
    case warning
    case critical
    case key
    case badge
    case commandLine = "command-line"
    case error
    case criticalPath = "critical-path"
    case series1 = "series-1"
    case series2 = "series-2"
    case series3 = "series-3"
    case series4 = "series-4"
    case series5 = "series-5"
    case series6 = "series-6"

    /// The colours that tell regions (or services) apart, in order.
    public static let series: [ThemeRole] = [.series1, .series2, .series3, .series4, .series5, .series6]
}

/// A typed theme: one style per role, passed into `render`. No globals.
public struct Theme: Equatable, Sendable {
    public var name: String
    /// `false` for themes that use attributes only (monochrome).
    public var usesColor: Bool
    /// The terminal background the theme is designed for.
    public var background: TerminalBackground
    private var styles: [ThemeRole: Style]

    /// A theme named `name` with the given styles; missing roles fall back to `fallback`.
    public init(
        name: String, usesColor: Bool = true, background: TerminalBackground = .dark, styles: [ThemeRole: Style],
        fallback: Theme? = nil
    ) {
        self.name = name
        self.usesColor = usesColor
        self.background = background
        var merged = fallback?.styles ?? [:]
        for (role, style) in styles { merged[role] = style }
        self.styles = merged
    }

    /// The style of `role`.
    public subscript(role: ThemeRole) -> Style {
        styles[role] ?? .plain
    }

    /// Every role's style, in role order.
    public var allStyles: [(ThemeRole, Style)] { ThemeRole.allCases.map { ($0, self[$0]) } }

    /// This theme with colours removed (NO_COLOR, or a terminal without colours); attributes
    /// keep every distinction readable.
    /// A role that set itself apart with a background colour (the selection, badges, the
    /// header) becomes reverse video, so a selected row stays visible without colour.
    public func withoutColors() -> Theme {
        let plain = styles.mapValues { style in
            style.background == .default ? style.withoutColors : Style(attributes: style.attributes.union(.reverse))
        }
        return Theme(name: name, usesColor: false, background: background, styles: plain)
    }

    /// The style for a health value.
    public func style(for health: Health) -> Style {
        switch health {
        case .ok: self[.ok]
        case .degraded: self[.degraded]
        case .down: self[.down]
        case .stale: self[.stale]
        }
    }

    /// The style of the `index`-th item of a series (regions, services), cycling.
    public func series(_ index: Int) -> Style {
        self[ThemeRole.series[((index % ThemeRole.series.count) + ThemeRole.series.count) % ThemeRole.series.count]]
    }

    /// The style for a notice severity.
    public func style(for severity: NoticeSeverity) -> Style {
        switch severity {
        case .info: self[.info]
        case .warning: self[.warning]
        case .critical: self[.critical]
        }
    }

    /// The fallback used before any theme file is read, and for roles a file leaves out:
    /// a dark theme in the 16 ANSI colours, readable everywhere.
    public static let fallback = Theme(
        name: "fallback",
        styles: [
            .text: Style(),
            .muted: Style(foreground: .ansi(8)),
            .header: Style(foreground: .ansi(15), background: .ansi(4), attributes: [.bold]),
            .headerAccent: Style(foreground: .ansi(11), background: .ansi(4), attributes: [.bold]),
            .border: Style(foreground: .ansi(8)),
            .focusBorder: Style(foreground: .ansi(14)),
            .title: Style(foreground: .ansi(14), attributes: [.bold]),
            .tableHeader: Style(foreground: .ansi(7), attributes: [.bold, .underline]),
            .selection: Style(background: .ansi(8), attributes: [.bold]),
            .ok: Style(foreground: .ansi(10)),
            .degraded: Style(foreground: .ansi(11), attributes: [.bold]),
            .down: Style(foreground: .ansi(9), attributes: [.bold]),
            .stale: Style(foreground: .ansi(8), attributes: [.dim]),
            .sparkline: Style(foreground: .ansi(6)),
            .sparklineAlert: Style(foreground: .ansi(9)),
            .threshold: Style(foreground: .ansi(3)),
            .info: Style(foreground: .ansi(7)),
            .warning: Style(foreground: .ansi(11)),
            .critical: Style(foreground: .ansi(9), attributes: [.bold]),
            .key: Style(foreground: .ansi(14), attributes: [.bold]),
            .badge: Style(foreground: .ansi(0), background: .ansi(11), attributes: [.bold]),
            .commandLine: Style(foreground: .ansi(15)),
            .error: Style(foreground: .ansi(9), attributes: [.bold]),
            .criticalPath: Style(foreground: .ansi(11), attributes: [.bold]),
            .series1: Style(foreground: .ansi(12)),
            .series2: Style(foreground: .ansi(13)),
            .series3: Style(foreground: .ansi(14)),
            .series4: Style(foreground: .ansi(10)),
            .series5: Style(foreground: .ansi(11)),
            .series6: Style(foreground: .ansi(9)),
        ])
}
