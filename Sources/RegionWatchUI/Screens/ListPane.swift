import RegionWatchCore
import RegionWatchTerminal

/// A focused block listing rows as a table, scrolled to keep the selection in view, or saying
/// why it is empty: what the traces, logs and metrics screens share. Only the rows that show
/// are formatted.
struct ListPane<Row> {
    let context: ScreenContext
    let title: String
    var note: Line?
    let columns: [TableColumn]
    let rows: [Row]
    let selectedIndex: Int?
    /// Whether the selected row is highlighted (the logs screen does not while it follows).
    var highlightsSelection = true
    /// What the pane says when there are no rows.
    let emptyLines: () -> [Line]
    /// The cells of the rows that show.
    let cells: (ArraySlice<Row>) -> [[Line]]

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let block = context.block(title, note: note, focused: true)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !rows.isEmpty else {
            Paragraph(context.wrap(emptyLines(), width: inner.width, indent: 2)).render(in: inner, into: &frame)
            return
        }
        let visibleRows = max(1, inner.height - 1)
        let offset = Table.scrollOffset(selected: selectedIndex, rowCount: rows.count, visibleRows: visibleRows)
        Table(
            columns: columns, rows: cells(rows[offset..<min(rows.count, offset + visibleRows)]),
            headerStyle: theme[.tableHeader],
            selectedRow: highlightsSelection ? selectedIndex.map { $0 - offset } : nil,
            selectionStyle: theme[.selection]
        ).render(in: inner, into: &frame)
    }
}
