import RegionWatchCore
import RegionWatchTerminal

/// The `?` overlay: every key, generated from the key map, plus the commands.
struct HelpOverlay {
    let context: ScreenContext

    func lines() -> [Line] {
        let theme = context.theme
        var lines: [Line] = []
        for group in KeyContext.allCases {
            let bindings = KeyMap.bindings.filter { $0.context == group }
            guard !bindings.isEmpty else { continue }
            var heading = Line(group.rawValue, style: theme[.tableHeader])
            if group == .demo, !context.view.isDemo {
                heading.append("  (inactive: the simulator is not running)", style: theme[.muted])
            }
            if group == context.view.screen.keyContext { heading.append("  (this screen)", style: theme[.key]) }
            lines.append(heading)
            for binding in bindings {
                lines.append(
                    Line([
                        Span("  " + TextFit.fit(binding.label, to: 12), style: theme[.key]),
                        Span(binding.description, style: theme[.text]),
                    ]))
            }
            lines.append(Line())
        }
        lines.append(Line("Commands (after :)", style: theme[.tableHeader]))
        let commands = [
            (":region NAME", "open a region by name or prefix (Tab completes)"),
            (":theme NAME", "switch theme (\(context.view.availableThemes.joined(separator: ", ")))"),
            (":trace ID", "open a trace by its id or first hex digits"),
            (":traces :matrix", "the trace list, the latency matrix"),
            (":overview", "back to the overview"),
            (":pause :resume", "freeze or resume the display"),
            (":help", "this help"),
            (":q", "quit"),
        ]
        for (command, description) in commands {
            lines.append(
                Line([
                    Span("  " + TextFit.fit(command, to: 16), style: theme[.key]),
                    Span(description, style: theme[.text]),
                ]))
        }
        lines.append(Line())
        lines.append(Line("Health: ● ok  ▲ degraded  ✖ down  ◌ stale (data too old to judge)", style: theme[.muted]))
        return lines
    }

    func render(in area: Rect, into frame: inout Frame) {
        let width = min(area.width - 2, 78)
        guard width >= 20 else { return }
        let content = context.wrap(lines(), width: width - 4, indent: 16)
        let height = min(area.height - 2, content.count + 2)
        guard height >= 3 else { return }
        let box = area.centered(width: width, height: height)
        let block = Block(
            title: Line("Keys", style: context.theme[.title]),
            note: Line("Esc or ? closes · ↑↓ scroll", style: context.theme[.muted]),
            borders: .double, borderStyle: context.theme[.focusBorder], fillStyle: context.theme[.text]
        )
        frame.fill(box, style: .plain)
        block.render(in: box, into: &frame)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        let scroll = min(context.view.helpScroll, max(0, content.count - inner.height))
        Paragraph(content, scroll: scroll).render(in: inner, into: &frame)
    }
}
