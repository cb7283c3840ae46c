#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Human-readable, fixed-style formatting of the numbers regionwatch shows, shared by the
/// screens, the status table and health reasons. Pure and locale-independent.
public enum Format {
    /// The one marker for a value that is not known, everywhere on screen and in tables
    /// (`null` in JSON).
    public static let unknown = "—"

    /// A fraction as a percentage: `0.0321` → `3.2%`, `0.0004` → `0.04%`.
    public static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        if value == 0 { return "0%" }
        // Thresholds sit just below the rounding boundary so 0.0999 shows as 0.1%, not 0.10%.
        if abs(value) >= 9.95 { return fixed(value, decimals: 0) + "%" }
        if abs(value) >= 0.095 { return fixed(value, decimals: 1) + "%" }
        return fixed(value, decimals: 2) + "%"
    }

    /// `value` formatted so that it never reads as having reached `limit` when it has not: a
    /// value below the limit that would round to the limit's own text is shown as `<LIMIT`
    /// (0.996% against a 1% rule is `<1.0%`, not `1.0%` beside "≥ 1.0%").
    public static func keepingBelow(_ limit: Double, _ value: Double, _ format: (Double) -> String) -> String {
        let text = format(value)
        guard value < limit, text == format(limit) else { return text }
        return "<" + text
    }

    /// Beyond this many seconds (a century) a duration is shown as `>100y`: no lag or age is
    /// longer, and whole-second arithmetic stays far inside `Int`.
    public static let longestDuration = 100 * 365.25 * 86_400

    /// A duration in seconds, compact: `0.4s`, `12s`, `2m05s`, `1h02m`, `3d04h`, `>100y`.
    public static func duration(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "?" }
        guard seconds.isFinite else { return "∞" }
        let sign = seconds < 0 ? "-" : ""
        let value = abs(seconds)
        guard value <= longestDuration else { return sign + ">100y" }
        if value < 10 { return sign + fixed(value, decimals: value == value.rounded() ? 0 : 1) + "s" }
        let whole = Int(value.rounded(.down))
        if whole < 60 { return "\(sign)\(whole)s" }
        if whole < 3600 {
            return whole % 60 == 0 ? "\(sign)\(whole / 60)m" : "\(sign)\(whole / 60)m\(twoDigits(whole % 60))s"
        }
        if whole < 86_400 {
            return whole % 3600 == 0
                ? "\(sign)\(whole / 3600)h" : "\(sign)\(whole / 3600)h\(twoDigits(whole % 3600 / 60))m"
        }
        return whole % 86_400 == 0
            ? "\(sign)\(whole / 86_400)d" : "\(sign)\(whole / 86_400)d\(twoDigits(whole % 86_400 / 3600))h"
    }

    /// A lag or data loss: one decimal below 100 s so that a value near a limit is never
    /// rounded across it (`0s`, `3.2s`, `10.6s`, `2m05s`).
    public static func lag(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "?" }
        guard seconds.isFinite else { return "∞" }
        if seconds == 0 { return "0s" }
        return abs(seconds) < 100 ? fixed(seconds, decimals: 1) + "s" : duration(seconds)
    }

    /// An age: like `duration` but whole seconds below a minute (`0s`, `4s`).
    public static func age(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "?" }
        let value = max(0, seconds)
        if value < 60 { return "\(Int(value.rounded(.down)))s" }
        return duration(value)
    }

    /// Milliseconds: `182ms`, `1.25s`.
    public static func milliseconds(_ milliseconds: Double) -> String {
        if milliseconds >= 1000 { return fixed(milliseconds / 1000, decimals: 2) + "s" }
        if milliseconds >= 10 { return fixed(milliseconds, decimals: 0) + "ms" }
        return fixed(milliseconds, decimals: 1) + "ms"
    }

    /// A byte count in binary units: `512B`, `3.4KiB`, `48.2GiB`.
    public static func bytes(_ bytes: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = bytes
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return fixed(value, decimals: 0) + units[0] }
        return fixed(value, decimals: abs(value) >= 100 ? 0 : 1) + units[unit]
    }

    /// A rate: `0.4`, `12`, `1.2k`, `3.4M`.
    public static func rate(_ value: Double) -> String {
        if abs(value) >= 1_000_000 { return fixed(value / 1_000_000, decimals: 1) + "M" }
        if abs(value) >= 10_000 { return fixed(value / 1000, decimals: 0) + "k" }
        if abs(value) >= 1000 { return fixed(value / 1000, decimals: 1) + "k" }
        if abs(value) >= 10 || value == 0 { return fixed(value, decimals: 0) }
        return fixed(value, decimals: 1)
    }

    /// `value` with about three significant digits, without exponent notation: `0.0123`,
    /// `12.3`, `457`, `4.6k`, `1.23M`.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return fixed(value, decimals: 0) }
        let magnitude = abs(value)
        if magnitude >= 1_000_000_000 { return fixed(value / 1e9, decimals: 2) + "G" }
        if magnitude >= 1_000_000 { return fixed(value / 1e6, decimals: 2) + "M" }
        if magnitude >= 10_000 { return fixed(value / 1000, decimals: 1) + "k" }
        if magnitude >= 100 || value == 0 { return fixed(value, decimals: 0) }
        if magnitude >= 10 { return fixed(value, decimals: 1) }
        if magnitude >= 1 { return fixed(value, decimals: 2) }
        let decimals = min(9, 2 - Int(log10(magnitude).rounded(.down)))
        return fixed(value, decimals: decimals)
    }

    /// `value` rounded to `decimals` places, without exponent notation.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-∞" : "∞") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let negative = value < 0 && rounded != 0
        // Beyond exact integer range, Double's own shortest form is the honest rendering.
        guard rounded < 9e15 else { return "\(value)" }
        let scaled = Int(rounded)
        let scaleInt = Int(scale)
        let integerPart = scaled / scaleInt
        var text = (negative ? "-" : "") + String(integerPart)
        if decimals > 0 {
            let fraction = String(scaled % scaleInt)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    public func trimmed() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
