/// The whole domain state of the dashboard: a value changed only by `apply(_:)`.
///
/// Pure and synchronous: no I/O, no clock reads. Time enters through `.tick` events and the
/// timestamps carried by observations. Stores inside it are bounded.
public struct DashboardState: Sendable {
    public let topology: Topology
    /// The latest time the state has been told about.
    public private(set) var now: Timestamp
    /// Regions in configuration order.
    public internal(set) var regions: [RegionState]
    /// Replication links in first-seen order; a link nobody observes any more, from a server
    /// that is no longer the primary, is removed.
    public internal(set) var replicationLinks: [ReplicationLinkState] = []
    /// The topology's current primary, and split brain when more than one region takes writes.
    public internal(set) var primary = PrimaryStatus()
    /// Collectors by name, in first-seen order.
    public private(set) var collectors: [CollectorState] = []
    /// Recent notices, oldest first, bounded.
    public internal(set) var recentNotices: RingBuffer<Notice>
    public private(set) var ingest = IngestMeter()
    public private(set) var bus = BusStatistics(droppedEvents: 0, publishedEvents: 0)
    public internal(set) var failover = FailoverStatus()
    /// Observations for regions not in the configuration, by region name: one cap for every
    /// source (samples, probes, replication, spans), the stalest name forgotten beyond it.
    public private(set) var unknownRegions = RecencyBoundedMap<String, Int>(
        capacity: DashboardState.unknownRegionNameLimit)
    /// Recent traces, bounded.
    public private(set) var traces: TraceStore
    /// Rates, errors and latency per region derived from entry spans.
    public private(set) var spanSignals = SpanSignalWindow()
    /// Latency between regions measured from cross-region parent/child spans.
    public private(set) var hopLatencies = HopLatencyMatrix()
    /// Span receivers' counters, by receiver name.
    public private(set) var receivers: [String: ReceiverStatistics] = [:]
    /// Spans applied per second.
    public private(set) var spanIngest = IngestMeter()
    /// Recent log records, bounded.
    public private(set) var logs: LogStore
    /// Log records and log errors per second per region.
    public private(set) var logRates = LogRateWindow()
    /// Log records applied per second.
    public private(set) var logIngest = IngestMeter()
    /// Received OTLP metric series, bounded.
    public private(set) var metrics = MetricCatalog()

    /// While a batch of events is applied: what to reassess once it is in.
    var pendingReassessment: PendingReassessment?
    var regionIndex: [String: Int]
    var linkIndex: [LinkKey: Int] = [:]
    /// Positions in `replicationLinks` of the links into each region.
    var inboundIndex: [String: [Int]] = [:]
    private var collectorIndex: [String: Int] = [:]
    let evaluator: HealthEvaluator
    /// Stale threshold for a source before its collector has reported an interval.
    public static let defaultIntervalSeconds = StalenessRule.defaultIntervalSeconds
    /// When data from each source is stale.
    public private(set) var staleness: StalenessRule
    /// Most names of regions outside the configuration remembered at once (all sources).
    public static let unknownRegionNameLimit = 64

    /// What to reassess: some regions' health, or the topology (roles, links) as well.
    struct PendingReassessment: Sendable {
        var cause: Timestamp?
        var regions: Set<String> = []
        var topology = false
        var everyRegion = false

        mutating func merge(_ other: PendingReassessment) {
            if let time = other.cause { cause = max(cause ?? time, time) }
            regions.formUnion(other.regions)
            topology = topology || other.topology
            everyRegion = everyRegion || other.everyRegion
        }
    }

    struct LinkKey: Hashable, Sendable {
        var from: String
        var to: String
    }

    public init(
        topology: Topology, now: Timestamp, noticeCapacity: Int = 200,
        traceLimits: TraceStoreLimits = TraceStoreLimits(), logLimits: LogStoreLimits = LogStoreLimits()
    ) {
        self.topology = topology
        self.now = now
        traces = TraceStore(limits: traceLimits, reservedRegions: topology.regions.map(\.name))
        logs = LogStore(limits: logLimits, reservedRegions: topology.regions.map(\.name))
        regions = topology.regions.map(RegionState.init(configuration:))
        regionIndex = Dictionary(uniqueKeysWithValues: topology.regions.enumerated().map { ($1.name, $0) })
        recentNotices = RingBuffer(capacity: noticeCapacity)
        evaluator = HealthEvaluator(thresholds: topology.thresholds, objectives: topology.objectives)
        staleness = StalenessRule(
            staleAfterIntervals: topology.thresholds.staleAfterIntervals,
            spanWindowSeconds: Double(SpanSignalWindow().windowSeconds))
    }

    // MARK: Reading

    /// The region called `name`, if configured.
    public func region(named name: String) -> RegionState? {
        regionIndex[name].map { regions[$0] }
    }

    /// The replication link that feeds `region`: from the server it follows (its own view),
    /// else from the current primary, else the most recently observed link into it. Empty for
    /// a region nothing replicates into.
    public func inboundLinks(of region: String) -> [ReplicationLinkState] {
        upstreamLinkIndex(of: region).map { [replicationLinks[$0]] } ?? []
    }

    /// Replication links that touch `region` at either end.
    public func links(touching region: String) -> [ReplicationLinkState] {
        replicationLinks.filter { $0.to == region || $0.from == region }
    }

    /// The collector called `name`, if it has reported.
    public func collector(named name: String) -> CollectorState? {
        collectorIndex[name].map { collectors[$0] }
    }

    /// Seconds after which data from `source` is stale: `staleAfterIntervals` × its interval.
    /// Span-derived signals ("COLLECTOR/spans") are stale after their collector's threshold, and
    /// never before the span window has passed.
    public func staleAfter(source: String?) -> Double {
        staleness.staleAfter(source)
    }

    /// Suffix of the source name of signals derived from spans.
    public static let spanSourceSuffix = StalenessRule.spanSourceSuffix

    /// Whether `region` is in the configuration.
    public func isConfigured(region: String) -> Bool { regionIndex[region] != nil }

    /// What is known of `region`'s replication from the server it follows, or `nil` for a
    /// region that replicates from nobody (a primary, a fenced former primary, a source).
    public func replicationLag(of region: String) -> ReplicationReading? {
        guard let state = self.region(named: region), state.role != .primary, state.role != .fenced else { return nil }
        return inboundLinks(of: region).first?.reading
    }

    /// A copy for readers on other threads (failover gates and steps): regions, links,
    /// collectors and failover facts, without the trace store and span windows. Sharing those
    /// would make the next span batch copy the whole store (copy-on-write), once per publish.
    public func snapshotWithoutTraces() -> DashboardState {
        var copy = self
        copy.traces = TraceStore(limits: traces.limits)
        copy.spanSignals = SpanSignalWindow(windowSeconds: spanSignals.windowSeconds)
        copy.hopLatencies = HopLatencyMatrix()
        copy.logs = LogStore(limits: logs.limits)
        return copy
    }

    /// The attempt that stopped half-way, as it stands: which steps ran, and each touched
    /// region's role as the collectors see it now. `nil` when nothing is unresolved.
    public var unresolvedFailover: UnresolvedFailover? {
        // The running machine's, else what the audit log says (a fresh process).
        guard let attempt = failover.machine.unresolved ?? failover.history.unresolved else { return nil }
        let request = attempt.request
        // A step that started and never recorded its end (a crash) may have run.
        let done = attempt.steps.compactMap { step -> String? in
            if [.succeeded, .warning].contains(step.outcome) { return step.name }
            return step.startedAt != nil && step.outcome == nil ? step.name + " (started, end unknown)" : nil
        }
        let regions = [request.from, request.to].map { name in
            UnresolvedFailover.RegionRoleNow(
                region: name, role: region(named: name).map(\.roleDescription) ?? "unknown")
        }
        return UnresolvedFailover(attempt: attempt, stepsDone: done, regionRoles: regions)
    }

    /// This state with `live`'s failover facts: a paused display still shows the failover
    /// dialog and a running attempt as they are now.
    public func showingFailover(of live: DashboardState) -> DashboardState {
        var shown = self
        shown.failover = live.failover
        return shown
    }

    /// Regions that are not in the configuration but were named by observations.
    public var unknownRegionCount: Int { unknownRegions.count }

    /// Every store whose keys come from outside, with its fill, capacity and what it forgot
    /// (regions and links are bounded by the configuration; collectors and receivers by name).
    public var storeBounds: [StoreBound] {
        [
            StoreBound(
                name: "unknown region names", count: unknownRegions.count, capacity: unknownRegions.capacity,
                forgotten: unknownRegions.forgottenCount),
            StoreBound(
                name: "notices", count: recentNotices.count, capacity: recentNotices.capacity,
                forgotten: recentNotices.evictedCount),
            traces.spanBound,
            traces.regionBound,
            spanSignals.bound,
            hopLatencies.bound,
            logs.recordBound,
            logRates.bound,
            metrics.bound,
        ]
            + regions.map { region in
                StoreBound(
                    name: "services in \(region.name)", count: region.versions.count,
                    capacity: region.versions.capacity, forgotten: region.versions.forgottenCount)
            }
    }

    /// Observations per unknown region name, for the names remembered now.
    public var unknownRegionObservations: [String: Int] { unknownRegions.dictionary }

    // MARK: Changing

    /// Applies one event. The only way the state changes.
    public mutating func apply(_ event: DashboardEvent) {
        switch event {
        case .tick(let timestamp):
            if timestamp > now { now = timestamp }
            ingest.advance(to: now)
            spanIngest.advance(to: now)
            logIngest.advance(to: now)
            applySpanSignals()
            applyLogRates()
            requestReassessment(PendingReassessment(cause: nil, regions: [], topology: true, everyRegion: true))
            return
        case .spans(let batch):
            applySpans(batch)
        case .logs(let batch):
            applyLogs(batch)
        case .metrics(let batch):
            metrics.apply(batch)
            return
        case .receiverStatistics(let statistics):
            receivers[statistics.receiver] = statistics
            return
        case .failoverProgress(let progress):
            let previous = failover.progress.machine.state
            failover.progress = progress
            if previous != progress.machine.state, let attempt = progress.machine.attempt,
                progress.machine.state != .steady
            {
                let severity: NoticeSeverity =
                    switch progress.machine.state {
                    case .failed, .refused: .critical
                    case .aborted, .executing: .warning
                    default: .info
                    }
                addNotice(
                    Notice(
                        at: now, severity: severity, region: attempt.request.to,
                        message: "\(attempt.request.title): \(progress.machine.state.name)"))
            }
            if let attempt = progress.machine.attempt, attempt.request.kind != .drill,
                attempt.steps.contains(where: {
                    $0.outcome == .warning && ["postgres-fence", "simulated"].contains($0.kind)
                })
            {
                failover.noteNotFenced(attempt.request.from, attemptID: attempt.request.id, at: now)
                resolveNotFenced()
            }
            return
        case .failoverHistory(let history, let isReadOnly):
            failover.history = history
            failover.isReadOnly = isReadOnly
            // Only the newest completed move can have left its old primary unfenced: a later one
            // (a failback) supersedes it.
            if let latest = history.lastFailover, let region = latest.notFenced {
                failover.noteNotFenced(region, attemptID: latest.id, at: latest.at)
            }
            resolveNotFenced()
            return
        case .regionSample(let sample):
            applyRegionSample(sample)
        case .probe(let result):
            withRegion(result.region, observedAt: result.observedAt, source: result.source) { $0.recordProbe(result) }
        case .replication(let sample):
            applyReplication(sample)
        case .server(let sample):
            applyServer(sample)
        case .backup(let sample):
            withRegion(sample.region, observedAt: sample.observedAt, source: sample.source) { region in
                if region.backup.map({ sample.completedAt >= $0.completedAt }) ?? true { region.backup = sample }
            }
        case .versions(let sample):
            withRegion(sample.region, observedAt: sample.observedAt, source: sample.source) { region in
                if region.versionsObservedAt.map({ sample.observedAt >= $0 }) ?? true {
                    region.replaceVersions(with: sample.versions)
                    region.versionsObservedAt = sample.observedAt
                }
            }
        case .collectorStatus(let report):
            applyCollectorReport(report)
        case .notice(let notice):
            addNotice(notice)
        case .busStatistics(let statistics):
            bus = statistics
            return
        }
        ingest.count(at: now)
    }

    /// Applies events in order, then reassesses roles, links and health once for the batch
    /// (the same result as one at a time, without re-deriving the topology per event).
    public mutating func apply<Events: Sequence>(contentsOf events: Events) where Events.Element == DashboardEvent {
        let isOutermost = pendingReassessment == nil
        if isOutermost { pendingReassessment = PendingReassessment() }
        for event in events { apply(event) }
        guard isOutermost, let pending = pendingReassessment else { return }
        pendingReassessment = nil
        perform(pending)
    }

    /// Reassesses now, or once the batch being applied is in.
    mutating func requestReassessment(_ request: PendingReassessment) {
        if pendingReassessment != nil {
            pendingReassessment?.merge(request)
        } else {
            perform(request)
        }
    }

    private mutating func perform(_ request: PendingReassessment) {
        if request.topology {
            reassessTopology(cause: request.cause, affected: request.everyRegion ? nil : request.regions)
        } else {
            for name in request.regions.sorted() {
                if let index = regionIndex[name] { reassess(regionAt: index, at: request.cause ?? now) }
            }
        }
    }

    private mutating func applyRegionSample(_ sample: RegionSample) {
        withRegion(sample.region, observedAt: sample.observedAt, source: sample.source) { region in
            let at = sample.observedAt
            let source = sample.source
            if let value = sample.requestsPerSecond { region.requestsPerSecond.record(value, at: at, source: source) }
            // Error rate and latency are explicitly unknown when there is no traffic.
            if sample.requestsPerSecond == 0 {
                region.errorRate.record(nil, at: at, source: source)
                region.p50Milliseconds.record(nil, at: at, source: source)
                region.p99Milliseconds.record(nil, at: at, source: source)
            }
            if let value = sample.errorRate { region.errorRate.record(value, at: at, source: source) }
            if let value = sample.p50Milliseconds { region.p50Milliseconds.record(value, at: at, source: source) }
            if let value = sample.p99Milliseconds { region.p99Milliseconds.record(value, at: at, source: source) }
            if let value = sample.trafficShare { region.trafficShare.record(value, at: at, source: source) }
        }
    }

    private mutating func applySpans(_ batch: SpanBatch) {
        let outcome = traces.insert(batch)
        spanIngest.count(batch.spans.count, at: now)
        let source = batch.source + Self.spanSourceSuffix
        spanSignals.record(outcome.entrySpans, at: batch.receivedAt, source: source)
        for hop in outcome.hops { hopLatencies.record(hop) }
        for (region, versions) in outcome.versions {
            guard let index = regionIndex[region] else { continue }
            regions[index].recordVersions(versions)
            regions[index].versionsObservedAt = max(
                regions[index].versionsObservedAt ?? batch.receivedAt, batch.receivedAt)
        }
        // In first-seen order: which names a full cap keeps must not depend on hashing.
        var noted: Set<String> = []
        for resource in batch.resources
        where regionIndex[resource.region] == nil && resource.region != SpanResource.unknownRegion {
            if noted.insert(resource.region).inserted { noteUnknownRegion(resource.region) }
        }
    }

    private mutating func applyLogs(_ batch: LogBatch) {
        let outcome = logs.insert(batch)
        logIngest.count(batch.records.count, at: now)
        let source = batch.source + Self.logSourceSuffix
        for (region, records) in outcome.recordsByRegion.sorted(by: { $0.key < $1.key }) {
            logRates.record(
                region: region, records: records, errors: outcome.errorsByRegion[region] ?? 0, at: batch.receivedAt,
                source: source)
            if regionIndex[region] != nil {
                withRegion(region, observedAt: batch.receivedAt, source: source) { _ in }
            } else if region != SpanResource.unknownRegion {
                noteUnknownRegion(region)
            }
        }
    }

    /// Writes each configured region's log error rate (records of level ERROR or above per
    /// second over the window), once it has received logs.
    private mutating func applyLogRates() {
        for index in regions.indices {
            guard let figures = logRates.figures(for: regions[index].name, at: now) else { continue }
            regions[index].logErrorsPerSecond.record(figures.errorsPerSecond, at: now, source: figures.source)
            regions[index].logRecordsPerSecond = figures.recordsPerSecond
        }
    }

    /// Suffix of the source name of signals derived from logs.
    public static let logSourceSuffix = StalenessRule.logSourceSuffix

    /// Writes span-derived figures into regions whose signal has no fresher non-span source.
    private mutating func applySpanSignals() {
        for index in regions.indices {
            guard let figures = spanSignals.figures(for: regions[index].name, at: now) else { continue }
            let source = figures.source
            let at = figures.observedAt
            func mayWrite(_ signal: Signal) -> Bool {
                guard let current = signal.source, current != source else { return true }
                return (signal.age(at: now) ?? .infinity) > staleAfter(source: current)
            }
            var region = regions[index]
            if mayWrite(region.requestsPerSecond) {
                region.requestsPerSecond.record(figures.requestsPerSecond, at: at, source: source)
            }
            if mayWrite(region.errorRate) { region.errorRate.record(figures.errorRate, at: at, source: source) }
            if mayWrite(region.p50Milliseconds) {
                region.p50Milliseconds.record(figures.p50Milliseconds, at: at, source: source)
            }
            if mayWrite(region.p99Milliseconds) {
                region.p99Milliseconds.record(figures.p99Milliseconds, at: at, source: source)
            }
            region.noteObservation(at: at, source: source)
            regions[index] = region
        }
    }

    private mutating func applyCollectorReport(_ report: CollectorReport) {
        staleness.intervals[report.collector] = report.intervalSeconds
        let index: Int
        if let existing = collectorIndex[report.collector] {
            index = existing
        } else {
            index = collectors.count
            collectorIndex[report.collector] = index
            collectors.append(CollectorState(report: report))
        }
        let previous = collectors[index]
        collectors[index].record(report)
        let notice = { (severity: NoticeSeverity, text: String) in
            Notice(at: report.observedAt, severity: severity, message: "collector \(report.collector)\(text)")
        }
        if let rejection = report.rejection, rejection != previous.lastRejection {
            addNotice(notice(.warning, " rejected: \(rejection)"))
        }
        if let error = report.error, error != previous.lastError || previous.consecutiveFailures == 0 {
            addNotice(notice(.warning, ": \(error)"))
        } else if report.error == nil, previous.consecutiveFailures > 0 {
            addNotice(notice(.info, " recovered"))
        }
    }

    mutating func withRegion(
        _ name: String, observedAt: Timestamp, source: String, _ change: (inout RegionState) -> Void
    ) {
        guard let index = regionIndex[name] else {
            noteUnknownRegion(name)
            return
        }
        change(&regions[index])
        regions[index].noteObservation(at: observedAt, source: source)
        requestReassessment(PendingReassessment(cause: observedAt, regions: [name]))
    }

    /// Keeps `notice` among the recent ones in time order (a collector's report can carry an
    /// earlier time than a notice already kept).
    mutating func addNotice(_ notice: Notice) {
        recentNotices.insert(notice) { $0.at < $1.at }
    }

    /// Counts an observation for a region outside the configuration. The first names each get a
    /// notice; once the cap is reached one notice says so, so churning names cannot push the
    /// operator's notices out.
    mutating func noteUnknownRegion(_ name: String) {
        let isNew = unknownRegions[name] == nil
        let forgotten = unknownRegions.update(name, default: 0) { $0 += 1 }
        if isNew, unknownRegions.forgottenCount == 0 {
            addNotice(
                Notice(
                    at: now, severity: .warning, region: name,
                    message: "observation for region \(name), which is not in the configuration"))
        }
        if forgotten != nil, unknownRegions.forgottenCount == 1 {
            let message =
                "more than \(Self.unknownRegionNameLimit) regions outside the configuration report: the stalest names are forgotten (counted in status --json)"
            addNotice(Notice(at: now, severity: .warning, message: message))
        }
    }

    func noticeSeverity(for health: Health) -> NoticeSeverity {
        switch health {
        case .ok: .info
        case .degraded, .stale: .warning
        case .down: .critical
        }
    }
}
