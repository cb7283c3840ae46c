/// A column of a `Table`.
public struct TableColumn: Hashable, Sendable {
    public var title: String
    /// Preferred width in cells.
    public var width: Int
    public var alignment: Alignment
    /// When the table is too narrow, columns with lower priority are dropped first.
    public var priority: Int
    /// A flexible column also takes leftover width.
    public var isFlexible: Bool
    /// The most a flexible column grows to (`nil`: no limit); the rest of the leftover goes
    /// to the next flexible column.
    public var maximumWidth: Int?

    public init(
        _ title: String, width: Int, alignment: Alignment = .left, priority: Int = 0, isFlexible: Bool = false,
        maximumWidth: Int? = nil
    ) {
        self.title = title
        self.width = width
        self.alignment = alignment
        self.priority = priority
        self.isFlexible = isFlexible
        self.maximumWidth = maximumWidth
    }
}

/// A table with a header row, a selectable row and scrolling that keeps the selection visible.
/// Columns that do not fit are dropped by priority, so the table degrades on narrow screens.
public struct Table: Widget {
    public var columns: [TableColumn]
    /// Each row holds one line per column.
    public var rows: [[Line]]
    public var headerStyle: Style
    public var selectedRow: Int?
    public var selectionStyle: Style
    public var columnSpacing: Int

    public init(
        columns: [TableColumn], rows: [[Line]], headerStyle: Style = Style(attributes: [.bold]),
        selectedRow: Int? = nil, selectionStyle: Style = Style(attributes: [.reverse]), columnSpacing: Int = 1
    ) {
        self.columns = columns
        self.rows = rows
        self.headerStyle = headerStyle
        self.selectedRow = selectedRow
        self.selectionStyle = selectionStyle
        self.columnSpacing = columnSpacing
    }

    /// Indices of the columns shown in `width` cells, with their widths, in column order.
    public func layout(forWidth width: Int) -> [(index: Int, width: Int)] {
        let chosen = PriorityFit.choose(
            widths: columns.map(\.width), priorities: columns.map(\.priority), available: width,
            separator: columnSpacing)
        let used = chosen.reduce(0) { $0 + columns[$1].width } + max(0, chosen.count - 1) * columnSpacing
        var widths = columns.indices.filter(chosen.contains).map { (index: $0, width: columns[$0].width) }
        // Leftover width goes to the flexible columns in order, each up to its maximum, so a
        // wide terminal widens what has more to show (a trend) instead of padding a name.
        var leftover = width - used
        for position in widths.indices where leftover > 0 && columns[widths[position].index].isFlexible {
            let column = columns[widths[position].index]
            let growth = min(leftover, max(0, (column.maximumWidth ?? Int.max) - widths[position].width))
            widths[position].width += growth
            leftover -= growth
        }
        return widths
    }

    /// First visible row so that `selectedRow` stays on screen in `visibleRows` rows.
    public static func scrollOffset(selected: Int?, rowCount: Int, visibleRows: Int) -> Int {
        guard let selected, visibleRows > 0, rowCount > visibleRows else { return 0 }
        return min(
            max(0, selected - visibleRows + 1 + min(visibleRows / 3, rowCount - 1 - selected)), rowCount - visibleRows)
    }

    /// The width column `index` gets in `width` cells; `nil` when it is dropped.
    public func width(ofColumn index: Int, forWidth width: Int) -> Int? {
        layout(forWidth: width).first { $0.index == index }?.width
    }

    public func render(in area: Rect, into frame: inout Frame) {
        guard !area.isEmpty else { return }
        let shown = layout(forWidth: area.width)
        var x = area.x
        for column in shown {
            let title = TextFit.fit(
                columns[column.index].title, to: column.width, alignment: columns[column.index].alignment)
            frame.write(title, x: x, y: area.y, style: headerStyle, clip: area)
            x += column.width + columnSpacing
        }
        let visibleRows = area.height - 1
        guard visibleRows > 0 else { return }
        let offset = Self.scrollOffset(selected: selectedRow, rowCount: rows.count, visibleRows: visibleRows)
        for (position, rowIndex) in (offset..<min(rows.count, offset + visibleRows)).enumerated() {
            let y = area.y + 1 + position
            let row = rows[rowIndex]
            x = area.x
            for column in shown {
                let cell = column.index < row.count ? row[column.index] : Line()
                let cellArea = Rect(x: x, y: y, width: column.width, height: 1).intersection(area)
                let width = cell.width
                var start = x
                switch columns[column.index].alignment {
                case .left: break
                case .right: start = x + max(0, column.width - width)
                case .center: start = x + max(0, column.width - width) / 2
                }
                if width > column.width {
                    frame.write(
                        TextFit.truncate(cell.text, to: column.width), x: x, y: y,
                        style: cell.spans.first?.style ?? .plain, clip: cellArea)
                } else {
                    frame.write(cell, x: start, y: y, clip: cellArea)
                }
                x += column.width + columnSpacing
            }
            if rowIndex == selectedRow {
                frame.restyle(Rect(x: area.x, y: y, width: area.width, height: 1)) { $0.selected(by: selectionStyle) }
            }
        }
    }
}
