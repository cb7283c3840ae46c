import RegionWatchCore
import RegionWatchTerminal

/// The audit screen (`a`): interrupted attempts first, then every record, newest first.
struct AuditScreen {
    let context: ScreenContext

    func lines() -> [Line] {
        let theme = context.theme
        let history = context.state.failover.history
        var lines: [Line] = [
            Line(
                "audit log \(history.auditLogPath.isEmpty ? "(not read yet)" : history.auditLogPath)",
                style: theme[.muted])
        ]
        for record in history.interrupted {
            lines.append(
                Line(
                    "INTERRUPTED \(record.kind) \(record.from) → \(record.to), confirmed \(record.at.utcDate) \(record.at.utcTimeOfDay) UTC by \(record.operatorName): started, never finished. A acknowledges.",
                    style: theme.style(for: .down).adding(.bold)))
            for step in record.steps { lines.append(Line("    " + step, style: theme[.error])) }
        }
        if history.unreadableLines > 0 {
            lines.append(Line("\(history.unreadableLines) unreadable line(s) in the audit log", style: theme[.warning]))
        }
        if history.recent.isEmpty { lines.append(Line("no failover, drill or refusal recorded", style: theme[.muted])) }
        for record in history.recent.reversed() {
            let style: Style =
                switch record.state {
                case "completed": theme[.ok]
                case "refused", "failed": theme[.down]
                default: theme[.warning]
                }
            var line = Line("\(record.at.utcDate) \(record.at.utcTimeOfDay)  ", style: theme[.muted])
            line.append(TextFit.fit(record.state.uppercased(), to: 12), style: style.adding(.bold))
            line.append("\(record.kind) \(record.from) → \(record.to)", style: theme[.text].adding(.bold))
            line.append(
                "  RTO \(record.measuredRTOSeconds.map { Format.fixed($0, decimals: 1) + "s" } ?? RegionText.unknown())",
                style: theme[.text])
            let noLoss = record.state == "interrupted" ? "unknown (interrupted)" : "none (nothing promoted)"
            line.append(
                "  loss \(record.dataLoss.map { FailoverFormat.dataLoss($0, at: record.at, ageWord: "earlier") } ?? noLoss)",
                style: theme[.text])
            line.append("  by \(record.operatorName)\(record.reason.map { ": \($0)" } ?? "")", style: theme[.muted])
            lines.append(line)
            if let acknowledged = record.acknowledged {
                lines.append(Line("    started, never finished; " + acknowledged, style: theme[.warning]))
            }
            if let region = record.notFenced {
                lines.append(Line("    ⚠ \(region) was not fenced (unreachable)", style: theme[.warning]))
            }
            for gate in record.failedGates { lines.append(Line("    gate " + gate, style: theme[.warning])) }
            for step in record.steps { lines.append(Line("    " + step, style: theme[.muted])) }
        }
        return lines
    }

    func render(in area: Rect, into frame: inout Frame) {
        let block = context.block(
            "Audit log", note: Line("A acknowledges an interrupted failover", style: context.theme[.muted]),
            focused: true)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        let content = context.wrap(lines(), width: inner.width, indent: 4)
        let scroll = min(context.view.auditScroll, max(0, content.count - inner.height))
        Paragraph(content, scroll: scroll).render(in: inner, into: &frame)
    }
}
