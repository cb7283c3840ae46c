/// A horizontal run of cells with one style, the unit sent to a backend.
public struct CellRun: Hashable, Sendable {
    public var x: Int
    public var y: Int
    /// The characters to draw; wide characters appear once and cover two cells.
    public var text: String
    /// Cells the run covers.
    public var width: Int
    public var style: Style

    public init(x: Int, y: Int, text: String, width: Int, style: Style) {
        self.x = x
        self.y = y
        self.text = text
        self.width = width
        self.style = style
    }
}

/// Computes the minimal runs that turn one frame into another.
public enum FrameDiff {
    /// Runs that, drawn over `old`, produce `new`. With no `old`, or a different size, every
    /// cell of `new` is included. Both halves of a wide character are always sent together.
    public static func runs(from old: Frame?, to new: Frame) -> [CellRun] {
        let previous = old.flatMap { $0.size == new.size ? $0 : nil }
        let width = new.width
        var runs: [CellRun] = []
        var changed = [Bool](repeating: true, count: width)
        for y in 0..<new.height {
            let rowStart = y * width
            if let previous {
                var any = false
                for x in 0..<width {
                    changed[x] = previous.cells[rowStart + x] != new.cells[rowStart + x]
                    any = any || changed[x]
                }
                guard any else { continue }
                // Widen changes to whole wide characters, in the old frame and in the new one.
                for x in 0..<width where changed[x] {
                    if x > 0, new.cells[rowStart + x].isContinuation || previous.cells[rowStart + x].isContinuation {
                        changed[x - 1] = true
                    }
                    if x + 1 < width,
                        new.cells[rowStart + x + 1].isContinuation || previous.cells[rowStart + x + 1].isContinuation
                    {
                        changed[x + 1] = true
                    }
                }
            }
            var x = 0
            while x < width {
                guard changed[x] else {
                    x += 1
                    continue
                }
                let style = new.cells[rowStart + x].style
                var text = ""
                var end = x
                while end < width, changed[end] {
                    let cell = new.cells[rowStart + end]
                    if cell.style != style, !cell.isContinuation { break }
                    if !cell.isContinuation { cell.glyph.append(to: &text) }
                    end += 1
                }
                runs.append(CellRun(x: x, y: y, text: text, width: end - x, style: style))
                x = end
            }
        }
        return runs
    }
}
