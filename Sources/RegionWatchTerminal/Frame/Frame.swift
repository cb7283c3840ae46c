/// One terminal cell: a character and its style. Plain data (the character is stored inline),
/// so frames copy, compare and free without reference counting.
public struct Cell: Hashable, Sendable {
    var glyph: InlineGlyph
    public var style: Style
    /// `true` for the right half of a wide character; such a cell draws nothing itself.
    public var isContinuation: Bool

    /// The cell's character (a grapheme over 15 UTF-8 bytes keeps its longest prefix of whole
    /// scalars that fits).
    public var character: Character {
        get { glyph.character }
        set { glyph = InlineGlyph(newValue) }
    }

    public init(character: Character = " ", style: Style = .plain, isContinuation: Bool = false) {
        glyph = InlineGlyph(character)
        self.style = style
        self.isContinuation = isContinuation
    }

    /// A cell of one printable ASCII byte.
    init(ascii byte: UInt8, style: Style) {
        glyph = InlineGlyph(ascii: byte)
        self.style = style
        isContinuation = false
    }

    /// A blank cell in the default style.
    public static let blank = Cell()
}

/// A grid of cells: what one screen looks like. Built by pure render functions, compared by
/// tests as text, and turned into terminal updates by `FrameDiff`.
public struct Frame: Equatable, Sendable {
    public let size: TerminalSize
    public private(set) var cells: [Cell]

    public init(size: TerminalSize, fill: Cell = .blank) {
        self.size = size
        cells = Array(repeating: fill, count: size.width * size.height)
    }

    public var width: Int { size.width }
    public var height: Int { size.height }
    /// The whole frame as a rectangle.
    public var area: Rect { Rect(size: size) }

    /// The cell at (`x`, `y`); blank outside the frame.
    public subscript(x: Int, y: Int) -> Cell {
        guard x >= 0, y >= 0, x < width, y < height else { return .blank }
        return cells[y * width + x]
    }

    /// Writes `text` at (`x`, `y`) in `style`, clipped to `clip` (and the frame). Returns the
    /// column after the last cell written. Control characters are shown as `�`; a wide
    /// character that would cross the clip edge is replaced by a space.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style, clip: Rect? = nil) -> Int {
        let bounds = (clip ?? area).intersection(area)
        guard y >= bounds.y, y < bounds.maxY else { return x + CharacterWidth.of(text) }
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return writePrintableASCII(text, x: x, y: y, style: style, bounds: bounds)
        }
        var column = x
        for character in text {
            if column >= bounds.maxX { break }
            var shown = character
            var cellWidth = 1
            if let ascii = character.asciiValue {
                if ascii < 0x20 || ascii == 0x7F { shown = "�" }
            } else {
                cellWidth = CharacterWidth.of(character)
                if cellWidth == 0 { continue }
                if let first = character.unicodeScalars.first, (0x80...0x9F).contains(first.value) {
                    shown = "�"
                    cellWidth = 1
                }
            }
            if column < bounds.x {
                column += cellWidth
                continue
            }
            if cellWidth == 2, column + 1 >= bounds.maxX {
                setCell(x: column, y: y, Cell(character: " ", style: style))
                column += 1
                break
            }
            setCell(x: column, y: y, Cell(character: shown, style: style))
            if cellWidth == 2 {
                setCell(x: column + 1, y: y, Cell(character: " ", style: style, isContinuation: true))
            }
            column += cellWidth
        }
        return column
    }

    /// The common case: printable ASCII, one cell per byte, no grapheme breaking needed.
    private mutating func writePrintableASCII(_ text: String, x: Int, y: Int, style: Style, bounds: Rect) -> Int {
        var column = x
        for byte in text.utf8 {
            if column >= bounds.maxX { break }
            if column >= bounds.x {
                setCell(x: column, y: y, Cell(ascii: byte, style: style))
            }
            column += 1
        }
        return column
    }

    /// Writes a styled line; spans are laid one after another. Returns the next column.
    @discardableResult
    public mutating func write(_ line: Line, x: Int, y: Int, clip: Rect? = nil) -> Int {
        var column = x
        for span in line.spans {
            column = write(span.text, x: column, y: y, style: span.style, clip: clip)
        }
        return column
    }

    /// Fills `rect` with `character` in `style`.
    public mutating func fill(_ rect: Rect, character: Character = " ", style: Style = .plain) {
        let target = rect.intersection(area)
        guard !target.isEmpty else { return }
        let cell = Cell(character: character, style: style)
        for row in target.y..<target.maxY {
            for column in target.x..<target.maxX {
                setCell(x: column, y: row, cell)
            }
        }
    }

    /// Changes the style of every cell in `rect`, keeping characters.
    public mutating func restyle(_ rect: Rect, _ transform: (Style) -> Style) {
        let target = rect.intersection(area)
        guard !target.isEmpty else { return }
        for row in target.y..<target.maxY {
            for column in target.x..<target.maxX {
                cells[row * width + column].style = transform(cells[row * width + column].style)
            }
        }
    }

    /// Sets one cell, keeping wide characters whole: overwriting either half of a wide
    /// character blanks its other half, so no half is ever left orphaned.
    public mutating func setCell(x: Int, y: Int, _ cell: Cell) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let index = y * width + x
        let old = cells[index]
        if old.isContinuation, !cell.isContinuation, x > 0 {
            cells[index - 1] = Cell(ascii: 0x20, style: cells[index - 1].style)
        }
        if !old.isContinuation, x + 1 < width, cells[index + 1].isContinuation {
            cells[index + 1] = Cell(ascii: 0x20, style: cells[index + 1].style)
        }
        cells[index] = cell
    }

    /// Row `y` as plain text (wide characters once), optionally without trailing spaces.
    public func text(ofRow y: Int, trimmingTrailingSpaces: Bool = true) -> String {
        guard y >= 0, y < height else { return "" }
        var line = ""
        line.reserveCapacity(width)
        for x in 0..<width {
            let cell = cells[y * width + x]
            if !cell.isContinuation { cell.glyph.append(to: &line) }
        }
        if trimmingTrailingSpaces {
            while line.last == " " { line.removeLast() }
        }
        return line
    }

    /// Every row as plain text, trailing spaces trimmed: the form used by snapshot tests.
    public var lines: [String] { (0..<height).map { text(ofRow: $0) } }

    /// The whole frame as text, one row per line.
    public var text: String { lines.joined(separator: "\n") }
}
