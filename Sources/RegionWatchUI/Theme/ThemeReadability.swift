import RegionWatchTerminal

/// How readable a theme's text is: the WCAG contrast ratio of the colours a terminal shows
/// for a style, on the background the theme is designed for (the terminal default assumed
/// black or white), after the reduction a terminal of `capability` applies. Reverse video
/// swaps the two.
public struct ThemeReadability: Sendable {
    /// Ratios every state must reach: WCAG AA for text; stale is muted on purpose, yet must
    /// stay readable (WCAG's minimum for large or bold text).
    public static let minimumContrast = 4.5
    public static let minimumStaleContrast = 3.0

    public let theme: Theme
    public let capability: ColorCapability

    public init(theme: Theme, capability: ColorCapability = .direct) {
        self.theme = theme
        self.capability = capability
    }

    /// The colours shown for `style`, foreground and background.
    public func colours(of style: Style) -> (foreground: RGB, background: RGB) {
        let mapper = ColorMapper(capability: capability, background: theme.background)
        let numbers = mapper.pair(foreground: style.foreground, background: style.background)
        func rgb(_ number: Int32, _ color: TerminalColor, fallback: RGB) -> RGB {
            guard number >= 0, color != .default else { return fallback }
            switch capability {
            case .direct: return color.approximateRGB ?? fallback
            case .none: return fallback
            default: return ColorPalette.rgb(ofIndexed: Int(number))
            }
        }
        var foreground = rgb(numbers.foreground, style.foreground, fallback: theme.background.assumedForegroundRGB)
        var background = rgb(numbers.background, style.background, fallback: theme.background.assumedRGB)
        if capability == .none || !theme.usesColor {
            foreground = theme.background.assumedForegroundRGB
            background = theme.background.assumedRGB
        }
        if style.attributes.contains(.reverse) { swap(&foreground, &background) }
        return (foreground, background)
    }

    /// The contrast ratio of `style` (1…21).
    public func contrast(of style: Style) -> Double {
        let shown = colours(of: style)
        return ColorPalette.contrastRatio(shown.foreground, shown.background)
    }

    /// Whether a selected row can be told from an unselected one without reading the text:
    /// another background, or reverse video toggled.
    public func selectionIsVisible(on style: Style) -> Bool {
        let selected = style.selected(by: theme[.selection])
        return colours(of: selected).background != colours(of: style).background
            || selected.attributes.contains(.reverse) != style.attributes.contains(.reverse)
    }

    public typealias RGB = (red: Int, green: Int, blue: Int)
}
