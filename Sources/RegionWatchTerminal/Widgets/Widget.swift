/// Anything that draws itself into a rectangle of a frame. Rendering is pure.
public protocol Widget {
    /// Draws into `area` of `frame`; never outside `area`.
    func render(in area: Rect, into frame: inout Frame)
}

/// Border characters.
public struct BorderSet: Hashable, Sendable {
    public var topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character
    public var horizontal: Character, vertical: Character

    /// Rounded corners.
    public static let rounded = BorderSet(
        topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯", horizontal: "─", vertical: "│")
    /// Square corners.
    public static let plain = BorderSet(
        topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘", horizontal: "─", vertical: "│")
    /// Heavy lines, for focus.
    public static let heavy = BorderSet(
        topLeft: "┏", topRight: "┓", bottomLeft: "┗", bottomRight: "┛", horizontal: "━", vertical: "┃")
    /// Double lines, for modal dialogs.
    public static let double = BorderSet(
        topLeft: "╔", topRight: "╗", bottomLeft: "╚", bottomRight: "╝", horizontal: "═", vertical: "║")
}

/// A bordered box with an optional title in its top edge and a right-aligned note.
public struct Block: Widget {
    public var title: Line?
    public var note: Line?
    public var borders: BorderSet
    public var borderStyle: Style
    public var fillStyle: Style?

    public init(
        title: Line? = nil, note: Line? = nil, borders: BorderSet = .rounded, borderStyle: Style = .plain,
        fillStyle: Style? = nil
    ) {
        self.title = title
        self.note = note
        self.borders = borders
        self.borderStyle = borderStyle
        self.fillStyle = fillStyle
    }

    /// The area inside the border.
    public func inner(_ area: Rect) -> Rect { area.inset(by: 1) }

    public func render(in area: Rect, into frame: inout Frame) {
        guard area.width >= 2, area.height >= 2 else { return }
        if let fillStyle { frame.fill(area, style: fillStyle) }
        // Border characters are all one cell wide: set cells directly (no text layout needed).
        frame.fill(
            Rect(x: area.x + 1, y: area.y, width: area.width - 2, height: 1), character: borders.horizontal,
            style: borderStyle)
        frame.fill(
            Rect(x: area.x + 1, y: area.maxY - 1, width: area.width - 2, height: 1), character: borders.horizontal,
            style: borderStyle)
        frame.fill(
            Rect(x: area.x, y: area.y + 1, width: 1, height: area.height - 2), character: borders.vertical,
            style: borderStyle)
        frame.fill(
            Rect(x: area.maxX - 1, y: area.y + 1, width: 1, height: area.height - 2), character: borders.vertical,
            style: borderStyle)
        frame.setCell(x: area.x, y: area.y, Cell(character: borders.topLeft, style: borderStyle))
        frame.setCell(x: area.maxX - 1, y: area.y, Cell(character: borders.topRight, style: borderStyle))
        frame.setCell(x: area.x, y: area.maxY - 1, Cell(character: borders.bottomLeft, style: borderStyle))
        frame.setCell(x: area.maxX - 1, y: area.maxY - 1, Cell(character: borders.bottomRight, style: borderStyle))
        let titleClip = Rect(x: area.x + 1, y: area.y, width: area.width - 2, height: 1)
        var noteStart = area.maxX - 1
        if let note, area.width > 8 {
            let width = min(note.width + 2, area.width / 2)
            noteStart = area.maxX - 1 - width
            var padded = Line(" ", style: borderStyle)
            padded.spans += note.spans
            padded.append(" ", style: borderStyle)
            frame.write(padded, x: noteStart, y: area.y, clip: Rect(x: noteStart, y: area.y, width: width, height: 1))
        }
        if let title {
            var padded = Line(" ", style: borderStyle)
            padded.spans += title.spans
            padded.append(" ", style: borderStyle)
            let clip = Rect(x: titleClip.x + 1, y: area.y, width: max(0, noteStart - titleClip.x - 2), height: 1)
            frame.write(padded, x: titleClip.x + 1, y: area.y, clip: clip)
        }
    }
}

/// Lines of styled text, top to bottom, clipped (no wrapping; callers wrap first when needed).
public struct Paragraph: Widget {
    public var lines: [Line]
    /// Lines skipped at the top.
    public var scroll: Int

    public init(_ lines: [Line], scroll: Int = 0) {
        self.lines = lines
        self.scroll = scroll
    }

    public func render(in area: Rect, into frame: inout Frame) {
        guard !area.isEmpty else { return }
        for (offset, line) in lines.dropFirst(max(0, scroll)).prefix(area.height).enumerated() {
            frame.write(line, x: area.x, y: area.y + offset, clip: area)
        }
    }
}
