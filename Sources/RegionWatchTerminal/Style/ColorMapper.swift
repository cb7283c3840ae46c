/// Maps theme colours to the colour numbers a terminal with a given capability understands.
/// Pure, so the reduction to 256, 16 and 8 colours is tested without a terminal.
public struct ColorMapper: Sendable {
    public var capability: ColorCapability
    /// The terminal background the theme was designed for; with the terminal's default
    /// background, foregrounds are kept readable against it.
    public var background: TerminalBackground

    /// Minimum contrast ratio a reduced foreground keeps against its background.
    public static let minimumContrast = 3.0

    public init(capability: ColorCapability, background: TerminalBackground = .dark) {
        self.capability = capability
        self.background = background
    }

    /// Colour numbers for a foreground/background pair. On 8- and 16-colour terminals the
    /// foreground is the nearest palette colour that stays readable (contrast at least
    /// `minimumContrast`) on the background, so a dark green on a light theme does not become
    /// an unreadable bright green.
    public func pair(
        foreground: TerminalColor, background backgroundColor: TerminalColor
    ) -> (foreground: Int32, background: Int32) {
        let backgroundNumber = number(for: backgroundColor)
        guard capability == .ansi8 || capability == .ansi16, let wanted = foreground.approximateRGB else {
            return (number(for: foreground), backgroundNumber)
        }
        let backdrop =
            backgroundNumber >= 0 ? ColorPalette.rgb(ofIndexed: Int(backgroundNumber)) : background.assumedRGB
        let count = capability == .ansi8 ? 8 : 16
        let nearest = Int(number(for: foreground))
        if ColorPalette.contrastRatio(ColorPalette.ansiRGB[nearest], backdrop) >= Self.minimumContrast {
            return (Int32(nearest), backgroundNumber)
        }
        // Colours stay colours: a chromatic colour falls back to the readable palette colour of
        // the closest hue, never to a grey (grey means "stale").
        let wantedHSV = ColorPalette.hsv(wanted.red, wanted.green, wanted.blue)
        let isChromatic = wantedHSV.saturation >= 0.25 && wantedHSV.value >= 0.15
        var best = nearest
        var bestScore = Double.infinity
        for index in 0..<count
        where ColorPalette.contrastRatio(ColorPalette.ansiRGB[index], backdrop) >= Self.minimumContrast {
            let (r, g, b) = ColorPalette.ansiRGB[index]
            let candidate = ColorPalette.hsv(r, g, b)
            let candidateIsChromatic = candidate.saturation >= 0.25
            guard candidateIsChromatic == isChromatic else { continue }
            let hueGap = min(abs(candidate.hue - wantedHSV.hue), 360 - abs(candidate.hue - wantedHSV.hue))
            let score = (isChromatic ? hueGap / 30 : 0) + abs(candidate.value - wantedHSV.value) * 2
            if score < bestScore {
                best = index
                bestScore = score
            }
        }
        return (Int32(best), backgroundNumber)
    }

    /// The terminal colour number for `color`: -1 for the terminal default; palette indices for
    /// 8/16/256-colour terminals; packed `0xRRGGBB` for direct-colour terminals.
    public func number(for color: TerminalColor) -> Int32 {
        switch color {
        case .default:
            return -1
        case .ansi(let index):
            switch capability {
            case .none: return -1
            case .ansi8: return Int32(index & 7)
            case .direct where index >= 8:
                let rgb = ColorPalette.ansiRGB[Int(index & 15)]
                return packed(rgb.red, rgb.green, rgb.blue)
            default: return Int32(index & 15)
            }
        case .indexed(let index):
            let rgb = ColorPalette.rgb(ofIndexed: Int(index))
            switch capability {
            case .none: return -1
            case .ansi8:
                return Int32(ColorPalette.nearestANSI(red: rgb.red, green: rgb.green, blue: rgb.blue, count: 8))
            case .ansi16:
                return Int32(
                    index < 16 ? Int(index) : ColorPalette.nearestANSI(red: rgb.red, green: rgb.green, blue: rgb.blue))
            case .indexed256: return Int32(index)
            case .direct: return index < 8 ? Int32(index) : packed(rgb.red, rgb.green, rgb.blue)
            }
        case .rgb(let r, let g, let b):
            let (red, green, blue) = (Int(r), Int(g), Int(b))
            switch capability {
            case .none: return -1
            case .ansi8: return Int32(ColorPalette.nearestANSI(red: red, green: green, blue: blue, count: 8))
            case .ansi16: return Int32(ColorPalette.nearestANSI(red: red, green: green, blue: blue))
            case .indexed256: return Int32(ColorPalette.nearestIndexed(red: red, green: green, blue: blue))
            case .direct: return packed(red, green, blue)
            }
        }
    }

    /// RGB of what the terminal will show for a colour number from `number(for:)` or
    /// `pair(...)`; `nil` for the terminal's default colour.
    public func displayedRGB(ofNumber value: Int32) -> (red: Int, green: Int, blue: Int)? {
        guard value >= 0 else { return nil }
        switch capability {
        case .none: return nil
        case .direct where !(value < 8):
            return (Int(value >> 16 & 0xFF), Int(value >> 8 & 0xFF), Int(value & 0xFF))
        default:
            return ColorPalette.rgb(ofIndexed: Int(value))
        }
    }

    private func packed(_ red: Int, _ green: Int, _ blue: Int) -> Int32 {
        // Direct-colour terminfo treats values below 8 as ANSI indices; nudge near-black blues.
        max(8, Int32(red << 16 | green << 8 | blue))
    }
}

/// Whether a theme is meant for a dark or a light terminal background.
public enum TerminalBackground: String, Sendable, CaseIterable {
    case dark
    case light

    /// The background colour assumed when the terminal's default is used.
    public var assumedRGB: (red: Int, green: Int, blue: Int) {
        self == .dark ? (0, 0, 0) : (255, 255, 255)
    }

    /// The foreground colour assumed when the terminal's default is used.
    public var assumedForegroundRGB: (red: Int, green: Int, blue: Int) {
        self == .dark ? (229, 229, 229) : (0, 0, 0)
    }
}
