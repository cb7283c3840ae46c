#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RegionWatchCore

/// The built-in demo world: a pure, seeded model of a multi-region system that produces the
/// same events a real collector would. Deterministic for a seed and a sequence of tick times.
///
/// Signals move like real ones: requests follow the traffic split with a slow wave and noise,
/// error rates sit near 0.1% with occasional bursts, replication lag stays within 0.2–2 s with
/// spikes, backups complete hourly. A scripted incident plays in the first three minutes
/// (and repeats): the last standby's replication lag climbs past the RPO and recovers, then the
/// primary's error rate and latency rise to degraded and recover.
public struct DemoSimulation: Sendable {
    public let topology: Topology
    public let settings: SimulatorSettings
    public let start: Timestamp
    private var random: SeededGenerator
    private var regions: [SimulatedRegion]
    private var links: [SimulatedLink]
    private var lastVersionsAt: Timestamp?
    private var hasAnnouncedStart = false
    private var announcedBeats: Set<String> = []

    /// Seconds into each incident cycle at which the scripted beats happen.
    public enum Script {
        public static let lagStarts = 25.0
        public static let lagPeaks = 70.0
        public static let lagRecovered = 100.0
        public static let errorsStart = 95.0
        public static let errorsPeak = 115.0
        public static let errorsEase = 150.0
        public static let errorsRecovered = 175.0
        /// Peak replication lag of the incident, in seconds.
        public static let peakLagSeconds = 48.0
    }

    public init(topology: Topology, settings: SimulatorSettings, start: Timestamp) {
        self.topology = topology
        self.settings = settings
        self.start = start
        var random = SeededGenerator(seed: settings.seed)
        let lastIndex = topology.regions.count - 1
        regions = topology.regions.enumerated().map { index, configuration in
            SimulatedRegion(
                configuration: configuration,
                baseP50: 34 + Double(index % 5) * 6 + random.uniform(0...4),
                baseP99: 165 + Double(index % 5) * 22 + random.uniform(0...20),
                versions: settings.versions[configuration.name]
                    ?? Self.defaultVersions(isBehind: index == lastIndex && lastIndex > 0),
                backupCompletedAt: start.adding(seconds: -random.uniform(300...3300)),
                backupSizeBytes: 48.2 * 1_073_741_824 * random.uniform(0.97...1.03)
            )
        }
        let primaries = topology.regions.filter { $0.role == .primary }
        links = primaries.flatMap { primary in
            topology.regions.filter { $0.role != .primary && $0.name != primary.name }.map { standby in
                SimulatedLink(from: primary.name, to: standby.name, baseLag: random.uniform(0.3...0.9))
            }
        }
        self.random = random
    }

    static func defaultVersions(isBehind: Bool) -> [String: String] {
        [
            "api": isBehind ? "2.14.2" : "2.14.3",
            "checkout-worker": isBehind ? "2.14.2" : "2.14.3",
            "payments": "1.8.0",
        ]
    }

    /// The region whose replication lag the scripted incident raises (the last standby).
    public var lagIncidentRegion: String? { links.last?.to }
    /// The region whose errors and latency the scripted incident raises (the primary).
    public var errorIncidentRegion: String? { topology.primaryRegion?.name ?? topology.regions.first?.name }

    // MARK: Replaying

    /// Replays the demo deterministically into a fresh dashboard state: one step (and one tick)
    /// per second from `start` through `start + seconds`, applying `commands` at their second.
    /// Used for snapshots, tests and benchmarks; the same arguments always give the same state.
    ///
    /// - Parameter onRound: receives each step's events, in order.
    public static func replay(
        topology: Topology = .demo,
        settings: SimulatorSettings = SimulatorSettings(),
        start: Timestamp,
        seconds: Int,
        commands: [Int: ChaosCommand] = [:],
        onRound: ([DashboardEvent]) -> Void = { _ in }
    ) -> DashboardState {
        var simulation = DemoSimulation(topology: topology, settings: settings, start: start)
        var state = DashboardState(topology: topology, now: start)
        for second in 0...max(0, seconds) {
            let now = start.adding(seconds: Double(second))
            if let command = commands[second] { state.apply(contentsOf: simulation.apply(command, at: now)) }
            let events = simulation.step(at: now)
            onRound(events)
            state.apply(contentsOf: events)
            state.apply(.tick(now))
        }
        return state
    }

    // MARK: Stepping

    /// Advances the world to `now` and returns the observations a collector would publish.
    public mutating func step(at now: Timestamp) -> [DashboardEvent] {
        let elapsed = max(0, now.seconds(since: start))
        let cycle =
            settings.scriptedIncident ? elapsed.truncatingRemainder(dividingBy: settings.incidentRepeatSeconds) : -1
        var events: [DashboardEvent] = []
        if !hasAnnouncedStart {
            hasAnnouncedStart = true
            let script =
                settings.scriptedIncident
                ? "; scripted incident starts in \(Format.duration(Script.lagStarts)) and repeats every \(Format.duration(settings.incidentRepeatSeconds))"
                : ""
            events.append(
                .notice(
                    Notice(at: now, severity: .info, message: "demo simulator started (seed \(settings.seed))\(script)")
                ))
        }
        events += scriptNotices(cycle: cycle, elapsed: elapsed, at: now)

        let shares = effectiveTrafficShares()
        let wave = 1 + 0.15 * sin(2 * Double.pi * elapsed / 300)
        for index in regions.indices {
            events += stepRegion(at: index, share: shares[index], wave: wave, cycle: cycle, now: now)
        }
        for index in links.indices {
            events.append(.replication(stepLink(at: index, cycle: cycle, now: now)))
        }
        if let traces = makeTraces(shares: shares, now: now) {
            events.append(.spans(traces))
            if let logs = DemoTelemetry.logs(from: traces) { events.append(.logs(logs)) }
        }
        let samples = events.compactMap { if case .regionSample(let sample) = $0 { sample } else { nil } }
        if let metrics = DemoTelemetry.metrics(from: samples, source: settings.name) {
            events.append(.metrics(metrics))
        }
        if lastVersionsAt.map({ now.seconds(since: $0) >= 15 }) ?? true {
            lastVersionsAt = now
            for region in regions {
                events.append(
                    .versions(
                        VersionSample(
                            region: region.configuration.name, source: settings.name, observedAt: now,
                            versions: region.versions)))
            }
        }
        events.append(
            .collectorStatus(
                CollectorReport(
                    collector: settings.name, kind: "simulator", observedAt: now,
                    intervalSeconds: settings.intervalSeconds, regions: topology.regions.map(\.name)
                )))
        return events
    }

    private mutating func stepRegion(
        at index: Int, share: Double, wave: Double, cycle: Double, now: Timestamp
    ) -> [DashboardEvent] {
        var region = regions[index]
        defer { regions[index] = region }
        let name = region.configuration.name
        var events: [DashboardEvent] = []

        if let server = serverSample(for: region, at: now) { events.append(.server(server)) }
        if region.isDown {
            events.append(
                .regionSample(
                    RegionSample(
                        region: name, source: settings.name, observedAt: now, requestsPerSecond: 0, trafficShare: 0)))
            events.append(
                .probe(
                    ProbeResult(
                        region: name, source: settings.name, observedAt: now, isSuccess: false,
                        latencyMilliseconds: nil, message: "connection refused")))
        } else {
            // Error bursts: rare, short, a fraction of a percent to a percent.
            if region.burstRemaining <= 0, random.chance(0.004) {
                region.burstRemaining = random.uniform(4...12)
                region.burstMagnitude = random.uniform(0.004...0.012)
            }
            let burst = region.burstRemaining > 0 ? region.burstMagnitude : 0
            region.burstRemaining -= settings.intervalSeconds
            let incident = name == errorIncidentRegion ? Self.errorIncidentLevel(cycle: cycle) : 0

            let requests = settings.totalRequestsPerSecond * share * wave * (1 + 0.03 * random.normal())
            let errorRate = max(0.0002, 0.001 * (1 + 0.3 * random.normal())) + burst + 0.045 * incident
            region.currentErrorRate = errorRate
            region.currentLatencyFactor = (1 + 1.5 * incident) * (1 + 2 * burst * 10)
            let p50 = region.baseP50 * (1 + 0.06 * random.normal()) * (1 + 1.5 * incident)
            let p99 = max(
                p50 * 2, region.baseP99 * (1 + 0.08 * random.normal()) * (1 + 5 * incident) + 400 * burst * 10)
            region.currentP99 = p99
            region.currentIncident = incident
            if requests > 0.5 {
                events.append(
                    .regionSample(
                        RegionSample(
                            region: name, source: settings.name, observedAt: now,
                            requestsPerSecond: requests, errorRate: errorRate,
                            p50Milliseconds: p50, p99Milliseconds: p99, trafficShare: share
                        )))
            } else {
                events.append(
                    .regionSample(
                        RegionSample(
                            region: name, source: settings.name, observedAt: now, requestsPerSecond: 0, trafficShare: 0)
                    ))
            }
            let probeLatency = max(2, region.baseP50 * 0.4 * (1 + 0.1 * random.normal()) * (1 + incident))
            events.append(
                .probe(
                    ProbeResult(
                        region: name, source: settings.name, observedAt: now, isSuccess: true,
                        latencyMilliseconds: probeLatency, message: "HTTP 200")))
        }

        // Hourly backups of every database, with a size that grows slowly.
        if now.seconds(since: region.backupCompletedAt) >= 3600 {
            region.backupCompletedAt = now
            region.backupSizeBytes *= 1 + random.uniform(0.0005...0.002)
        }
        events.append(
            .backup(
                BackupSample(
                    region: name, source: settings.name, observedAt: now,
                    completedAt: region.backupCompletedAt, sizeBytes: region.backupSizeBytes.rounded(),
                    integrity: .passed
                )))
        return events
    }

    /// What the region's simulated database says about itself: primary (or fenced), standby,
    /// or unreachable while the region is down. Active regions have no database role.
    private func serverSample(for region: SimulatedRegion, at now: Timestamp) -> ServerSample? {
        let name = region.configuration.name
        let role: ServerRole
        switch region.configuration.role {
        case .primary: role = region.isFenced ? .fenced : .writable
        case .standby: role = .recovering
        default: return nil
        }
        if region.isDown {
            return ServerSample(region: name, source: settings.name, observedAt: now, unreachable: "connection refused")
        }
        let upstream = role == .recovering ? links.first { $0.to == name }?.from : nil
        return ServerSample(
            region: name, source: settings.name, observedAt: now,
            facts: ServerFacts(
                role: role, timeline: region.timeline, version: "15.8",
                receiver: upstream.map { WALReceiverFacts(status: "streaming", upstream: $0) },
                configuredUpstream: upstream
            ))
    }

    private mutating func stepLink(at index: Int, cycle: Double, now: Timestamp) -> ReplicationSample {
        var link = links[index]
        defer { links[index] = link }
        let sourceDown = regions.first { $0.configuration.name == link.from }?.isDown ?? false
        let targetDown = regions.first { $0.configuration.name == link.to }?.isDown ?? false
        if sourceDown {
            // The primary takes no writes while down: the standby is as far behind as it was.
            link.brokenSince = link.brokenSince ?? now
            return ReplicationSample(
                from: link.from, to: link.to, source: settings.name, observedAt: now, lagSeconds: link.lastLag,
                lagBytes: nil, state: .broken)
        }
        if targetDown {
            // The primary keeps writing: the standby falls further behind.
            let brokenSince = link.brokenSince ?? now
            link.brokenSince = brokenSince
            let lag = link.lastLag + now.seconds(since: brokenSince)
            return ReplicationSample(
                from: link.from, to: link.to, source: settings.name, observedAt: now, lagSeconds: lag, lagBytes: nil,
                state: .broken)
        }
        link.brokenSince = nil

        // A fenced source takes no more writes: what is in flight drains and the standby catches up.
        if regions.first(where: { $0.configuration.name == link.from })?.isFenced == true {
            let lag = link.lastLag < 0.3 ? 0 : link.lastLag * 0.3
            link.lastLag = lag
            return ReplicationSample(
                from: link.from, to: link.to, source: settings.name, observedAt: now, lagSeconds: lag,
                lagBytes: lag == 0 ? 0 : (lag * 1.8 * 1_048_576).rounded(), state: .streaming)
        }

        if link.spikeRemaining <= 0, random.chance(0.01) {
            link.spikeRemaining = random.uniform(3...8)
            link.spikeMagnitude = random.uniform(1.5...6)
        }
        let spike = link.spikeRemaining > 0 ? link.spikeMagnitude * sin(Double.pi * link.spikeRemaining / 8) : 0
        link.spikeRemaining -= settings.intervalSeconds
        let incident = link.to == lagIncidentRegion ? Self.lagIncidentSeconds(cycle: cycle) : 0
        var injected = 0.0
        if let injectedAt = link.injectedAt {
            injected = Self.injectedLag(elapsed: now.seconds(since: injectedAt), peak: link.injectedSeconds)
            if injected <= 0, now.seconds(since: injectedAt) > 10 { link.injectedAt = nil }
        }
        let lag = max(0.2, min(2, link.baseLag * (1 + 0.35 * random.normal()))) + max(0, spike) + incident + injected
        let falling = lag < link.lastLag - 0.5 && lag > 3
        link.lastLag = lag
        let bytesPerSecond = 1.8 * 1_048_576 * (1 + 0.1 * random.normal())
        return ReplicationSample(
            from: link.from, to: link.to, source: settings.name, observedAt: now,
            lagSeconds: lag, lagBytes: (lag * bytesPerSecond).rounded(), state: falling ? .catchingUp : .streaming
        )
    }

    // MARK: Traces

    /// This round's traces, spread over serving regions by traffic share.
    private mutating func makeTraces(shares: [Double], now: Timestamp) -> SpanBatch? {
        guard settings.tracesPerSecond > 0 else { return nil }
        let expected = settings.tracesPerSecond * settings.intervalSeconds
        var count = Int(expected.rounded(.down))
        if random.unit() < expected - Double(count) { count += 1 }
        guard count > 0 else { return nil }
        let primary = topology.primaryRegion
        var builder = TraceGenerator.BatchBuilder()
        for _ in 0..<count {
            // Pick a serving region by share.
            var pick = random.unit()
            var chosen: Int?
            for (index, share) in shares.enumerated() where share > 0 {
                chosen = index
                pick -= share
                if pick < 0 { break }
            }
            guard let index = chosen else { return nil }
            let region = regions[index]
            var conditions = TraceGenerator.RegionConditions(
                region: region.configuration, versions: region.versions, latencyFactor: region.currentLatencyFactor,
                errorRate: region.currentErrorRate)
            conditions.p99Milliseconds = region.currentP99
            conditions.incident = region.currentIncident
            let end = now.adding(seconds: -random.uniform(0...settings.intervalSeconds))
            TraceGenerator.addTrace(to: &builder, conditions: conditions, primary: primary, end: end, random: &random)
        }
        return builder.batch(source: settings.name, at: now)
    }

    // MARK: Chaos

    /// Applies a demo-only disturbance and returns a notice describing it.
    public mutating func apply(_ command: ChaosCommand, at now: Timestamp) -> [DashboardEvent] {
        switch command {
        case .takeDown(let name):
            guard let index = regions.firstIndex(where: { $0.configuration.name == name }) else { return [] }
            regions[index].isDown = true
            return [
                .notice(Notice(at: now, severity: .critical, region: name, message: "demo chaos: \(name) taken down"))
            ]
        case .injectLag(let name, let seconds):
            guard let index = links.firstIndex(where: { $0.to == name }) else {
                return [
                    .notice(
                        Notice(
                            at: now, severity: .info, region: name,
                            message: "demo chaos: \(name) has no inbound replication to delay"))
                ]
            }
            links[index].injectedAt = now
            links[index].injectedSeconds = seconds
            return [
                .notice(
                    Notice(
                        at: now, severity: .warning, region: name,
                        message: "demo chaos: replication into \(name) delayed by about \(Format.duration(seconds))"))
            ]
        case .recover(let name):
            guard let index = regions.firstIndex(where: { $0.configuration.name == name }) else { return [] }
            regions[index].isDown = false
            for linkIndex in links.indices where links[linkIndex].to == name {
                links[linkIndex].injectedAt = nil
            }
            return [.notice(Notice(at: now, severity: .info, region: name, message: "demo chaos: \(name) recovered"))]
        case .fence(let name):
            guard let index = regions.firstIndex(where: { $0.configuration.name == name }) else { return [] }
            regions[index].isFenced = true
            return [
                .notice(
                    Notice(
                        at: now, severity: .warning, region: name,
                        message: "demo failover: \(name) fenced, refusing writes"))
            ]
        case .unfence(let name):
            guard let index = regions.firstIndex(where: { $0.configuration.name == name }) else { return [] }
            regions[index].isFenced = false
            return [
                .notice(
                    Notice(
                        at: now, severity: .info, region: name, message: "demo roll back: \(name) takes writes again"))
            ]
        case .promote(let name):
            guard let target = regions.firstIndex(where: { $0.configuration.name == name }) else { return [] }
            for index in regions.indices where regions[index].configuration.role == .primary {
                regions[index].configuration.role = .standby
            }
            regions[target].configuration.role = .primary
            regions[target].isFenced = false
            let timeline = (regions.map(\.timeline).max() ?? 1) + 1
            for index in regions.indices where regions[index].configuration.role != .active {
                regions[index].timeline = timeline
            }
            var random = self.random
            links = regions.filter { $0.configuration.name != name }.map { other in
                let previous = links.first { $0.to == other.configuration.name }
                return SimulatedLink(
                    from: name, to: other.configuration.name, baseLag: previous?.baseLag ?? random.uniform(0.3...0.9))
            }
            self.random = random
            return [
                .notice(
                    Notice(
                        at: now, severity: .warning, region: name, message: "demo failover: \(name) promoted to primary"
                    ))
            ]
        case .shiftTraffic(let from, let to):
            guard let source = regions.firstIndex(where: { $0.configuration.name == from }),
                let target = regions.firstIndex(where: { $0.configuration.name == to }), source != target
            else { return [] }
            regions[target].configuration.trafficPercent += regions[source].configuration.trafficPercent
            regions[source].configuration.trafficPercent = 0
            return [
                .notice(
                    Notice(
                        at: now, severity: .info, region: to,
                        message: "demo failover: traffic of \(from) shifted to \(to)"))
            ]
        }
    }

    // MARK: Model pieces

    /// Traffic shares after removing regions that are down (a health-checked global traffic
    /// manager moves their share to the others, in proportion).
    func effectiveTrafficShares() -> [Double] {
        let configured = regions.map { $0.isDown ? 0 : max(0, $0.configuration.trafficPercent) }
        let total = configured.reduce(0, +)
        guard total > 0 else { return configured.map { _ in 0 } }
        return configured.map { $0 / total }
    }

    /// 0...1: how far into the error/latency part of the incident `cycle` seconds is.
    static func errorIncidentLevel(cycle: Double) -> Double {
        switch cycle {
        case Script.errorsStart..<Script.errorsPeak:
            (cycle - Script.errorsStart) / (Script.errorsPeak - Script.errorsStart)
        case Script.errorsPeak..<Script.errorsEase: 1
        case Script.errorsEase..<Script.errorsRecovered:
            1 - (cycle - Script.errorsEase) / (Script.errorsRecovered - Script.errorsEase)
        default: 0
        }
    }

    /// Extra replication lag (seconds) of the incident at `cycle` seconds.
    static func lagIncidentSeconds(cycle: Double) -> Double {
        switch cycle {
        case Script.lagStarts..<Script.lagPeaks:
            let progress = (cycle - Script.lagStarts) / (Script.lagPeaks - Script.lagStarts)
            return Script.peakLagSeconds * pow(progress, 1.5)
        case Script.lagPeaks..<Script.lagRecovered:
            let progress = (cycle - Script.lagPeaks) / (Script.lagRecovered - Script.lagPeaks)
            return Script.peakLagSeconds * (1 - progress) * (1 - progress)
        default:
            return 0
        }
    }

    /// Injected lag: rises over 10 s, holds 30 s, falls over 20 s.
    static func injectedLag(elapsed: Double, peak: Double) -> Double {
        switch elapsed {
        case ..<0: 0
        case ..<10: peak * elapsed / 10
        case ..<40: peak
        case ..<60: peak * (60 - elapsed) / 20
        default: 0
        }
    }

    private mutating func scriptNotices(cycle: Double, elapsed: Double, at now: Timestamp) -> [DashboardEvent] {
        guard cycle >= 0 else { return [] }
        let round = Int(elapsed / settings.incidentRepeatSeconds)
        var beats: [(Double, String, NoticeSeverity, String?)] = []
        if let lagRegion = lagIncidentRegion {
            beats.append(
                (Script.lagStarts, "demo script: replication into \(lagRegion) starts falling behind", .info, lagRegion)
            )
        }
        if let errorRegion = errorIncidentRegion {
            beats.append(
                (Script.errorsStart, "demo script: \(errorRegion) errors and latency start rising", .info, errorRegion))
            beats.append((Script.errorsRecovered, "demo script: incident over, all regions recovering", .info, nil))
        }
        var events: [DashboardEvent] = []
        for (offset, message, severity, region) in beats
        where cycle >= offset && cycle < offset + 2 * settings.intervalSeconds + 1 {
            let key = "\(round):\(offset)"
            guard !announcedBeats.contains(key) else { continue }
            announcedBeats.insert(key)
            if announcedBeats.count > 64 {
                announcedBeats.removeAll()
                announcedBeats.insert(key)
            }
            events.append(.notice(Notice(at: now, severity: severity, region: region, message: message)))
        }
        return events
    }
}

/// Mutable per-region model state.
struct SimulatedRegion: Sendable {
    var configuration: RegionConfiguration
    var isFenced = false
    /// The simulated database's timeline: a promotion starts a new one.
    var timeline = 1
    let baseP50: Double
    let baseP99: Double
    var versions: [String: String]
    var backupCompletedAt: Timestamp
    var backupSizeBytes: Double
    var isDown = false
    var burstRemaining = 0.0
    var burstMagnitude = 0.0
    var currentErrorRate = 0.001
    var currentLatencyFactor = 1.0
    /// The p99 latency the region reports now, and how deep it is in the scripted incident
    /// (0–1): traces follow both, so the slow tail the metrics show is in the trace list.
    var currentP99 = 0.0
    var currentIncident = 0.0

    init(
        configuration: RegionConfiguration, baseP50: Double, baseP99: Double, versions: [String: String],
        backupCompletedAt: Timestamp, backupSizeBytes: Double
    ) {
        self.configuration = configuration
        self.baseP50 = baseP50
        self.baseP99 = baseP99
        self.versions = versions
        self.backupCompletedAt = backupCompletedAt
        self.backupSizeBytes = backupSizeBytes
    }
}

/// Mutable per-link model state.
struct SimulatedLink: Sendable {
    let from: String
    let to: String
    let baseLag: Double
    var lastLag = 0.5
    var spikeRemaining = 0.0
    var spikeMagnitude = 0.0
    var injectedAt: Timestamp?
    var injectedSeconds = 0.0
    var brokenSince: Timestamp?

    init(from: String, to: String, baseLag: Double) {
        self.from = from
        self.to = to
        self.baseLag = baseLag
    }
}
