/// A 16-byte trace identifier.
public struct TraceID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From exactly 16 big-endian bytes. (Inlinable so callers in other modules get a
    /// specialised, allocation-free version: this runs for every received span.)
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        var index = 0
        for byte in bytes {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            index += 1
        }
        self.init(high: high, low: low)
    }

    /// From 32 hexadecimal digits.
    public init?(hex: String) {
        guard hex.utf8.count == 32, let high = UInt64(hexDigits: hex.utf8.prefix(16)),
            let low = UInt64(hexDigits: hex.utf8.dropFirst(16))
        else { return nil }
        self.init(high: high, low: low)
    }

    /// All-zero identifiers are invalid in OTLP.
    public var isValid: Bool { high != 0 || low != 0 }

    /// 32 lower-case hexadecimal digits.
    public var hex: String { high.paddedHex + low.paddedHex }
    public var description: String { hex }

    public static func < (lhs: TraceID, rhs: TraceID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// An 8-byte span identifier; zero means "none" (no parent).
public struct SpanID: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    /// From exactly 8 big-endian bytes.
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 8 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// From 16 hexadecimal digits.
    public init?(hex: String) {
        guard hex.utf8.count == 16, let value = UInt64(hexDigits: hex.utf8[...]) else { return nil }
        self.value = value
    }

    public static let none = SpanID(0)
    public var isValid: Bool { value != 0 }
    public var hex: String { value.paddedHex }
    public var description: String { hex }
}

extension UInt64 {
    /// Parses hexadecimal digits (either case); `nil` on any other character or overflow.
    @inlinable
    public init?<Digits: Collection>(hexDigits: Digits) where Digits.Element == UInt8 {
        guard !hexDigits.isEmpty, hexDigits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in hexDigits {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        self = value
    }

    /// 16 lower-case hexadecimal digits.
    var paddedHex: String {
        let digits = String(self, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
