/// A run of text in one style.
public struct Span: Hashable, Sendable {
    public var text: String
    public var style: Style

    public init(_ text: String, style: Style = .plain) {
        self.text = text
        self.style = style
    }

    /// Cells the text takes.
    public var width: Int { CharacterWidth.of(text) }
}

/// One line of styled spans.
public struct Line: Hashable, Sendable, ExpressibleByStringLiteral {
    public var spans: [Span]

    public init(_ spans: [Span] = []) { self.spans = spans }
    public init(_ text: String, style: Style = .plain) { spans = [Span(text, style: style)] }
    public init(stringLiteral value: String) { spans = [Span(value)] }

    /// Cells the line takes.
    public var width: Int { spans.reduce(0) { $0 + $1.width } }

    /// The plain text of the line.
    public var text: String { spans.map(\.text).joined() }

    /// Appends a span.
    public mutating func append(_ text: String, style: Style = .plain) {
        spans.append(Span(text, style: style))
    }

    /// The line cut to at most `width` cells, ending in `…` (in the style of the span it cut)
    /// when something was cut.
    public func truncated(to width: Int) -> Line {
        guard self.width > width else { return self }
        guard width > 0 else { return Line() }
        var result = Line()
        var used = 0
        for span in spans {
            if used + span.width <= width - 1 {
                result.spans.append(span)
                used += span.width
                continue
            }
            // The span with "…" is wider than the room left, so the cut ends in "…".
            result.spans.append(Span(TextFit.truncate(span.text + "…", to: width - used), style: span.style))
            break
        }
        return result
    }

    /// The line broken at spaces into lines of at most `width` cells, keeping each word's
    /// style; continuation lines start with `indent` spaces. Words longer than a line are cut.
    public func wrapped(to width: Int, indent: Int = 0) -> [Line] {
        guard width > 0 else { return [] }
        guard self.width > width else { return [self] }
        let hanging = min(indent, width / 2)
        var lines: [Line] = []
        var current = Line()
        var currentWidth = 0
        func newLine() {
            lines.append(current)
            current = Line(String(repeating: " ", count: hanging))
            currentWidth = hanging
        }
        for span in spans {
            var pieces = span.text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            // Keep leading/trailing spaces of the span as separators between pieces.
            while !pieces.isEmpty {
                let word = pieces.removeFirst()
                let separator = pieces.isEmpty ? "" : " "
                let wordWidth = CharacterWidth.of(word)
                if currentWidth + wordWidth > width, currentWidth > hanging {
                    while current.spans.last?.text.hasSuffix(" ") == true {
                        current.spans[current.spans.count - 1].text.removeLast()
                    }
                    newLine()
                }
                var text = word
                while CharacterWidth.of(text) > width - currentWidth, currentWidth <= hanging, !text.isEmpty {
                    let room = width - currentWidth
                    var head = ""
                    var used = 0
                    for character in text {
                        let w = CharacterWidth.of(character)
                        if used + w > room { break }
                        head.append(character)
                        used += w
                    }
                    if head.isEmpty { break }
                    current.append(head, style: span.style)
                    text = String(text.dropFirst(head.count))
                    newLine()
                }
                current.append(text + separator, style: span.style)
                currentWidth += CharacterWidth.of(text + separator)
            }
        }
        if currentWidth > hanging || lines.isEmpty { lines.append(current) }
        return lines
    }
}

/// Horizontal alignment of text in a cell range.
public enum Alignment: Sendable, Hashable {
    case left
    case right
    case center
}

/// Text fitting helpers.
public enum TextFit {
    /// `text` cut to at most `width` cells, ending in `…` when cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        if text.utf8.count <= width, text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        if CharacterWidth.of(text) <= width { return text }
        var result = ""
        var used = 0
        for character in text {
            let w = CharacterWidth.of(character)
            if used + w > width - 1 { break }
            result.append(character)
            used += w
        }
        return result + "…"
    }

    /// `text` truncated or padded to exactly `width` cells with the given alignment.
    public static func fit(_ text: String, to width: Int, alignment: Alignment = .left) -> String {
        let cut = truncate(text, to: width)
        let padding = max(0, width - CharacterWidth.of(cut))
        switch alignment {
        case .left: return cut + String(repeating: " ", count: padding)
        case .right: return String(repeating: " ", count: padding) + cut
        case .center:
            let left = padding / 2
            return String(repeating: " ", count: left) + cut + String(repeating: " ", count: padding - left)
        }
    }

    /// Word-wraps `text` into lines of at most `width` cells (long words are split).
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            var currentWidth = 0
            for word in paragraph.split(separator: " ", omittingEmptySubsequences: true) {
                var piece = String(word)
                var pieceWidth = CharacterWidth.of(piece)
                if currentWidth > 0, currentWidth + 1 + pieceWidth <= width {
                    current += " " + piece
                    currentWidth += 1 + pieceWidth
                    continue
                }
                if currentWidth > 0 {
                    lines.append(current)
                    current = ""
                    currentWidth = 0
                }
                while pieceWidth > width {
                    var head = ""
                    var headWidth = 0
                    var rest = Substring(piece)
                    while let character = rest.first, headWidth + CharacterWidth.of(character) <= width {
                        head.append(character)
                        headWidth += CharacterWidth.of(character)
                        rest = rest.dropFirst()
                    }
                    if head.isEmpty { break }
                    lines.append(head)
                    piece = String(rest)
                    pieceWidth = CharacterWidth.of(piece)
                }
                current = piece
                currentWidth = pieceWidth
            }
            lines.append(current)
        }
        return lines
    }
}
