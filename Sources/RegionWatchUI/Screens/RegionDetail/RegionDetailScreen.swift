import RegionWatchCore
import RegionWatchTerminal

/// Everything about one region: signals with history, why it is not OK, probes, replication,
/// backups, versions per service, and each collector's freshness and last error.
struct RegionDetailScreen {
    let context: ScreenContext
    let region: RegionState

    func render(in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let (titleArea, body) = area.splitTop(1)
        var title = Line(" \(RegionText.glyph(region.health)) ", style: theme.style(for: region.health))
        title.append(region.name, style: theme[.title])
        title.append(" · \(region.configuration.provider) · ", style: theme[.muted])
        title.append(region.roleDescription, style: theme.style(for: region.role))
        title.append(" · ", style: theme[.muted])
        title.append(region.health.label, style: theme.style(for: region.health))
        if let reason = region.assessment.reasons.first {
            title.append(" — " + reason, style: theme.style(for: region.health))
        }
        frame.write(title, x: titleArea.x, y: titleArea.y, clip: titleArea)

        let columns = Layout.split(body, .horizontal, [.percentage(56), .fill(1)])
        renderCharts(in: columns[0], into: &frame)
        let errorTraces = RegionErrorTraces.traces(in: context.state, region: region.name)
        let (factsArea, tracesArea) = columns[1].splitBottom(
            min(RegionErrorTraces.limit, max(1, errorTraces.count)) + 2)
        renderErrorTraces(errorTraces, in: tracesArea, into: &frame)
        let block = context.block(
            "Details", note: Line("↑↓ scroll", style: theme[.muted]), focused: context.view.detailPane == .facts)
        block.render(in: factsArea, into: &frame)
        let inner = block.inner(factsArea).inset(horizontal: 1, vertical: 0)
        let lines = context.wrap(detailLines(width: inner.width), width: inner.width)
        let scroll = min(context.view.detailScroll, max(0, lines.count - inner.height))
        Paragraph(lines, scroll: scroll).render(in: inner, into: &frame)
    }

    // MARK: Error traces

    private func renderErrorTraces(_ traces: [TraceSummary], in area: Rect, into frame: inout Frame) {
        let theme = context.theme
        let focused = context.view.detailPane == .errorTraces
        let block = context.block(
            "Error traces", note: Line(focused ? "Enter opens" : "Tab to select", style: theme[.muted]),
            focused: focused)
        block.render(in: area, into: &frame)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !traces.isEmpty else {
            frame.write(
                "no error traces kept for this region", x: inner.x, y: inner.y, style: theme[.muted], clip: inner)
            return
        }
        for (index, trace) in traces.prefix(inner.height).enumerated() {
            let start = Timestamp(secondsSinceEpoch: Double(trace.startUnixNano) / 1e9)
            var line = Line(start.utcTimeOfDay + " ", style: theme[.muted])
            line.append("✖ ", style: theme[.down])
            line.append((trace.rootName ?? "(root not received)") + " ", style: theme[.text])
            line.append(Format.milliseconds(trace.durationMilliseconds), style: theme[.muted])
            line.append(" " + String(trace.traceID.hex.prefix(8)), style: theme[.muted])
            frame.write(line, x: inner.x, y: inner.y + index, clip: inner)
            if focused, index == context.view.selectedErrorTrace {
                frame.restyle(inner.row(index)) { $0.selected(by: theme[.selection]) }
            }
        }
    }

    // MARK: Charts

    private struct ChartSpec {
        var title: String
        var signal: Signal
        var current: String
        var threshold: Double?
        var thresholdName = "limit"
        var format: (Double) -> String
    }

    private func chartSpecs() -> [ChartSpec] {
        let state = context.state
        let thresholds = state.topology.thresholds
        var specs = [
            ChartSpec(
                title: "Requests/s", signal: region.requestsPerSecond, current: RegionText.requests(region),
                format: Format.rate),
            ChartSpec(
                title: "Error rate", signal: region.errorRate,
                current: RegionText.errorRate(region, thresholds: thresholds), threshold: thresholds.errorRateDegraded,
                format: Format.percent),
            ChartSpec(
                title: "p99 latency", signal: region.p99Milliseconds,
                current: RegionText.p99(region, thresholds: thresholds), threshold: thresholds.p99DegradedMilliseconds,
                format: Format.milliseconds),
        ]
        if let link = state.inboundLinks(of: region.name).first {
            let lag = state.replicationLag(of: region.name)
            specs.append(
                ChartSpec(
                    title: "Replication lag from \(link.from)", signal: link.lagSeconds, current: RegionText.lag(lag),
                    threshold: context.rpo, thresholdName: "RPO", format: Format.duration))
        }
        if let errors = region.logErrorsPerSecond.latest {
            specs.append(
                ChartSpec(
                    title: "Log errors/s", signal: region.logErrorsPerSecond, current: Self.perSecond(errors),
                    threshold: thresholds.logErrorsPerSecondDegraded, format: Self.perSecond))
        }
        specs.append(
            ChartSpec(
                title: "Probe latency", signal: region.probe.latencyMilliseconds,
                current: region.probe.latencyMilliseconds.latest.map(Format.milliseconds) ?? RegionText.unknown(),
                format: Format.milliseconds))
        return specs
    }

    /// A small rate with the precision it needs: `0.05/s`, `1.2/s`, `40/s`.
    static func perSecond(_ value: Double) -> String { Format.number(value) + "/s" }

    private func renderCharts(in area: Rect, into frame: inout Frame) {
        let specs = chartSpecs()
        let perChart = max(3, area.height / max(1, specs.count))
        var y = area.y
        for spec in specs {
            let height = min(perChart, area.maxY - y)
            guard height >= 3 else { break }
            SignalChart(
                context: context, title: spec.title, current: spec.current, signal: spec.signal,
                threshold: spec.threshold, thresholdName: spec.thresholdName, isStale: region.health == .stale,
                format: spec.format
            ).render(in: Rect(x: area.x, y: y, width: area.width, height: height), into: &frame)
            y += height
        }
    }

    // MARK: Facts

    /// What a link view saw: positions or a measured lag.
    private static func describe(_ view: ReplicationSample) -> String {
        if let positions = view.positions {
            let replayed = positions.replayed.map { "replayed \($0)" } ?? "replay position unknown"
            return replayed + (positions.flushed.map { ", flushed \($0)" } ?? "")
        }
        if view.isExpectationOnly { return "not listed by the sender" }
        return
            "lag \(view.lagSeconds.map(Format.duration) ?? RegionText.unknown())\(view.lagBytes.map { " · \(Format.bytes($0))" } ?? "")"
    }

    /// The region's database server: role, version, timeline, what it follows, positions.
    private func databaseLines() -> [Line] {
        let theme = context.theme
        let state = context.state
        guard let server = region.server else { return [] }
        var lines = [section("Database")]
        lines.append(context.fact("role", region.roleDescription, valueStyle: theme.style(for: region.role)))
        if !server.isReachable, let failure = server.failure, let at = server.failedAt {
            lines.append(
                context.fact(
                    "reach", "cannot reach it since \(at.utcTimeOfDay) UTC: \(failure)", valueStyle: theme[.down]))
        }
        if let facts = server.facts {
            let seen = server.factsObservedAt.map { " (seen \(Format.age(context.now.seconds(since: $0))) ago)" } ?? ""
            lines.append(
                context.fact(
                    "server",
                    "\(facts.version.map { "PostgreSQL \($0)" } ?? "version unknown")\(facts.timeline.map { ", timeline \($0)" } ?? "")\(seen)"
                ))
            if let position = facts.walPosition {
                let label = facts.role == .recovering ? "replayed" : "WAL at"
                let received = facts.receivedPosition.map { ", received \($0)" } ?? ""
                lines.append(
                    context.fact(
                        label, "\(position)\(received)\(facts.isReplayPaused ? " · replay PAUSED" : "")",
                        valueStyle: facts.isReplayPaused ? theme[.warning] : theme[.text]))
            }
            if facts.role == .recovering {
                let upstream = state.upstream(of: region.name) ?? "unknown"
                let receiver =
                    facts.receiver.map { "receiver \($0.status)\($0.senderAddress.map { " from \($0)" } ?? "")" }
                    ?? "no WAL receiver (disconnected)"
                lines.append(
                    context.fact(
                        "follows", "\(upstream) · \(receiver)",
                        valueStyle: facts.receiver == nil ? theme[.down] : theme[.text]))
            }
            if let beat = facts.heartbeat {
                let label = facts.role == .recovering ? "replayed heartbeat" : "heartbeat"
                lines.append(
                    context.fact(
                        "heartbeat",
                        "\(label) \(Format.age(context.now.seconds(since: beat.writtenAt))) ago (every \(Format.duration(beat.intervalSeconds)))"
                    ))
            }
        }
        if let following = region.followingFormerPrimary {
            lines.append(context.fact("warning", following, valueStyle: theme[.degraded].adding(.bold)))
        }
        lines.append(Line())
        return lines
    }

    /// WAL archiving of a primary.
    private func archiveLines() -> [Line] {
        let theme = context.theme
        guard let archive = region.archive else { return [] }
        let facts = archive.facts
        guard facts.isEnabled else {
            return [context.fact("WAL archive", "off (archive_mode = off)", valueStyle: theme[.muted])]
        }
        var lines: [Line] = []
        let last =
            facts.lastArchivedSegment.map { segment in
                "\(segment)\(facts.lastArchivedAt.map { " \(Format.age(context.now.seconds(since: $0))) ago" } ?? "")"
            } ?? "nothing archived yet"
        lines.append(context.fact("archived", "\(last) · \(facts.archivedCount) segments", valueStyle: theme[.text]))
        if let unarchived = archive.unarchived {
            let style = unarchived.certainlyExceeds(context.rpo) ? theme[.down] : theme[.text]
            lines.append(
                context.fact(
                    "unarchived",
                    "oldest unarchived write \(unarchived.text) old (RPO \(Format.duration(context.rpo)))",
                    valueStyle: style))
        }
        if facts.failedCount > 0 {
            let last =
                facts.lastFailedSegment.map {
                    " · last \($0)\(facts.lastFailedAt.map { " at \($0.utcTimeOfDay) UTC" } ?? "")"
                } ?? ""
            lines.append(
                context.fact(
                    "failures", "\(facts.failedCount)\(last)\(facts.isFailing ? " · FAILING" : "")",
                    valueStyle: facts.isFailing ? theme[.down] : theme[.muted]))
        }
        return lines
    }

    private func section(_ title: String) -> Line {
        Line(title, style: context.theme[.tableHeader])
    }

    func detailLines(width: Int) -> [Line] {
        let theme = context.theme
        let state = context.state
        let now = context.now
        var lines: [Line] = []

        lines.append(section("Health"))
        lines.append(
            context.fact(
                "status", "\(RegionText.glyph(region.health)) \(region.health.label)",
                valueStyle: theme.style(for: region.health)))
        if region.assessment.reasons.isEmpty {
            lines.append(context.fact("why", "every signal within thresholds", valueStyle: theme[.muted]))
        }
        for (index, reason) in region.assessment.reasons.enumerated() {
            for (part, text) in TextFit.wrap(reason, width: max(10, width - 11)).enumerated() {
                lines.append(
                    context.fact(
                        index == 0 && part == 0 ? "why" : "", (part == 0 ? "• " : "  ") + text,
                        valueStyle: theme.style(for: region.health)))
            }
        }
        let changes = region.healthChanges(at: now)
        if changes > 0 {
            let flapping = changes >= RegionState.flapThreshold
            lines.append(
                context.fact(
                    "changes",
                    "\(changes) in the last \(Format.duration(RegionState.flapWindowSeconds))\(flapping ? " · FLAPPING" : "")",
                    valueStyle: flapping ? theme[.warning].adding(.bold) : theme[.muted]))
        }
        let staleAfter = region.sources.map { state.staleAfter(source: $0) }.max() ?? state.staleAfter(source: nil)
        lines.append(
            context.fact(
                "data age", "\(RegionText.age(region, now: now)) (stale after \(Format.age(staleAfter)))",
                valueStyle: region.health == .stale ? theme[.stale].adding(.bold) : theme[.text]))
        lines.append(
            context.fact(
                "traffic",
                "\(RegionText.traffic(region)) observed · \(Format.fixed(region.configuration.trafficPercent, decimals: 0))% configured"
            ))
        lines.append(
            context.fact(
                "p50 / p99",
                "\(region.p50Milliseconds.latest.map(Format.milliseconds) ?? RegionText.unknown()) / \(RegionText.p99(region, thresholds: context.state.topology.thresholds))"
            ))
        if let errors = region.logErrorsPerSecond.latest {
            let thresholds = context.state.topology.thresholds
            let breached = thresholds.logErrorsPerSecondDegraded.map { errors >= $0 } ?? false
            let limit = thresholds.logErrorsPerSecondDegraded.map { " · limit \(Self.perSecond($0))" } ?? ""
            lines.append(
                context.fact(
                    "log errors",
                    "\(Self.perSecond(errors)) · \(Self.perSecond(region.logRecordsPerSecond ?? 0)) records in all (last minute)\(limit)",
                    valueStyle: breached ? theme[.degraded] : theme[.text]))
        }
        lines.append(Line())

        lines.append(section("Probe"))
        if region.probes.isEmpty { lines.append(Line("no probe results", style: theme[.muted])) }
        for probe in region.probes {
            guard let last = probe.lastResult else { continue }
            lines.append(
                context.fact(
                    "last",
                    "\(last.isSuccess ? "ok" : "FAILED") · \(last.message) · \(last.latencyMilliseconds.map(Format.milliseconds) ?? RegionText.unknown())",
                    valueStyle: last.isSuccess ? theme[.ok] : theme[.down]))
            lines.append(
                context.fact(
                    "failures", "\(probe.consecutiveFailures) in a row · availability \(RegionText.availability(probe))"
                ))
            lines.append(
                context.fact(
                    "checked", "\(Format.age(now.seconds(since: last.observedAt))) ago by \(last.source)",
                    valueStyle: theme[.muted]))
            if let expiry = last.certificateExpiry {
                let remaining = expiry.seconds(since: now)
                let text =
                    remaining < 0
                    ? "EXPIRED \(Format.duration(-remaining)) ago" : "expires in \(Format.duration(remaining))"
                lines.append(
                    context.fact(
                        "TLS cert", text,
                        valueStyle: remaining < HealthEvaluator.certificateWarningSeconds
                            ? theme[.degraded] : theme[.text]))
            }
        }
        lines.append(Line())

        lines += databaseLines()

        lines.append(section("Replication"))
        let links = state.links(touching: region.name)
        if links.isEmpty { lines.append(Line("no replication links", style: theme[.muted])) }
        for link in links {
            let lag = link.reading
            var line = Line("\(link.from) → \(link.to) ", style: theme[.text])
            line.append(link.state.rawValue, style: theme.style(for: link.state))
            line.append(" lag ", style: theme[.muted])
            line.append(RegionText.lagInFull(lag), style: theme.lagStyle(lag, rpo: context.rpo))
            lines.append(line)
            if lag.bytesNotReceived != nil || lag.bytesNotReplayed != nil {
                let received = lag.bytesNotReceived.map(Format.bytes) ?? RegionText.unknown()
                let replayed = lag.bytesNotReplayed.map(Format.bytes) ?? RegionText.unknown()
                lines.append(
                    Line(
                        "  \(received) not received (lost if promoted now) · \(replayed) received, not replayed",
                        style: theme[.muted]))
            } else if let bytes = lag.bytesBehind {
                lines.append(Line("  \(Format.bytes(bytes)) behind", style: theme[.muted]))
            }
            if let unknownAfter = lag.unknownAfter {
                lines.append(
                    Line(
                        "  \(lag.unobservedSource ?? link.from) not observed since \(unknownAfter.utcTimeOfDay) UTC (\(Format.age(now.seconds(since: unknownAfter))) ago): what it wrote since is unknown",
                        style: theme[.warning]))
            }
            // Each end's own view, when more than one source observes the link.
            if link.views.count > 1 {
                for view in link.views {
                    let age = now.seconds(since: view.observedAt)
                    let isStale = age > state.staleAfter(source: view.source)
                    var viewLine = Line("  seen by \(view.source): ", style: theme[.muted])
                    viewLine.append(view.state.rawValue, style: isStale ? theme[.stale] : theme.style(for: view.state))
                    viewLine.append(
                        " \(Self.describe(view)) · \(Format.age(age)) ago\(isStale ? " (stale)" : "")",
                        style: isStale ? theme[.stale] : theme[.muted])
                    lines.append(viewLine)
                }
            }
        }
        lines.append(Line())

        lines.append(section("Backup"))
        lines += archiveLines()
        if let backup = region.backup {
            let age = now.seconds(since: backup.completedAt)
            lines.append(
                context.fact(
                    "last ok", "\(backup.completedAt.utcTimeOfDay) UTC (\(Format.duration(age)) ago)",
                    valueStyle: (state.topology.thresholds.backupMaxAgeSeconds.map { age > $0 } ?? false)
                        ? theme[.degraded] : theme[.text]))
            lines.append(context.fact("size", backup.sizeBytes.map(Format.bytes) ?? RegionText.unknown()))
            lines.append(
                context.fact(
                    "integrity", backup.integrity.rawValue,
                    valueStyle: backup.integrity == .failed
                        ? theme[.down] : (backup.integrity == .passed ? theme[.ok] : theme[.muted])))
        } else if region.archive == nil {
            lines.append(Line("no backup reported", style: theme[.muted]))
        }
        lines.append(Line())

        lines.append(section("Versions"))
        if region.versions.isEmpty { lines.append(Line("no versions reported", style: theme[.muted])) }
        for service in region.versions.keys.sorted() {
            let version = region.versions[service] ?? ""
            let others = state.regions.filter { $0.name != region.name }.compactMap { other in
                other.versions[service].map { (other.name, $0) }
            }
            let newer = others.filter { VersionOrder.isOlder(version, than: $0.1) }
            var line = context.fact(service, version, valueStyle: newer.isEmpty ? theme[.text] : theme[.warning])
            if let ahead = newer.first {
                line.append("  behind \(ahead.0) (\(ahead.1))", style: theme[.warning])
            }
            lines.append(line)
        }
        lines.append(Line())

        lines.append(section("Collectors"))
        let collectors = state.collectors.filter { $0.regions.contains(region.name) }
        if collectors.isEmpty { lines.append(Line("no collector reports this region yet", style: theme[.muted])) }
        for collector in collectors {
            let age = collector.age(at: now)
            let isStale = age.map { $0 > state.staleAfter(source: collector.name) } ?? true
            var line = Line("\(collector.name) ", style: theme[.text].adding(.bold))
            line.append(
                "(\(collector.kind), every \(Format.duration(collector.intervalSeconds))) ", style: theme[.muted])
            line.append(
                age.map { "last ok \(Format.age($0)) ago" } ?? "never succeeded",
                style: isStale ? theme[.stale].adding(.bold) : theme[.ok])
            lines.append(line)
            if let error = collector.lastError, let at = collector.lastErrorAt {
                for (index, text) in TextFit.wrap(
                    "last error \(Format.age(now.seconds(since: at))) ago: \(error)", width: max(10, width - 2)
                ).enumerated() {
                    lines.append(Line((index == 0 ? "  " : "    ") + text, style: theme[.error]))
                }
            }
        }
        lines.append(Line())

        lines += boundLines()

        lines.append(section("Recent events"))
        lines += EventLines.lines(context, limit: 8, region: region.name)
        return lines
    }

    /// The bounded stores (shared ones and this region's services): fill, capacity and what was
    /// forgotten to stay bounded, so an operator sees when data was given up.
    private func boundLines() -> [Line] {
        let theme = context.theme
        let ownServices = "services in \(region.name)"
        let bounds = context.state.storeBounds.filter { !$0.name.hasPrefix("services in ") || $0.name == ownServices }
        var lines = [section("Bounds")]
        for bound in bounds {
            let forgotten = bound.forgotten > 0 ? " · \(bound.forgotten) forgotten" : ""
            let label = bound.name == ownServices ? "services" : bound.name
            let line = Line([
                Span(TextFit.fit(TextFit.truncate(label, to: 21), to: 22), style: theme[.muted]),
                Span(
                    "\(bound.count) of \(bound.capacity)\(forgotten)",
                    style: bound.forgotten > 0 ? theme[.warning] : theme[.text]),
            ])
            lines.append(line)
        }
        lines.append(Line())
        return lines
    }
}
