/// A minimal, allocation-light JSON reader over bytes, for the OTLP/JSON decoder. It reads
/// values on demand (no intermediate tree), skips what the caller does not ask for, limits
/// nesting, and reports problems with the path to the offending value.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0
    static let depthLimit = 64

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// A problem with its location; components are prepended while unwinding.
    struct Failure: Error {
        var path: [String]
        var message: String

        var description: String {
            var text = ""
            for component in path {
                if component.hasPrefix("[") {
                    text += component
                } else {
                    text += text.isEmpty ? component : "." + component
                }
            }
            return text.isEmpty ? message : "\(text): \(message)"
        }
    }

    enum Kind {
        case object, array, string, number, bool, null
    }

    // MARK: Basics

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func peekKind() throws(Failure) -> Kind {
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end of input (truncated body?)") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw fail("unexpected character '\(Self.printable(bytes[position]))' at byte \(position)")
        }
    }

    func fail(_ message: String) -> Failure {
        Failure(path: [], message: message)
    }

    static func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    static func describe(_ kind: Kind) -> String {
        switch kind {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end of input (truncated body?)") }
        guard bytes[position] == byte else {
            throw fail(
                "expected '\(Self.printable(byte))' but found '\(Self.printable(bytes[position]))' at byte \(position)")
        }
        position += 1
    }

    /// Consumes `literal` (true, false, null) at the current position.
    mutating func literal(_ text: StaticString) throws(Failure) {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("unexpected end of input (truncated body?)") }
        for offset in 0..<count where bytes[position + offset] != text.utf8Start[offset] {
            throw fail("invalid literal at byte \(position)")
        }
        position += count
    }

    // MARK: Containers

    /// Reads an object, calling `member` with each key (raw bytes) positioned at its value.
    /// `member` must consume the value.
    mutating func object(
        _ member: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws(Failure) -> Void
    ) throws(Failure) {
        try container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { scanner, _ throws(Failure) in
            scanner.skipWhitespace()
            let keyStart = scanner.position
            var decodedKey: [UInt8]?
            var key: UnsafeBufferPointer<UInt8>
            do {
                key = try scanner.rawString()
            } catch {
                // A key with escapes: decode it (rare; field names never need escapes).
                scanner.position = keyStart
                decodedKey = Array(try scanner.string().utf8)
                key = UnsafeBufferPointer(start: nil, count: 0)
            }
            try scanner.expect(UInt8(ascii: ":"))
            do throws(Failure) {
                if let decodedKey {
                    try decodedKey.withUnsafeBufferPointer { buffer throws(Failure) in try member(&scanner, buffer) }
                } else {
                    try member(&scanner, key)
                }
            } catch {
                var failure = error
                failure.path.insert(
                    decodedKey.map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: key, as: UTF8.self),
                    at: 0)
                throw failure
            }
        }
    }

    /// Reads an array, calling `element` with each index positioned at the element.
    mutating func array(_ element: (inout JSONScanner, Int) throws(Failure) -> Void) throws(Failure) {
        try container(open: UInt8(ascii: "["), close: UInt8(ascii: "]")) { scanner, index throws(Failure) in
            do throws(Failure) {
                try element(&scanner, index)
            } catch {
                var failure = error
                failure.path.insert("[\(index)]", at: 0)
                throw failure
            }
        }
    }

    /// Reads the items of an object or array between `open` and `close` (separators, nesting
    /// limit, truncation); `item` reads one member or element.
    private mutating func container(
        open: UInt8, close: UInt8, _ item: (inout JSONScanner, Int) throws(Failure) -> Void
    ) throws(Failure) {
        try expect(open)
        depth += 1
        guard depth <= Self.depthLimit else { throw fail("nesting deeper than \(Self.depthLimit) levels") }
        skipWhitespace()
        if position < bytes.count, bytes[position] == close {
            position += 1
            depth -= 1
            return
        }
        var index = 0
        while true {
            try item(&self, index)
            index += 1
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of input (truncated body?)") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(close)
            depth -= 1
            return
        }
    }

    /// Reads an array or `null` (which counts as empty).
    mutating func optionalArray(_ element: (inout JSONScanner, Int) throws(Failure) -> Void) throws(Failure) {
        let kind = try peekKind()
        if kind == .null { return try literal("null") }
        guard kind == .array else { throw fail("expected an array, found \(Self.describe(kind))") }
        try array(element)
    }

    /// Reads an object or `null` (which counts as empty).
    mutating func optionalObject(
        _ member: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws(Failure) -> Void
    ) throws(Failure) {
        let kind = try peekKind()
        if kind == .null { return try literal("null") }
        guard kind == .object else { throw fail("expected an object, found \(Self.describe(kind))") }
        try object(member)
    }

    /// Skips any value.
    mutating func skipValue() throws(Failure) {
        switch try peekKind() {
        case .object: try object { scanner, _ throws(Failure) in try scanner.skipValue() }
        case .array: try array { scanner, _ throws(Failure) in try scanner.skipValue() }
        case .string: _ = try string()
        case .number: _ = try numberText()
        case .bool: bytes[position] == UInt8(ascii: "t") ? try literal("true") : try literal("false")
        case .null: try literal("null")
        }
    }

    // MARK: Strings

    /// The bytes between quotes when the string has no escapes (the common case for keys and
    /// ids); strings with escapes are decoded into `scratch` first.
    mutating func rawString() throws(Failure) -> UnsafeBufferPointer<UInt8> {
        try expect(UInt8(ascii: "\""))
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)])
            }
            if byte == UInt8(ascii: "\\") {
                // Keys and ids never need escapes; report them as unusable in this position.
                position = start - 1
                throw fail("escaped characters are not allowed here")
            }
            if byte < 0x20 { throw fail("control character in string at byte \(position)") }
            position += 1
        }
        throw fail("unterminated string (truncated body?)")
    }

    /// A string value, escapes decoded and UTF-8 validated.
    mutating func string() throws(Failure) -> String {
        let kind = try peekKind()
        guard kind == .string else { throw fail("expected a string, found \(Self.describe(kind))") }
        position += 1
        let start = position
        var hasEscapes = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                position += 2
                continue
            }
            if byte < 0x20 { throw fail("control character in string at byte \(position)") }
            position += 1
        }
        guard position < bytes.count else { throw fail("unterminated string (truncated body?)") }
        let end = position
        position += 1
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if !hasEscapes {
            guard let text = ValidatedUTF8.string(slice) else { throw fail("string is not valid UTF-8") }
            return text
        }
        return try unescape(slice)
    }

    private func unescape(_ slice: UnsafeBufferPointer<UInt8>) throws(Failure) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(slice.count)
        var index = 0
        func hex4(_ at: Int) throws(Failure) -> UInt32 {
            guard at + 4 <= slice.count else { throw fail("truncated \\u escape") }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = slice[at + offset]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
        while index < slice.count {
            let byte = slice[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < slice.count else { throw fail("truncated escape") }
            let escaped = slice[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(index)
                index += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 6 <= slice.count, slice[index] == UInt8(ascii: "\\"),
                        slice[index + 1] == UInt8(ascii: "u")
                    else {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    let low = try hex4(index + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate in \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                output.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw fail("invalid escape '\\\(Self.printable(escaped))'")
            }
        }
        guard let text = output.withUnsafeBufferPointer(ValidatedUTF8.string) else {
            throw fail("string is not valid UTF-8")
        }
        return text
    }

    // MARK: Numbers

    /// The raw text of a number.
    mutating func numberText() throws(Failure) -> UnsafeBufferPointer<UInt8> {
        skipWhitespace()
        let start = position
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                position += 1
            default:
                return UnsafeBufferPointer(rebasing: bytes[start..<position])
            }
        }
        return UnsafeBufferPointer(rebasing: bytes[start..<position])
    }

    /// An unsigned 64-bit integer given as a number or a decimal string (OTLP/JSON writes
    /// 64-bit integers as strings).
    mutating func unsigned() throws(Failure) -> UInt64 {
        let kind = try peekKind()
        let text: UnsafeBufferPointer<UInt8>
        switch kind {
        case .number: text = try numberText()
        case .string: text = try rawString()
        default: throw fail("expected an unsigned integer (number or string), found \(Self.describe(kind))")
        }
        guard !text.isEmpty, text.count <= 20 else {
            throw fail("'\(String(decoding: text, as: UTF8.self))' is not an unsigned 64-bit integer")
        }
        var value: UInt64 = 0
        for byte in text {
            guard byte >= 0x30, byte <= 0x39 else {
                throw fail("'\(String(decoding: text, as: UTF8.self))' is not an unsigned 64-bit integer")
            }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1, !overflow2 else {
                throw fail("'\(String(decoding: text, as: UTF8.self))' overflows 64 bits")
            }
            value = added
        }
        return value
    }

    /// A signed 64-bit integer given as a number or a decimal string.
    mutating func signed() throws(Failure) -> Int64 {
        let kind = try peekKind()
        let text: UnsafeBufferPointer<UInt8>
        switch kind {
        case .number: text = try numberText()
        case .string: text = try rawString()
        default: throw fail("expected an integer (number or string), found \(Self.describe(kind))")
        }
        guard let value = Int64(String(decoding: text, as: UTF8.self)) else {
            throw fail("'\(String(decoding: text, as: UTF8.self))' is not a 64-bit integer")
        }
        return value
    }

    /// A double given as a number, or one of the strings "NaN", "Infinity", "-Infinity".
    mutating func double() throws(Failure) -> Double {
        let kind = try peekKind()
        switch kind {
        case .number:
            let text = try numberText()
            guard let value = Double(String(decoding: text, as: UTF8.self)) else {
                throw fail("'\(String(decoding: text, as: UTF8.self))' is not a number")
            }
            return value
        case .string:
            let text = String(decoding: try rawString(), as: UTF8.self)
            switch text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                guard let value = Double(text) else { throw fail("'\(text)' is not a number") }
                return value
            }
        default:
            throw fail("expected a number, found \(Self.describe(kind))")
        }
    }

    mutating func bool() throws(Failure) -> Bool {
        let kind = try peekKind()
        guard kind == .bool else { throw fail("expected a boolean, found \(Self.describe(kind))") }
        if bytes[position] == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    /// Whether the next value is `null` (consumed when it is).
    mutating func consumeNull() throws(Failure) -> Bool {
        guard try peekKind() == .null else { return false }
        try literal("null")
        return true
    }

    /// Whether the input has only whitespace left.
    mutating func isAtEnd() -> Bool {
        skipWhitespace()
        return position >= bytes.count
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether these bytes spell `text`.
    func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount, let baseAddress else { return false }
        return memcmp(baseAddress, text.utf8Start, count) == 0
    }

    /// Whether these bytes spell either form of a field name (lowerCamelCase or snake_case).
    func isField(_ camel: StaticString, _ snake: StaticString) -> Bool {
        equals(camel) || equals(snake)
    }
}

#if canImport(Glibc)
import Glibc
#endif
