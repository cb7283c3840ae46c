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

    public init(
        values: [Double?], maximum: Double? = nil, threshold: Double? = nil, style: Style = .plain,
        alertStyle: Style = .plain
    ) {
        self.values = values
        self.maximum = maximum
        self.threshold = threshold
        self.style = style
        self.alertStyle = alertStyle
    }

    /// The scale maximum actually used.
    public var scaleMaximum: Double {
        // A zero or unusable maximum (an RPO of 0 with no lag) would divide by zero.
        if let maximum, maximum > 0, maximum.isFinite { return maximum }
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
            // Clamped before the conversion: a huge negative value must not trap.
            let level = Int(min(8, max(1, (value / top * 8).rounded())))
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

/// A multi-row bar chart with a Y axis showing the scale's top and a threshold (for example
/// the RPO), whose level is drawn as a dashed line behind the bars.
public struct BarChart: Widget {
    public var values: [Double?]
    public var maximum: Double?
    public var threshold: Double?
    public var style: Style
    public var alertStyle: Style
    public var axisStyle: Style
    public var thresholdStyle: Style
    /// Formats axis labels.
    public var formatValue: (Double) -> String
    /// What the threshold line is ("RPO", "limit"), written on it at the right.
    public var thresholdName: String?

    public init(
        values: [Double?], maximum: Double? = nil, threshold: Double? = nil, style: Style = .plain,
        alertStyle: Style = .plain,
        axisStyle: Style = .plain, thresholdStyle: Style = .plain, thresholdName: String? = nil,
        formatValue: @escaping (Double) -> String = { String(Int($0)) }
    ) {
        self.thresholdName = thresholdName
        self.values = values
        self.maximum = maximum
        self.threshold = threshold
        self.style = style
        self.alertStyle = alertStyle
        self.axisStyle = axisStyle
        self.thresholdStyle = thresholdStyle
        self.formatValue = formatValue
    }

    /// Cells the Y-axis labels take beside a plot of `values` in `width` cells.
    public func labelWidth(values: [Double?], width: Int) -> Int {
        let top = Sparkline(values: values, maximum: maximum, threshold: threshold).scaleMaximum
        let thresholdLabel = threshold.map(formatValue)
        return min(max(CharacterWidth.of(formatValue(top)), thresholdLabel.map(CharacterWidth.of) ?? 0) + 1, width / 3)
    }

    public func render(in area: Rect, into frame: inout Frame) {
        guard area.height >= 1, area.width >= 2 else { return }
        let top = Sparkline(values: values, maximum: maximum, threshold: threshold).scaleMaximum
        let topLabel = formatValue(top)
        let thresholdLabel = threshold.map(formatValue)
        let labelWidth = labelWidth(values: values, width: area.width)
        let plot = Rect(x: area.x + labelWidth, y: area.y, width: area.width - labelWidth, height: area.height)
        let totalEighths = plot.height * 8
        frame.write(
            TextFit.fit(topLabel, to: labelWidth - 1, alignment: .right), x: area.x, y: area.y, style: axisStyle)
        // Bars rise from zero, and the axis says so.
        if plot.height >= 2 {
            frame.write(
                TextFit.fit("0", to: labelWidth - 1, alignment: .right), x: area.x, y: plot.maxY - 1, style: axisStyle)
        }
        var thresholdRow: Int?
        if let threshold, threshold > 0, threshold <= top, let thresholdLabel {
            let eighths = Int((threshold / top * Double(totalEighths)).rounded())
            let row = plot.maxY - 1 - min(plot.height - 1, max(0, (eighths - 1) / 8))
            frame.write(String(repeating: "┄", count: plot.width), x: plot.x, y: row, style: thresholdStyle, clip: plot)
            if row != area.y || plot.height == 1 {
                frame.write(
                    TextFit.fit(thresholdLabel, to: labelWidth - 1, alignment: .right), x: area.x, y: row,
                    style: thresholdStyle)
            }
            thresholdRow = row
        }
        let shown = values.suffix(plot.width)
        var x = plot.maxX - shown.count
        for value in shown {
            defer { x += 1 }
            guard let value, value.isFinite, value >= 0 else { continue }
            let eighths = max(1, min(totalEighths, Int((value / top * Double(totalEighths)).rounded())))
            let isAlert = threshold.map { value > $0 } ?? false
            for row in 0..<plot.height {
                let level = min(8, eighths - row * 8)
                guard level > 0 else { break }
                frame.write(
                    String(Bars.eighths[level]), x: x, y: plot.maxY - 1 - row, style: isAlert ? alertStyle : style,
                    clip: plot)
            }
        }
        // The threshold's name on its line, over the bars: what the line means is never guessed.
        if let thresholdName, let thresholdRow, let thresholdLabel {
            let name = " \(thresholdName) \(thresholdLabel) "
            frame.write(
                name, x: max(plot.x, plot.maxX - CharacterWidth.of(name)), y: thresholdRow, style: thresholdStyle,
                clip: plot)
        }
    }
}
