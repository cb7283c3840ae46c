import RegionWatchCore
import RegionWatchTerminal

/// Everything about one span: status, kind, timing, attributes, events, links, resource, scope.
struct SpanDetailScreen {
    let context: ScreenContext
    let traceID: TraceID
    let spanID: SpanID

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        guard let details = context.state.traces.details(of: spanID, in: traceID) else {
            frame.write(
                " span \(spanID.hex) of trace \(traceID.hex) is no longer kept; Esc goes back", x: area.x, y: area.y,
                style: theme[.warning], clip: area)
            return
        }
        let block = context.block(
            "Span \(details.span.name)", note: Line("↑↓ scroll · Esc back", style: theme[.muted]), focused: true)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        let lines = context.wrap(self.lines(details), width: inner.width, indent: labelWidth(details))
        Paragraph(lines, scroll: min(context.view.spanDetailScroll, max(0, lines.count - inner.height))).render(
            in: inner, into: &frame)
    }

    /// Wide enough for the longest attribute key (within reason).
    func labelWidth(_ details: SpanDetails) -> Int {
        let keys = details.attributes.map(\.key) + details.resource.attributes.map(\.key)
        return min(36, max(12, (keys.map { CharacterWidth.of($0) }.max() ?? 0) + 2))
    }

    /// The cross-region hop into this span (its parent ran in another region): where from, and
    /// the hop's latency as the latency matrix measures it (the parent's duration minus this
    /// span's), marked when slower than `hopSlowMs`.
    func hopLines(_ span: SpanInfo, width: Int) -> [Line] {
        let theme = context.theme
        guard span.parentSpanID.isValid,
            let parent = context.state.traces.details(of: span.parentSpanID, in: traceID)?.span,
            parent.region != span.region
        else { return [] }
        let latency =
            Double(parent.durationNanos > span.durationNanos ? parent.durationNanos - span.durationNanos : 0) / 1e6
        let slow = context.state.topology.thresholds.hopSlowMilliseconds
        var hop = context.fact("hop", "", width: width)
        hop.append(parent.region, style: context.regionStyle(parent.region))
        hop.append(" ⇢ ", style: theme[.warning])
        hop.append(span.region, style: context.regionStyle(span.region))
        hop.append("  from \(parent.name) (\(parent.service))", style: theme[.muted])
        var latencyLine = context.fact("hop latency", "", width: width)
        latencyLine.append(Format.milliseconds(latency), style: latency > slow ? theme[.degraded] : theme[.text])
        latencyLine.append(
            "  parent \(Format.milliseconds(Double(parent.durationNanos) / 1e6)) − this span \(Format.milliseconds(Double(span.durationNanos) / 1e6))",
            style: theme[.muted])
        if latency > slow { latencyLine.append("  slower than \(Format.milliseconds(slow))", style: theme[.degraded]) }
        return [hop, latencyLine]
    }

    func lines(_ details: SpanDetails) -> [Line] {
        let theme = context.theme
        let span = details.span
        let width = labelWidth(details)
        func fact(_ label: String, _ value: String, _ style: Style? = nil) -> Line {
            context.fact(label, value, width: width, valueStyle: style)
        }
        func section(_ title: String) -> Line { Line(title, style: theme[.tableHeader]) }
        let start = Timestamp(secondsSinceEpoch: Double(span.startUnixNano) / 1e9)
        var lines: [Line] = [section("Span")]
        lines.append(fact("name", span.name))
        lines.append(fact("span id", span.spanID.hex))
        lines.append(fact("parent", span.parentSpanID.isValid ? span.parentSpanID.hex : "none (root)"))
        lines.append(fact("trace id", traceID.hex))
        lines.append(fact("kind", span.kind.description))
        let statusText = span.status.description + (details.statusMessage.isEmpty ? "" : ": " + details.statusMessage)
        lines.append(fact("status", statusText, span.status == .error ? theme[.down] : theme[.text]))
        lines.append(fact("start", start.iso8601))
        lines.append(fact("duration", Format.milliseconds(Double(span.durationNanos) / 1e6)))
        let logCount = context.state.logs.recordCount(ofTrace: traceID, span: span.spanID)
        lines.append(
            fact(
                "logs",
                logCount == 0
                    ? "none received for this span" : "\(logCount) record\(logCount == 1 ? "" : "s") (L shows them)",
                logCount == 0 ? theme[.muted] : theme[.text]))
        var region = context.fact("region", "", width: width)
        region.append(span.region, style: context.regionStyle(span.region))
        if !context.state.isConfigured(region: span.region) {
            region.append("  (not in the configuration)", style: theme[.warning])
        }
        lines.append(region)
        lines.append(fact("service", span.service + (details.resource.serviceVersion.map { " " + $0 } ?? "")))
        lines.append(contentsOf: hopLines(span, width: width))
        lines.append(Line())

        lines.append(
            section("Attributes" + (details.droppedAttributes > 0 ? " (\(details.droppedAttributes) dropped)" : "")))
        if details.attributes.isEmpty { lines.append(Line("none", style: theme[.muted])) }
        for attribute in details.attributes { lines.append(fact(attribute.key, attribute.value.description)) }
        lines.append(Line())

        lines.append(section("Events"))
        if details.events.isEmpty { lines.append(Line("none", style: theme[.muted])) }
        for event in details.events {
            let offset = Double(Int64(bitPattern: event.timeUnixNano &- span.startUnixNano)) / 1e6
            lines.append(fact("+" + Format.milliseconds(offset), event.name))
            for attribute in event.attributes {
                lines.append(fact("  " + attribute.key, attribute.value.description, theme[.muted]))
            }
        }
        lines.append(Line())

        lines.append(section("Links"))
        if details.links.isEmpty { lines.append(Line("none", style: theme[.muted])) }
        for link in details.links {
            lines.append(fact("trace", link.traceID.hex + " span " + link.spanID.hex))
            for attribute in link.attributes {
                lines.append(fact("  " + attribute.key, attribute.value.description, theme[.muted]))
            }
        }
        lines.append(Line())

        lines.append(section("Resource"))
        for attribute in details.resource.attributes { lines.append(fact(attribute.key, attribute.value.description)) }
        if details.resource.attributes.isEmpty { lines.append(Line("no attributes", style: theme[.muted])) }
        lines.append(Line())
        lines.append(section("Scope"))
        lines.append(fact("name", details.scope.name.isEmpty ? "(unnamed)" : details.scope.name))
        lines.append(fact("version", details.scope.version.isEmpty ? Format.unknown : details.scope.version))
        return lines
    }
}
