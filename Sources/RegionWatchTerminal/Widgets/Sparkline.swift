/// Block characters for eighths of a cell, from empty to full.
enum Bars {
    static let eighths: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
}

/// A one-row chart of recent values. Values above `threshold` are drawn in `alertStyle`;
/// unknown values (`nil`) leave a gap. The newest value is at the right edge.
public struct Sparkline: Widget {
    public var values: [Double?]
    /// Top of the scale; defaults to the larger of the maximum value and 1.2 × threshold.
    public var maximum: Double?
    public var threshold: Double?
    public var style: Style
    public var alertStyle: Style

    public init(values: [Double?], maximum: Double? = nil, threshold: Double? = nil, style: Style = .plain, alertStyle: Style = .plain) {
        self.values = values
        self.maximum = maximum
        self.threshold = threshold
        self.style = style
        self.alertStyle = alertStyle
    }

    /// The scale maximum actually used.
    public var scaleMaximum: Double {
        if let maximum { return maximum }
        let largest = values.compactMap { $0 }.filter(\.isFinite).max() ?? 0
        let withThreshold = max(largest, (threshold ?? 0) * 1.2)
        return withThreshold > 0 ? withThreshold : 1
    }

    /// The sparkline as a line of exactly `width` cells (right-aligned, gaps as spaces), for
    /// embedding in tables.
    public func line(width: Int) -> Line {
        guard width > 0 else { return Line() }
        let top = scaleMaximum
        let shown = values.suffix(width)
        var line = Line(String(repeating: " ", count: width - shown.count), style: style)
        for value in shown {
            guard let value, value.isFinite else {
                line.append(" ", style: style)
                continue
            }
            // Every known value shows at least the lowest bar; only unknown values leave a gap.
            let level = min(8, max(1, Int((value / top * 8).rounded())))
            let isAlert = threshold.map { value > $0 } ?? false
            line.append(String(Bars.eighths[level]), style: isAlert ? alertStyle : style)
        }
        return line
    }

    public func render(in area: Rect, into frame: inout Frame) {
        guard !area.isEmpty else { return }
        frame.write(line(width: area.width), x: area.x, y: area.y, clip: area)
    }
}

/// A multi-row bar chart with a dashed threshold line (for example the RPO) and a scale label.
public struct BarChart: Widget {
    public var values: [Double?]
    public var maximum: Double?
    public var threshold: Double?
    public var thresholdLabel: String?
    public var style: Style
    public var alertStyle: Style
    public var thresholdStyle: Style
    /// Formats the scale's top label.
    public var formatScale: (Double) -> String

    public init(values: [Double?], maximum: Double? = nil, threshold: Double? = nil, thresholdLabel: String? = nil, style: Style = .plain, alertStyle: Style = .plain, thresholdStyle: Style = .plain, formatScale: @escaping (Double) -> String = { String(Int($0)) }) {
        self.values = values
        self.maximum = maximum
        self.threshold = threshold
        self.thresholdLabel = thresholdLabel
        self.style = style
        self.alertStyle = alertStyle
        self.thresholdStyle = thresholdStyle
        self.formatScale = formatScale
    }

    public func render(in area: Rect, into frame: inout Frame) {
        guard area.height >= 1, area.width >= 2 else { return }
        let top = Sparkline(values: values, maximum: maximum, threshold: threshold).scaleMaximum
        let label = formatScale(top)
        let labelWidth = min(CharacterWidth.of(label) + 1, area.width / 3)
        frame.write(TextFit.fit(label, to: labelWidth - 1, alignment: .right), x: area.x, y: area.y, style: thresholdStyle)
        let plot = Rect(x: area.x + labelWidth, y: area.y, width: area.width - labelWidth, height: area.height)
        let totalEighths = plot.height * 8
        let thresholdRow: Int? = threshold.flatMap { value in
            guard value > 0, value <= top else { return nil }
            let eighths = Int((value / top * Double(totalEighths)).rounded())
            return plot.maxY - 1 - min(plot.height - 1, max(0, (eighths - 1) / 8))
        }
        if let thresholdRow {
            frame.write(String(repeating: "┄", count: plot.width), x: plot.x, y: thresholdRow, style: thresholdStyle, clip: plot)
            if let thresholdLabel {
                // Labelled at the left: the newest bars are at the right.
                frame.write(thresholdLabel + " ", x: plot.x, y: thresholdRow, style: thresholdStyle, clip: plot)
            }
        }
        let shown = values.suffix(plot.width)
        var x = plot.maxX - shown.count
        for value in shown {
            defer { x += 1 }
            guard let value, value.isFinite, value > 0 else { continue }
            let eighths = max(1, min(totalEighths, Int((value / top * Double(totalEighths)).rounded())))
            let isAlert = threshold.map { value > $0 } ?? false
            for row in 0..<plot.height {
                let fromBottom = row * 8
                let level = min(8, eighths - fromBottom)
                guard level > 0 else { break }
                frame.write(String(Bars.eighths[level]), x: x, y: plot.maxY - 1 - row, style: isAlert ? alertStyle : style, clip: plot)
            }
        }
    }
}
