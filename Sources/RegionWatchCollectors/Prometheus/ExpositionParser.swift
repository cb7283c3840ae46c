#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One sample of a text exposition: `name{labels} value [timestamp]`.
public struct ExpositionSample: Equatable, Sendable {
    public var name: String
    /// Labels in the order written.
    public var labels: [ExpositionLabel]
    public var value: Double
    /// Milliseconds since the epoch, when the line carries a timestamp.
    public var timestampMilliseconds: Int64?

    public init(name: String, labels: [ExpositionLabel] = [], value: Double, timestampMilliseconds: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// The value of label `name`, if present.
    public func label(_ name: String) -> String? {
        labels.first { $0.name == name }?.value
    }
}

/// A label pair.
public struct ExpositionLabel: Equatable, Hashable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The metric types `# TYPE` declares.
public enum ExpositionMetricType: String, Equatable, Sendable {
    case counter, gauge, histogram, summary, untyped, unknown, info, stateset, gaugehistogram
}

/// A line that was rejected, with its 1-based number.
public struct ExpositionError: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// What a parse produced: every valid sample, and the rejected lines.
public struct ExpositionDocument: Equatable, Sendable {
    public var samples: [ExpositionSample] = []
    /// Declared types by metric family name.
    public var types: [String: ExpositionMetricType] = [:]
    /// The first rejected lines (at most `ExpositionParser.Limits.keptErrors`).
    public var errors: [ExpositionError] = []
    /// Every rejected line, including those beyond the kept errors.
    public var rejectedLines = 0
    /// Whether an OpenMetrics `# EOF` ended the document.
    public var sawEOF = false

    public init() {}
}

/// Parses the Prometheus text exposition format (0.0.4) and OpenMetrics text (1.0).
///
/// Line by line over bytes: a bad line is rejected with its number and a message, counted, and
/// never stops the lines around it. Duplicate series keep the first sample. Hostile input is
/// bounded: lines longer than `maxLineBytes`, samples beyond `maxSamples` and labels beyond
/// `maxLabels` are rejected, not stored.
public struct ExpositionParser: Sendable {
    /// Bounds on what one document may make the parser hold.
    public struct Limits: Sendable, Equatable {
        public var maxLineBytes = 65_536
        public var maxSamples = 1_000_000
        public var maxLabels = 64
        public static let keptErrors = 50

        public init() {}
    }

    public var limits: Limits
    /// When set, only samples whose family is in this set are kept (others are still checked
    /// for the name, then skipped cheaply).
    public var families: Set<String>?

    public init(limits: Limits = Limits(), families: Set<String>? = nil) {
        self.limits = limits
        self.families = families
    }

    /// Parses a whole exposition.
    public func parse(_ bytes: [UInt8]) -> ExpositionDocument {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    /// Parses a whole exposition.
    public func parse(_ text: String) -> ExpositionDocument {
        parse(Array(text.utf8))
    }

    /// Parses a whole exposition from raw bytes.
    public func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> ExpositionDocument {
        var document = ExpositionDocument()
        var seen = Set<Int>()
        var interner = NameInterner()
        var lineNumber = 0
        var start = 0
        let count = buffer.count
        while start < count {
            lineNumber += 1
            var end = start
            while end < count, buffer[end] != UInt8(ascii: "\n") { end += 1 }
            var lineEnd = end
            if lineEnd > start, buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { start = end + 1 }
            if document.sawEOF {
                if lineEnd > start { reject(&document, lineNumber, "content after # EOF") }
                continue
            }
            if lineEnd - start > limits.maxLineBytes {
                reject(&document, lineNumber, "line longer than \(limits.maxLineBytes) bytes")
                continue
            }
            let line = UnsafeBufferPointer(rebasing: buffer[start..<lineEnd])
            do {
                try parseLine(line, into: &document, seen: &seen, interner: &interner)
            } catch {
                reject(&document, lineNumber, error.message)
            }
        }
        return document
    }

    private func reject(_ document: inout ExpositionDocument, _ line: Int, _ message: String) {
        document.rejectedLines += 1
        if document.errors.count < Limits.keptErrors {
            document.errors.append(ExpositionError(line: line, message: message))
        }
    }

    /// A series' identity: its name and labels in name order (a 64-bit hash; equal series always
    /// collide, distinct ones practically never).
    private static func seriesHash(_ name: String, _ labels: [ExpositionLabel]) -> Int {
        var hasher = Hasher()
        hasher.combine(name)
        let isSorted = zip(labels, labels.dropFirst()).allSatisfy { $0.name < $1.name }
        for label in isSorted ? labels : labels.sorted(by: { $0.name < $1.name }) {
            hasher.combine(label.name)
            hasher.combine(label.value)
        }
        return hasher.finalize()
    }

    private func parseLine(
        _ line: UnsafeBufferPointer<UInt8>, into document: inout ExpositionDocument, seen: inout Set<Int>,
        interner: inout NameInterner
    ) throws(LineError) {
        var cursor = LineCursor(line)
        cursor.skipSpaces()
        guard !cursor.atEnd else { return }
        if cursor.peek == UInt8(ascii: "#") {
            try parseComment(&cursor, into: &document)
            return
        }
        guard let name = cursor.readName(interner: &interner) else {
            throw LineError("expected a metric name, found \(cursor.describeNext())")
        }
        if let families, !families.contains(name), !families.contains(Self.familyName(of: name)) { return }
        var labels: [ExpositionLabel] = []
        if cursor.peek == UInt8(ascii: "{") {
            labels = try parseLabels(&cursor, interner: &interner)
        }
        guard cursor.skipSpaces() > 0 else { throw LineError("expected a space before the value of \(name)") }
        guard let value = cursor.readNumber() else {
            throw LineError("value of \(name) is not a number")
        }
        var timestamp: Int64?
        if cursor.skipSpaces() > 0, !cursor.atEnd, cursor.peek != UInt8(ascii: "#") {
            guard let text = cursor.readToken(), let parsed = Self.parseTimestamp(text) else {
                throw LineError("timestamp of \(name) is not a number")
            }
            timestamp = parsed
        }
        cursor.skipSpaces()
        // OpenMetrics exemplars (`# {trace_id="…"} 1`) follow the sample; they are not kept.
        if !cursor.atEnd, cursor.peek != UInt8(ascii: "#") {
            throw LineError("unexpected \(cursor.describeNext()) after the value of \(name)")
        }
        guard document.samples.count < limits.maxSamples else {
            throw LineError("more than \(limits.maxSamples) samples")
        }
        guard seen.insert(Self.seriesHash(name, labels)).inserted else {
            throw LineError("duplicate series \(name)\(Self.describe(labels))")
        }
        document.samples.append(
            ExpositionSample(name: name, labels: labels, value: value, timestampMilliseconds: timestamp))
    }

    private func parseComment(_ cursor: inout LineCursor, into document: inout ExpositionDocument) throws(LineError) {
        cursor.advance()
        cursor.skipSpaces()
        guard let keyword = cursor.readToken() else { return }
        switch keyword {
        case "TYPE":
            cursor.skipSpaces()
            guard let name = cursor.readName() else { throw LineError("# TYPE without a metric name") }
            cursor.skipSpaces()
            guard let typeText = cursor.readToken() else { throw LineError("# TYPE \(name) without a type") }
            guard let type = ExpositionMetricType(rawValue: String(typeText)) else {
                throw LineError("# TYPE \(name): unknown type '\(typeText)'")
            }
            document.types[name] = type
        case "EOF":
            document.sawEOF = true
        default:
            // HELP, UNIT and free comments carry nothing the dashboard uses.
            return
        }
    }

    private func parseLabels(
        _ cursor: inout LineCursor, interner: inout NameInterner
    ) throws(LineError) -> [ExpositionLabel] {
        cursor.advance()
        var labels: [ExpositionLabel] = []
        while true {
            cursor.skipSpaces()
            if cursor.peek == UInt8(ascii: "}") {
                cursor.advance()
                return labels
            }
            guard let name = cursor.readLabelName(interner: &interner) else {
                throw LineError(
                    cursor.atEnd ? "labels not closed with }" : "expected a label name, found \(cursor.describeNext())")
            }
            cursor.skipSpaces()
            guard cursor.peek == UInt8(ascii: "=") else { throw LineError("expected = after label \(name)") }
            cursor.advance()
            cursor.skipSpaces()
            guard cursor.peek == UInt8(ascii: "\"") else { throw LineError("value of label \(name) is not quoted") }
            let value = try cursor.readQuoted(label: name)
            guard labels.count < limits.maxLabels else { throw LineError("more than \(limits.maxLabels) labels") }
            if labels.contains(where: { $0.name == name }) { throw LineError("label \(name) given twice") }
            labels.append(ExpositionLabel(name, value))
            cursor.skipSpaces()
            if cursor.peek == UInt8(ascii: ",") {
                cursor.advance()
            } else if cursor.peek != UInt8(ascii: "}") {
                throw LineError(
                    cursor.atEnd
                        ? "labels not closed with }"
                        : "expected , or } after label \(name), found \(cursor.describeNext())")
            }
        }
    }

    /// `name_bucket`, `name_sum`, `name_count`, `name_total`, `name_created` → `name`.
    public static func familyName(of name: String) -> String {
        for suffix in ["_bucket", "_count", "_sum", "_total", "_created", "_gsum", "_gcount"]
        where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    static func parseValue(_ text: String) -> Double? { parseValue(Substring(text)) }

    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf", "+inf", "inf": return .infinity
        case "-Inf", "-inf": return -.infinity
        default:
            guard let first = text.utf8.first,
                first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
            else { return nil }
            guard let value = Double(text), value.isFinite else { return nil }
            return value
        }
    }

    /// Prometheus text gives integer milliseconds; OpenMetrics gives seconds, maybe fractional.
    static func parseTimestamp(_ text: Substring) -> Int64? {
        if let milliseconds = Int64(text) { return milliseconds }
        guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 9e12 else { return nil }
        return Int64((seconds * 1000).rounded())
    }

    static func describe(_ labels: [ExpositionLabel]) -> String {
        labels.isEmpty ? "" : "{" + labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }
}

/// Gives the same `String` for the same name bytes: metric and label names repeat on nearly
/// every line, and making a new heap string for each was most of the parse time. Bounded: past
/// `capacity` names it stops remembering and simply makes strings.
struct NameInterner {
    private var table: [Int: [String]] = [:]
    private var count = 0
    /// The most recent names: consecutive lines mostly repeat them, found without hashing.
    private var recent: [String] = []
    static let capacity = 4096
    static let recentCapacity = 8

    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Short names are stored inline in the String itself: nothing to share.
        if bytes.count <= 15 { return String(decoding: bytes, as: UTF8.self) }
        for candidate in recent where Self.equal(candidate, bytes) { return candidate }
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        let hash = hasher.finalize()
        var found: String?
        if let candidates = table[hash] {
            for candidate in candidates where Self.equal(candidate, bytes) {
                found = candidate
                break
            }
        }
        let result = found ?? String(decoding: bytes, as: UTF8.self)
        if found == nil, count < Self.capacity {
            table[hash, default: []].append(result)
            count += 1
        }
        if recent.count >= Self.recentCapacity { recent.removeFirst() }
        recent.append(result)
        return result
    }

    private static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            utf8.count == bytes.count && memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
    }
}

/// Why a line was rejected.
struct LineError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Reads one line's bytes.
struct LineCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[position] }

    mutating func advance() { position += 1 }

    @discardableResult
    mutating func skipSpaces() -> Int {
        let start = position
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { position += 1 }
        return position - start
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A metric name `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    mutating func readName() -> String? {
        var interner = NameInterner()
        return readName(interner: &interner)
    }

    /// A metric name, the same `String` for the same bytes (names repeat on every line).
    mutating func readName(interner: inout NameInterner) -> String? {
        guard let first = peek, Self.isNameStart(first) else { return nil }
        let start = position
        while let byte = peek, Self.isNameByte(byte) { position += 1 }
        return interner.string(UnsafeBufferPointer(rebasing: bytes[start..<position]))
    }

    /// A label name `[a-zA-Z_][a-zA-Z0-9_]*`.
    mutating func readLabelName(interner: inout NameInterner) -> String? {
        guard let first = peek, Self.isNameStart(first), first != UInt8(ascii: ":") else { return nil }
        let start = position
        while let byte = peek, Self.isNameByte(byte), byte != UInt8(ascii: ":") { position += 1 }
        return interner.string(UnsafeBufferPointer(rebasing: bytes[start..<position]))
    }

    /// A sample value (`NaN`, `±Inf` or a decimal number) read in place, without a `String`.
    mutating func readNumber() -> Double? {
        let start = position
        while let byte = peek, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") { position += 1 }
        let length = position - start
        guard length > 0, length < 64 else { return nil }
        let first = bytes[start]
        guard
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "N")
                || first == UInt8(ascii: "I") || first == UInt8(ascii: "i")
        else { return nil }
        if first == UInt8(ascii: "N") || first == UInt8(ascii: "I") || first == UInt8(ascii: "i")
            || (length > 1 && (bytes[start + 1] == UInt8(ascii: "I") || bytes[start + 1] == UInt8(ascii: "i")))
        {
            return ExpositionParser.parseValue(Substring(string(start, position)))
        }
        // A NUL-terminated copy on the stack for strtod, which must consume every byte.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer -> Double? in
            for index in 0..<length { buffer[index] = CChar(bitPattern: bytes[start + index]) }
            buffer[length] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end == buffer.baseAddress! + length, value.isFinite else { return nil }
            // strtod also reads hexadecimal and "infinity"/"nan" spellings; the format does not.
            for index in 0..<length
            where buffer[index] == CChar(UInt8(ascii: "x")) || buffer[index] == CChar(UInt8(ascii: "X")) { return nil }
            return value
        }
    }

    /// Bytes up to the next space or tab.
    mutating func readToken() -> Substring? {
        let start = position
        while let byte = peek, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") { position += 1 }
        guard position > start else { return nil }
        return Substring(string(start, position))
    }

    /// A double-quoted label value with `\\`, `\"` and `\n` escapes.
    mutating func readQuoted(label: String) throws(LineError) -> String {
        advance()
        let start = position
        var hasEscape = false
        var end = position
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            if bytes[end] == UInt8(ascii: "\\") {
                hasEscape = true
                end += 1
            }
            end += 1
        }
        guard end < bytes.count else { throw LineError("value of label \(label) not closed with \"") }
        position = end + 1
        var raw = Array(bytes[start..<end])
        if hasEscape { raw = try Self.unescape(raw, label: label) }
        guard let value = String(validating: raw, as: UTF8.self) else {
            throw LineError("value of label \(label) is not valid UTF-8")
        }
        return value
    }

    private static func unescape(_ raw: [UInt8], label: String) throws(LineError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                continue
            }
            switch raw[index] {
            case UInt8(ascii: "n"): result.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): result.append(raw[index])
            default: throw LineError("invalid escape \\\(Character(Unicode.Scalar(raw[index]))) in label \(label)")
            }
            index += 1
        }
        return result
    }

    func describeNext() -> String {
        guard let byte = peek else { return "end of line" }
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    private func string(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}
