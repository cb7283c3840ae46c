/// Finds YAML anchors (`&name`) and aliases (`*name`) in a document before it is composed.
///
/// Configuration and theme files refuse them: an alias expands into a copy of what it names,
/// so a few hundred bytes of nested aliases (used as mapping keys, which are compared and
/// hashed whole) grow without bound, and a reader should see every value where it applies.
/// The scan is lexical and linear: it follows quotes, comments, flow collections and block
/// scalars well enough to find an indicator where a node starts (the only place YAML reads
/// `&` or `*` as one); a `*` inside a quoted string, a plain scalar or a block scalar is text.
enum YAMLAnchorScan {
    /// An anchor or alias, where it is (1-based line and column).
    struct Finding: Equatable {
        var line: Int
        var column: Int
        /// `&name` or `*name`.
        var text: String
    }

    /// The first anchor or alias in `text`, or `nil` when there is none.
    static func first(in text: String) -> Finding? {
        var scanner = Scanner()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let column = scanner.scan(Array(line.utf8)) {
                let token = line.utf8.dropFirst(column).prefix {
                    !Scanner.isSpace($0) && ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains($0)
                }
                return Finding(line: index + 1, column: column + 1, text: String(decoding: token, as: UTF8.self))
            }
        }
        return nil
    }

    /// What carries over from one line to the next.
    private struct Scanner {
        /// Inside a quoted scalar that continues on the next line.
        var quote: UInt8?
        /// Depth of `[` and `{` not yet closed.
        var flowDepth = 0
        /// Inside a block scalar (`|` or `>`) opened on a line with this indentation.
        var blockScalarParent: Int?

        static func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
        }

        /// The 0-based column of an anchor or alias on `line`, if any.
        mutating func scan(_ line: [UInt8]) -> Int? {
            let indentation = line.prefix { $0 == UInt8(ascii: " ") }.count
            if let parent = blockScalarParent {
                // Content lines are blank or indented deeper than the line that opened it.
                if line.allSatisfy(Self.isSpace) || indentation > parent { return nil }
                blockScalarParent = nil
            }
            var atNodeStart = quote == nil
            var index = 0
            while index < line.count {
                let byte = line[index]
                let next = index + 1 < line.count ? line[index + 1] : nil
                defer { index += 1 }
                if let open = quote {
                    if open == UInt8(ascii: "\""), byte == UInt8(ascii: "\\") {
                        index += 1
                    } else if byte == open {
                        if open == UInt8(ascii: "'"), next == UInt8(ascii: "'") { index += 1 } else { quote = nil }
                    }
                    continue
                }
                if byte == UInt8(ascii: "#"), index == 0 || Self.isSpace(line[index - 1]) { return nil }
                let nextIsBreak = next.map(Self.isSpace) ?? true
                if atNodeStart {
                    switch byte {
                    case _ where Self.isSpace(byte):
                        continue
                    case UInt8(ascii: "&"), UInt8(ascii: "*"):
                        if !nextIsBreak { return index }
                    case UInt8(ascii: "-") where nextIsBreak, UInt8(ascii: "?") where nextIsBreak:
                        continue
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        quote = byte
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        flowDepth += 1
                        continue
                    case UInt8(ascii: "|") where flowDepth == 0, UInt8(ascii: ">") where flowDepth == 0:
                        blockScalarParent = indentation
                        return nil
                    default:
                        break
                    }
                    atNodeStart = false
                    if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") { flowDepth = max(0, flowDepth - 1) }
                    if byte == UInt8(ascii: ",") && flowDepth > 0 { atNodeStart = true }
                    continue
                }
                switch byte {
                case UInt8(ascii: ":")
                where nextIsBreak
                    || (flowDepth > 0 && [UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(next ?? 0)):
                    atNodeStart = true
                case UInt8(ascii: ",") where flowDepth > 0:
                    atNodeStart = true
                case UInt8(ascii: "[") where flowDepth > 0, UInt8(ascii: "{") where flowDepth > 0:
                    flowDepth += 1
                    atNodeStart = true
                case UInt8(ascii: "]") where flowDepth > 0, UInt8(ascii: "}") where flowDepth > 0:
                    flowDepth -= 1
                default:
                    break
                }
            }
            return nil
        }
    }
}
