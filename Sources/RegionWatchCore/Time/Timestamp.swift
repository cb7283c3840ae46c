#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in wall-clock time, in seconds since the Unix epoch.
///
/// Core works in plain seconds so that reducers stay pure and cheap; durations between two
/// timestamps are `Double` seconds.
public struct Timestamp: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var secondsSinceEpoch: Double

    public init(secondsSinceEpoch: Double) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    /// Nanoseconds since the epoch, as OTLP counts them (0 before the epoch).
    public var unixNanoseconds: UInt64 {
        secondsSinceEpoch > 0 ? UInt64(min(secondsSinceEpoch * 1e9, Double(UInt64.max / 2))) : 0
    }

    /// The timestamp `seconds` later (earlier when negative).
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(secondsSinceEpoch: secondsSinceEpoch + seconds)
    }

    /// Seconds from `earlier` to this timestamp (negative when `earlier` is later).
    public func seconds(since earlier: Timestamp) -> Double {
        secondsSinceEpoch - earlier.secondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.secondsSinceEpoch < rhs.secondsSinceEpoch
    }

    /// UTC calendar fields, computed without Foundation.
    public var utcComponents: UTCComponents { UTCComponents(self) }

    /// ISO 8601 in UTC with millisecond precision, for example `2026-11-26T14:30:05.250Z`.
    public var iso8601: String {
        let c = utcComponents
        let fraction = secondsSinceEpoch - secondsSinceEpoch.rounded(.down)
        let milliseconds = fraction.isFinite ? min(999, max(0, Int(fraction * 1000))) : 0
        return
            "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(milliseconds, 3))Z"
    }

    /// `YYYY-MM-DD` in UTC.
    public var utcDate: String {
        let c = utcComponents
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }

    /// `HH:MM:SS` in UTC.
    public var utcTimeOfDay: String {
        let c = utcComponents
        return "\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
    }

    public var description: String { iso8601 }
}

/// Calendar fields of a timestamp in UTC.
public struct UTCComponents: Equatable, Sendable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    init(_ timestamp: Timestamp) {
        // Far outside any real clock (a hostile timestamp) the calendar is clamped to ±31,000
        // years rather than trapping in the conversion.
        let seconds = timestamp.secondsSinceEpoch.isNaN ? 0 : min(1e12, max(-1e12, timestamp.secondsSinceEpoch))
        let total = Int(seconds.rounded(.down))
        var days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondsOfDay = total - days * 86_400
        hour = secondsOfDay / 3600
        minute = secondsOfDay % 3600 / 60
        second = secondsOfDay % 60
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
