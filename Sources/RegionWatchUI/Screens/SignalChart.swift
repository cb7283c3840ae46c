import RegionWatchCore
import RegionWatchTerminal

/// One signal's chart in a titled block: its current value (and threshold) in the title, bars
/// from zero with a labelled value axis, and a labelled time axis ending now. Below three rows
/// it degrades to a sparkline. Shared by the region detail and metrics screens.
struct SignalChart {
    let context: ScreenContext
    let title: String
    let current: String
    let signal: Signal
    var threshold: Double?
    var thresholdName = "limit"
    var isStale = false
    let format: (Double) -> String

    /// The most a chart shows (the signals keep at least this much history).
    static let windowSeconds = 600.0

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        var note = Line(current, style: isStale ? theme[.stale] : theme[.text].adding(.bold))
        if let threshold {
            note.append("  \(thresholdName) ", style: theme[.muted])
            note.append(format(threshold), style: theme[.threshold])
        }
        let block = context.block(title, note: note)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        let window = window()
        let style = isStale ? theme[.stale] : theme[.sparkline]
        let alertStyle = isStale ? theme[.stale] : theme[.sparklineAlert]
        if signal.history.isEmpty {
            frame.write("no data", x: inner.x, y: inner.y, style: theme[.muted], clip: inner)
        } else if inner.height <= 2 {
            let values = signal.buckets(inner.width, window: window, endingAt: context.now)
            Sparkline(values: values, threshold: threshold, style: style, alertStyle: alertStyle).render(
                in: inner.row(0), into: &frame)
            if inner.height == 2 {
                frame.write(
                    "last \(Format.duration(window)), from zero", x: inner.x, y: inner.y + 1, style: theme[.muted],
                    clip: inner.row(1))
            }
        } else {
            // The plot, then a labelled time axis on the last row, aligned with the plot.
            let plotArea = Rect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 1)
            let probe = BarChart(values: [], threshold: threshold, formatValue: format)
            // The window's largest value sets the scale whatever the bucket count.
            let labelWidth = probe.labelWidth(
                values: signal.buckets(plotArea.width, window: window, endingAt: context.now), width: plotArea.width)
            let plotWidth = plotArea.width - labelWidth
            let values = signal.buckets(plotWidth, window: window, endingAt: context.now)
            BarChart(
                values: values, threshold: threshold, style: style, alertStyle: alertStyle, axisStyle: theme[.muted],
                thresholdStyle: theme[.threshold], thresholdName: threshold == nil ? nil : thresholdName,
                formatValue: format
            ).render(in: plotArea, into: &frame)
            let axisRow = inner.row(inner.height - 1)
            for label in Self.timeAxis(window: window, plotX: plotArea.x + labelWidth, width: plotWidth) {
                frame.write(label.text, x: label.x, y: axisRow.y, style: theme[.muted], clip: axisRow)
            }
        }
    }

    /// The window a chart shows: the history it has, rounded up to whole minutes, at most
    /// `windowSeconds`.
    private func window() -> Double {
        guard let oldest = signal.history.first?.at else { return 60 }
        let span = max(60, context.now.seconds(since: oldest))
        return min(Self.windowSeconds, (span / 60).rounded(.up) * 60)
    }

    /// `-10m … -5m … now` under the plot, each label centred on its time.
    static func timeAxis(window: Double, plotX: Int, width: Int) -> [(x: Int, text: String)] {
        let steps = width >= 40 ? 4 : (width >= 16 ? 2 : 1)
        return (0...steps).map { step in
            let secondsAgo = window * Double(steps - step) / Double(steps)
            let text = secondsAgo == 0 ? "now" : "-" + Format.duration(secondsAgo)
            let position = plotX + (width - 1) * step / steps
            let x =
                step == 0
                ? position
                : (step == steps ? position - CharacterWidth.of(text) + 1 : position - CharacterWidth.of(text) / 2)
            return (x, text)
        }
    }
}
