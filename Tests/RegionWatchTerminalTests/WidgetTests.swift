import Testing
@testable import RegionWatchTerminal

@Suite("Layout and widgets")
struct WidgetTests {
    @Test func layoutSplitsByConstraints() {
        let area = Rect(x: 0, y: 0, width: 100, height: 10)
        let parts = Layout.split(area, .horizontal, [.length(20), .percentage(30), .fill(1)])
        #expect(parts.map(\.width) == [20, 30, 50])
        #expect(parts.map(\.x) == [0, 20, 50])
        let vertical = Layout.split(area, .vertical, [.length(3), .fill(1), .fill(2)])
        #expect(vertical.map(\.height) == [3, 2, 5])
        #expect(vertical.map(\.y) == [0, 3, 5])
    }

    @Test func layoutNeverExceedsTheArea() {
        let area = Rect(x: 5, y: 0, width: 10, height: 1)
        let parts = Layout.split(area, .horizontal, [.length(8), .length(8), .minimum(4)], spacing: 1)
        #expect(parts.reduce(0) { $0 + $1.width } + 2 <= 10)
        #expect(parts.map(\.width) == [8, 0, 0])
        #expect(Layout.split(area, .horizontal, []).isEmpty)
    }

    @Test func rectHelpers() {
        let rect = Rect(x: 1, y: 1, width: 10, height: 5)
        #expect(rect.inset(by: 1) == Rect(x: 2, y: 2, width: 8, height: 3))
        #expect(rect.inset(by: 9).isEmpty)
        #expect(rect.splitTop(2).0.height == 2 && rect.splitTop(2).1.y == 3)
        #expect(rect.splitBottom(10).1 == rect)
        #expect(rect.centered(width: 4, height: 1) == Rect(x: 4, y: 3, width: 4, height: 1))
        #expect(rect.intersection(Rect(x: 8, y: 0, width: 10, height: 2)) == Rect(x: 8, y: 1, width: 3, height: 1))
    }

    @Test func blockDrawsBordersTitleAndNote() {
        var frame = Frame(size: TerminalSize(width: 20, height: 3))
        Block(title: "Title", note: "n").render(in: frame.area, into: &frame)
        #expect(
            frame.lines == [
                "╭─ Title ─────── n ╮",
                "│                  │",
                "╰──────────────────╯",
            ])
    }

    @Test func tableDropsLowPriorityColumnsAndHighlightsSelection() {
        let table = Table(
            columns: [
                TableColumn("A", width: 3, priority: 10), TableColumn("B", width: 5, priority: 1),
                TableColumn("C", width: 3, alignment: .right, priority: 5),
            ],
            rows: [["a1", "b1", "1"], ["a2", "b2", "22"]],
            selectedRow: 1,
            selectionStyle: Style(attributes: [.reverse])
        )
        var frame = Frame(size: TerminalSize(width: 8, height: 3))
        table.render(in: frame.area, into: &frame)
        #expect(frame.lines == ["A     C", "a1    1", "a2   22"])
        #expect(frame[0, 2].style.attributes.contains(.reverse))
        #expect(!frame[0, 1].style.attributes.contains(.reverse))
        #expect(table.layout(forWidth: 20).map(\.index) == [0, 1, 2])
    }

    @Test func tableScrollKeepsSelectionVisible() {
        #expect(Table.scrollOffset(selected: 0, rowCount: 50, visibleRows: 10) == 0)
        let offset = Table.scrollOffset(selected: 30, rowCount: 50, visibleRows: 10)
        #expect((offset...(offset + 9)).contains(30))
        #expect(Table.scrollOffset(selected: 49, rowCount: 50, visibleRows: 10) == 40)
        #expect(Table.scrollOffset(selected: 3, rowCount: 5, visibleRows: 10) == 0)
    }

    @Test func sparklineScalesMarksAlertsAndGaps() {
        let alert = Style(foreground: .ansi(1))
        let line = Sparkline(values: [0, 15, nil, 36], maximum: 36, threshold: 30, alertStyle: alert).line(width: 6)
        #expect(line.text == "  ▁▃ █")
        #expect(line.spans.last?.style == alert)
        #expect(line.spans[2].style == .plain)
        #expect(Sparkline(values: [1, 2], threshold: 30).scaleMaximum == 36)
        #expect(Sparkline(values: []).scaleMaximum == 1)
    }

    @Test func barChartDrawsAxisThresholdLineAndBars() {
        var frame = Frame(size: TerminalSize(width: 16, height: 4))
        BarChart(values: [10, 40, 20], maximum: 40, threshold: 20, formatValue: { "\(Int($0))s" })
            .render(in: frame.area, into: &frame)
        #expect(
            frame.lines == [
                "40s           █",
                "              █",
                "20s ┄┄┄┄┄┄┄┄┄┄██",
                "  0          ███",
            ])
        var named = Frame(size: TerminalSize(width: 24, height: 4))
        BarChart(
            values: [10, 40, 20], maximum: 40, threshold: 20, thresholdName: "RPO", formatValue: { "\(Int($0))s" }
        )
        .render(in: named.area, into: &named)
        #expect(named.lines[2] == "20s ┄┄┄┄┄┄┄┄┄┄┄ RPO 20s", "the threshold is named on its line, over the bars")
    }
}
