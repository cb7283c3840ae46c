import Yams
import RegionWatchCore

/// Reads a YAML document node by node, recording every problem with its line instead of
/// stopping at the first, so `check-config` can report them all.
final class YAMLReader {
    let file: String
    /// Environment for values the configuration names by variable (tokens, DSNs).
    var environment: [String: String] = [:]
    /// Whether an unset variable is an error (to run the configuration) or a warning (to check
    /// it without its secrets, or to read only the parts a command needs).
    var unsetVariables = UnsetVariables.areErrors
    private var collected: [Diagnostic] = []
    /// The text being read, to place problems Yams reports without a useful position.
    private var text = ""

    /// Every problem found, in file order (problems without a line last).
    var diagnostics: [Diagnostic] {
        collected.enumerated().sorted { lhs, rhs in
            let left = (lhs.element.line ?? .max, lhs.element.column ?? 0, lhs.offset)
            let right = (rhs.element.line ?? .max, rhs.element.column ?? 0, rhs.offset)
            return left < right
        }.map(\.element)
    }

    init(file: String) {
        self.file = file
    }

    var hasErrors: Bool { collected.contains { $0.severity == .error } }

    /// Parses `text`; `nil` (with a diagnostic) when it is not valid YAML.
    func parse(_ text: String) -> Node? {
        self.text = text
        if text.utf8.count > 4 * 1024 * 1024 {
            report(.error, nil, "", "file is larger than 4 MiB; refusing to read it")
            return nil
        }
        // Refused before composing: aliases expand into copies, without bound.
        if let found = YAMLAnchorScan.first(in: text) {
            let what = found.text.hasPrefix("&") ? "an anchor" : "an alias"
            collected.append(
                Diagnostic(
                    severity: .error, file: file, line: found.line, column: found.column, path: "",
                    message:
                        "\(what) (\(YAMLReader.quote(found.text))): anchors and aliases are not supported here; write each value out"
                ))
            return nil
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                report(.error, nil, "", "file is empty")
                return nil
            }
            return node
        } catch let error as YamlError {
            report(yamlError: error)
            return nil
        } catch {
            report(.error, nil, "", "cannot parse YAML: \(error)")
            return nil
        }
    }

    private func report(yamlError error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            let line =
                text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).dropFirst(mark.line - 1).first
                ?? ""
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            let message =
                indentation.contains("\t")
                ? "a tab in the indentation: YAML indents with spaces only" : "invalid YAML: \(prefix)\(problem)"
            collected.append(
                Diagnostic(
                    severity: .error, file: file, line: mark.line, column: mark.column, path: "", message: message))
        case .parser(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            collected.append(
                Diagnostic(
                    severity: .error, file: file, line: mark.line, column: mark.column, path: "",
                    message: "invalid YAML: \(prefix)\(problem)"))
        case .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            collected.append(
                Diagnostic(
                    severity: .error, file: file, line: mark.line, column: mark.column, path: "",
                    message: "invalid YAML: \(prefix)\(problem)"))
        case .duplicatedKeysInMapping(let duplicates, let context):
            // At the second occurrence, where the mistake is (Yams gives the mapping's start).
            for key in duplicates.sorted() {
                let place =
                    Self.secondOccurrence(of: key, in: text, from: context.mark.line) ?? (
                        context.mark.line, context.mark.column
                    )
                collected.append(
                    Diagnostic(
                        severity: .error, file: file, line: place.line, column: place.column, path: "",
                        message: "duplicate key \(YAMLReader.quote(key)) in this mapping"))
            }
        case .reader(let problem, let offset, _, _):
            collected.append(
                Diagnostic(
                    severity: .error, file: file, line: nil, column: nil, path: "",
                    message: "unreadable text\(offset.map { " at byte \($0)" } ?? ""): \(problem)"))
        default:
            collected.append(
                Diagnostic(
                    severity: .error, file: file, line: nil, column: nil, path: "", message: "invalid YAML: \(error)"))
        }
    }

    // MARK: Reporting

    func report(_ severity: DiagnosticSeverity, _ node: Node?, _ path: String, _ message: String) {
        collected.append(
            Diagnostic(
                severity: severity, file: file, line: node?.mark?.line, column: node?.mark?.column, path: path,
                message: message))
    }

    func error(_ node: Node?, _ path: String, _ message: String) {
        report(.error, node, path, message)
    }

    func warning(_ node: Node?, _ path: String, _ message: String) {
        report(.warning, node, path, message)
    }

    /// Reports that the environment variable `name` the configuration names is not set.
    func unsetVariable(_ node: Node?, _ path: String, _ name: String) {
        switch unsetVariables {
        case .areErrors: error(node, path, "environment variable \(name) is not set")
        case .areWarnings: warning(node, path, "environment variable \(name) is not set (what needs it cannot run)")
        }
    }

    // MARK: Structure

    /// The entries of a mapping, checking for unknown and duplicate keys.
    func mapping(_ node: Node, _ path: String, allowedKeys: [String]) -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            error(node, path, "expected a mapping (key: value pairs), found \(describe(node))")
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                error(key, path, "keys must be plain strings")
                continue
            }
            let name = scalar.string
            // A key that could be a secret is not repeated in the path either.
            let shownName = YAMLReader.quote(name).hasPrefix("'") ? name : "(key not shown)"
            let keyPath = path.isEmpty ? shownName : "\(path).\(shownName)"
            if entries[name] != nil {
                error(key, keyPath, "duplicate key \(YAMLReader.quote(name))")
                continue
            }
            if !allowedKeys.contains(name) {
                let suggestion = Self.closest(name, in: allowedKeys).map { " (did you mean '\($0)'?)" } ?? ""
                error(
                    key, keyPath,
                    "unknown key \(YAMLReader.quote(name))\(suggestion); expected one of: \(allowedKeys.joined(separator: ", "))"
                )
                continue
            }
            entries[name] = (key, value)
        }
        return entries
    }

    /// The items of a sequence.
    func sequence(_ node: Node, _ path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(node, path, "expected a list, found \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    func string(_ node: Node, _ path: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, path, "expected a string, found \(describe(node))")
            return nil
        }
        if scalar.string.isEmpty, !allowEmpty {
            error(node, path, "must not be empty")
            return nil
        }
        return scalar.string
    }

    func number(_ node: Node, _ path: String, range: ClosedRange<Double>? = nil) -> Double? {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string.trimmed()), value.isFinite else {
            error(node, path, "expected a number, found \(describe(node))")
            return nil
        }
        return checkRange(value, range, node, path, in: UserUnits.number)
    }

    func integer(_ node: Node, _ path: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.trimmed()) else {
            error(node, path, "expected a whole number, found \(describe(node))")
            return nil
        }
        if let range, !range.contains(value) {
            error(
                node, path,
                value < range.lowerBound
                    ? "must be at least \(range.lowerBound)" : "must be at most \(range.upperBound)")
            return nil
        }
        return value
    }

    func unsignedInteger(_ node: Node, _ path: String) -> UInt64? {
        guard case .scalar(let scalar) = node, let value = UInt64(scalar.string.trimmed()) else {
            error(node, path, "expected a whole number ≥ 0, found \(describe(node))")
            return nil
        }
        return value
    }

    func boolean(_ node: Node, _ path: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            error(node, path, "expected true or false, found \(describe(node))")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, path, "expected true or false, found \(YAMLReader.quote(scalar.string))")
            return nil
        }
    }

    /// A duration: `250ms`, `30s`, `5m`, `1h30m`, `2d` (a bare number other than 0 is refused: its unit would be a guess).
    func duration(_ node: Node, _ path: String, range: ClosedRange<Double>? = nil) -> Double? {
        guard case .scalar(let scalar) = node else {
            error(node, path, "expected a duration such as 30s or 5m, found \(describe(node))")
            return nil
        }
        guard let seconds = DurationParser.seconds(scalar.string) else {
            error(
                node, path,
                "\(YAMLReader.quote(scalar.string)) is not a duration (use forms like 250ms, 30s, 5m, 1h30m)")
            return nil
        }
        // A bare number is ambiguous (5 what?): only zero needs no unit.
        if let bare = Double(scalar.string.trimmed()), bare != 0 {
            let number = scalar.string.trimmed()
            let examples =
                YAMLReader.quote(number).hasPrefix("'")
                ? "write \(number)s, \(number)m or \(number)h" : "write it with s, m or h"
            error(node, path, "\(YAMLReader.quote(number)) has no unit: \(examples)")
            return nil
        }
        return checkRange(seconds, range, node, path, in: UserUnits.duration)
    }

    /// A byte size: `8MiB`, `512KiB`, `1GiB`, `10MB`, or a number of bytes.
    func byteSize(_ node: Node, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node else {
            error(node, path, "expected a size such as 8MiB, found \(describe(node))")
            return nil
        }
        let text = scalar.string.trimmed()
        let units: [(String, Int)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("B", 1),
        ]
        var bytes: Int?
        if let plain = Int(text) {
            bytes = plain
        } else {
            for (suffix, scale) in units where text.hasSuffix(suffix) {
                if let number = Double(text.dropLast(suffix.count).trimmed()), number >= 0,
                    number * Double(scale) < 9e18
                {
                    bytes = Int(number * Double(scale))
                }
                break
            }
        }
        guard let bytes else {
            error(node, path, "\(YAMLReader.quote(text)) is not a size (use forms like 512KiB, 8MiB, 1GiB)")
            return nil
        }
        guard range.contains(bytes) else {
            let limit = bytes < range.lowerBound ? range.lowerBound : range.upperBound
            error(
                node, path,
                "\(bytes < range.lowerBound ? "must be at least" : "must be at most") \(UserUnits.size(limit))")
            return nil
        }
        return bytes
    }

    /// A fraction: `1%` or `0.01`.
    func fraction(_ node: Node, _ path: String) -> Double? {
        guard case .scalar(let scalar) = node else {
            error(node, path, "expected a percentage such as 1% or a fraction such as 0.01, found \(describe(node))")
            return nil
        }
        let text = scalar.string.trimmed()
        let value: Double?
        if text.hasSuffix("%") {
            value = Double(text.dropLast().trimmed()).map { $0 / 100 }
        } else {
            value = Double(text)
        }
        guard let value, value.isFinite else {
            error(node, path, "\(YAMLReader.quote(text)) is not a percentage or fraction")
            return nil
        }
        return checkRange(value, 0...1, node, path, in: text.hasSuffix("%") ? UserUnits.percent : UserUnits.number)
    }

    /// One of an enum's raw values.
    func choice<Value: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, as type: Value.Type) -> Value?
    where Value.RawValue == String {
        choice(node, path, among: Array(Value.allCases))
    }

    /// One of `allowed`, by its raw value.
    func choice<Value: RawRepresentable>(_ node: Node, _ path: String, among allowed: [Value]) -> Value?
    where Value.RawValue == String {
        guard let text = string(node, path) else { return nil }
        if let value = allowed.first(where: { $0.rawValue == text }) { return value }
        let options = allowed.map(\.rawValue)
        let suggestion = Self.closest(text, in: options).map { " (did you mean '\($0)'?)" } ?? ""
        error(node, path, "\(YAMLReader.quote(text)) is not one of \(options.joined(separator: ", "))\(suggestion)")
        return nil
    }

    /// `value` when within `range`; otherwise an error naming the limit in the units the file
    /// uses (`must be at most 100%`, `must be at least 50ms`).
    private func checkRange(
        _ value: Double, _ range: ClosedRange<Double>?, _ node: Node, _ path: String, in units: (Double) -> String
    ) -> Double? {
        guard let range, !range.contains(value) else { return value }
        error(
            node, path,
            value < range.lowerBound
                ? "must be at least \(units(range.lowerBound))" : "must be at most \(units(range.upperBound))")
        return nil
    }

    /// Line and column of the second place `key` is written as a key (`key:` at the start of
    /// a line, after `- `, `{` or `,`), searching from line `start`.
    static func secondOccurrence(of key: String, in text: String, from start: Int) -> (line: Int, column: Int)? {
        var firstColumn: Int?
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
        where index + 1 >= start {
            let characters = Array(line)
            var position = 0
            while position < characters.count {
                let before = position == 0 ? " " : characters[position - 1]
                let startsKey = position == 0 || " \t{,-".contains(before)
                if startsKey, characters[position...].starts(with: Array(key)) {
                    var after = position + key.count
                    while after < characters.count, characters[after] == " " { after += 1 }
                    // A key of the same mapping sits at the same column (a nested one does not).
                    if after < characters.count, characters[after] == ":" {
                        if let column = firstColumn {
                            if column == position + 1 { return (index + 1, position + 1) }
                        } else {
                            firstColumn = position + 1
                        }
                    }
                }
                position += 1
            }
        }
        return nil
    }

    /// A value from the file, for a message: shown when it is short and plain (a typo is then
    /// easy to spot), never when it could be a secret or a line of some other file: longer
    /// than 40 characters, or holding `=`, `@`, quotes, backslashes or control characters (a
    /// `.env` line, a DSN, a token) is "a text of N characters (not shown)".
    static func quote(_ text: String) -> String {
        if text.isEmpty { return "an empty value" }
        let mayBeSecret =
            text.count > 40
            || text.contains { "=@'\"\\".contains($0) || $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) }
        return mayBeSecret ? "a text of \(text.count) characters (not shown)" : "'\(text)'"
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "\(YAMLReader.quote(scalar.string))"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The closest of `candidates` to `word` by edit distance, when close enough to suggest.
    static func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Limits written the way a configuration writes values.
enum UserUnits {
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func percent(_ fraction: Double) -> String { number(fraction * 100) + "%" }

    /// `50ms`, `30s`, `5m`, `1h`, `7d`, `1h30m`.
    static func duration(_ seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        if seconds < 1 { return number((seconds * 1000).rounded()) + "ms" }
        guard seconds == seconds.rounded() else { return number(seconds) + "s" }
        let whole = Int(seconds)
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }

    /// `1KiB`, `8MiB`, `1GiB`, or bytes.
    static func size(_ bytes: Int) -> String {
        for (unit, size) in [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes) bytes"
    }
}

/// Parses human durations.
public enum DurationParser {
    /// Seconds in `text`: `250ms`, `30s`, `5m`, `1h30m`, `2d`, `1.5h`, or a bare number of
    /// seconds. `nil` when malformed or negative.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmed().lowercased()
        guard !trimmed.isEmpty, trimmed.count <= 64 else { return nil }
        if let plain = Double(trimmed) { return plain >= 0 && plain.isFinite ? plain : nil }
        var total = 0.0
        var number = ""
        var characters = Array(trimmed)
        var index = 0
        var sawUnit = false
        while index < characters.count {
            let character = characters[index]
            if character.isNumber || character == "." {
                number.append(character)
                index += 1
                continue
            }
            guard let value = Double(number) else { return nil }
            var unit = String(character)
            if character == "m", index + 1 < characters.count, characters[index + 1] == "s" {
                unit = "ms"
                index += 1
            }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86_400
            default: return nil
            }
            total += value * scale
            number = ""
            sawUnit = true
            index += 1
        }
        characters.removeAll()
        guard number.isEmpty, sawUnit, total.isFinite else { return nil }
        return total
    }
}
