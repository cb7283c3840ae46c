#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A colour as a theme names it. The backend maps it to what the terminal can show
/// (true colour, 256, 16 or 8 colours, or none).
public enum TerminalColor: Hashable, Sendable {
    /// The terminal's own default foreground or background.
    case `default`
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(UInt8)
    /// An entry of the xterm 256-colour palette.
    case indexed(UInt8)
    /// A 24-bit colour.
    case rgb(UInt8, UInt8, UInt8)

    /// The named ANSI colours, in palette order.
    public static let ansiNames = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
        "bright-black", "bright-red", "bright-green", "bright-yellow",
        "bright-blue", "bright-magenta", "bright-cyan", "bright-white",
    ]

    /// Parses `default`, an ANSI name (`red`, `bright-blue`, also `grey`/`gray` for
    /// bright-black), `colorN` / a bare number 0–255, or `#rrggbb`.
    public init?(name: String) {
        let text = name.trimmingWhitespace().lowercased()
        if text == "default" || text == "none" {
            self = .default
        } else if let index = TerminalColor.ansiNames.firstIndex(of: text) {
            self = .ansi(UInt8(index))
        } else if text == "grey" || text == "gray" {
            self = .ansi(8)
        } else if text.hasPrefix("#") {
            let hex = text.dropFirst()
            guard hex.count == 6, let value = UInt32(hex, radix: 16) else { return nil }
            self = .rgb(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        } else {
            let digits = text.hasPrefix("color") ? String(text.dropFirst(5)) : text
            guard let index = UInt8(digits) else { return nil }
            self = .indexed(index)
        }
    }

    /// RGB approximation, used for colour reduction and contrast checks. `nil` for `default`.
    public var approximateRGB: (red: Int, green: Int, blue: Int)? {
        switch self {
        case .default: return nil
        case .ansi(let index): return ColorPalette.ansiRGB[Int(index & 15)]
        case .indexed(let index): return ColorPalette.rgb(ofIndexed: Int(index))
        case .rgb(let r, let g, let b): return (Int(r), Int(g), Int(b))
        }
    }
}

/// How many colours the terminal can show, and therefore how theme colours are reduced.
public enum ColorCapability: Int, Comparable, Sendable {
    /// No colours: attributes only (NO_COLOR, a monochrome terminal or theme).
    case none = 0
    case ansi8 = 8
    case ansi16 = 16
    case indexed256 = 256
    /// 24-bit colour (terminfo `RGB`, for example TERM=xterm-direct).
    case direct = 16_777_216

    public static func < (lhs: ColorCapability, rhs: ColorCapability) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The capability for a terminal reporting `colors` colours.
    public init(colors: Int, hasDirectColor: Bool) {
        if hasDirectColor || colors >= 16_777_216 {
            self = .direct
        } else if colors >= 256 {
            self = .indexed256
        } else if colors >= 16 {
            self = .ansi16
        } else if colors >= 8 {
            self = .ansi8
        } else {
            self = .none
        }
    }
}

/// Palette maths: the xterm palette, nearest-colour reduction.
public enum ColorPalette {
    /// xterm's default RGB for the 16 ANSI colours.
    public static let ansiRGB: [(red: Int, green: Int, blue: Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
        (255, 255, 255),
    ]

    private static let cubeLevels = [0, 95, 135, 175, 215, 255]

    /// RGB of an entry of the 256-colour palette.
    public static func rgb(ofIndexed index: Int) -> (red: Int, green: Int, blue: Int) {
        if index < 16 { return ansiRGB[index] }
        if index >= 232 {
            let level = 8 + (index - 232) * 10
            return (level, level, level)
        }
        let cube = index - 16
        return (cubeLevels[cube / 36], cubeLevels[cube / 6 % 6], cubeLevels[cube % 6])
    }

    /// The nearest 256-palette index (cube or grey ramp, never the user-themable 0–15).
    public static func nearestIndexed(red: Int, green: Int, blue: Int) -> Int {
        func cubeIndex(_ value: Int) -> Int {
            value < 48 ? 0 : (value < 115 ? 1 : (value - 35) / 40)
        }
        let cube = 16 + 36 * cubeIndex(red) + 6 * cubeIndex(green) + cubeIndex(blue)
        let average = (red + green + blue) / 3
        let grey = average > 238 ? 255 : 232 + max(0, (average - 3) / 10)
        return distance(rgb(ofIndexed: cube), (red, green, blue)) <= distance(rgb(ofIndexed: grey), (red, green, blue))
            ? cube : grey
    }

    /// The nearest of the first `count` ANSI colours (8 or 16), preserving hue: a colour
    /// stays a colour and a grey stays a grey, so green never turns into the grey that means
    /// "stale". Among chromatic colours the closest hue wins, then the closer brightness.
    public static func nearestANSI(red: Int, green: Int, blue: Int, count: Int = 16) -> Int {
        let wanted = hsv(red, green, blue)
        let greys = count >= 16 ? [0, 8, 7, 15] : [0, 7]
        let chromatic = count >= 16 ? Array(1...6) + Array(9...14) : Array(1...6)
        let candidates = wanted.saturation < 0.25 || wanted.value < 0.15 ? greys : chromatic
        var best = candidates[0]
        var bestScore = Double.infinity
        for index in candidates {
            let (r, g, b) = ansiRGB[index]
            let candidate = hsv(r, g, b)
            let hueGap = min(abs(candidate.hue - wanted.hue), 360 - abs(candidate.hue - wanted.hue))
            let score = (candidates == greys ? 0 : hueGap / 30) + abs(candidate.value - wanted.value) * 2
            if score < bestScore {
                best = index
                bestScore = score
            }
        }
        return best
    }

    /// Hue (degrees), saturation and value (0...1).
    public static func hsv(_ red: Int, _ green: Int, _ blue: Int) -> (hue: Double, saturation: Double, value: Double) {
        let r = Double(red) / 255, g = Double(green) / 255, b = Double(blue) / 255
        let maximum = max(r, g, b), minimum = min(r, g, b)
        let delta = maximum - minimum
        var hue = 0.0
        if delta > 0 {
            if maximum == r {
                hue = 60 * ((g - b) / delta).truncatingRemainder(dividingBy: 6)
            } else if maximum == g {
                hue = 60 * ((b - r) / delta + 2)
            } else {
                hue = 60 * ((r - g) / delta + 4)
            }
        }
        if hue < 0 { hue += 360 }
        return (hue, maximum == 0 ? 0 : delta / maximum, maximum)
    }

    /// Weighted squared distance ("redmean"), closer to perception than plain RGB distance.
    public static func distance(_ a: (red: Int, green: Int, blue: Int), _ b: (red: Int, green: Int, blue: Int)) -> Int {
        let meanRed = (a.red + b.red) / 2
        let dr = a.red - b.red, dg = a.green - b.green, db = a.blue - b.blue
        // Parenthesised on purpose: in Swift `>>` binds tighter than `*`.
        return (((512 + meanRed) * dr * dr) >> 8) + 4 * dg * dg + (((767 - meanRed) * db * db) >> 8)
    }

    /// WCAG relative luminance contrast ratio between two colours (1...21).
    public static func contrastRatio(
        _ a: (red: Int, green: Int, blue: Int), _ b: (red: Int, green: Int, blue: Int)
    ) -> Double {
        func channel(_ value: Int) -> Double {
            let c = Double(value) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        func luminance(_ color: (red: Int, green: Int, blue: Int)) -> Double {
            0.2126 * channel(color.red) + 0.7152 * channel(color.green) + 0.0722 * channel(color.blue)
        }
        let la = luminance(a), lb = luminance(b)
        return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
