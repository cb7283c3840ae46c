import Testing
@testable import RegionWatchCore

@Suite("DashboardState reducer")
struct DashboardStateTests {
    typealias F = Fixture

    @Test func sampleUpdatesSignalsAndFreshness() {
        var state = DashboardState(topology: F.topology, now: F.t0)
        state.apply(F.sample(2, rps: 250, errorRate: 0.004, p99: 180, share: 1))
        let region = state.regions[0]
        #expect(region.requestsPerSecond.latest == 250)
        #expect(region.errorRate.latest == 0.004)
        #expect(region.p99Milliseconds.latest == 180)
        #expect(region.trafficShare.latest == 1)
        #expect(region.newestObservation == F.at(2))
        #expect(region.sources == ["sim"])
        state.apply(.tick(F.at(5)))
        #expect(region.dataAge(at: state.now) == 3)
    }

    @Test func noTrafficMakesErrorRateAndLatencyUnknownNotZero() {
        var state = F.healthyState()
        state.apply(F.sample(1, rps: 0, errorRate: nil, p99: nil))
        #expect(state.regions[0].errorRate.latest == nil)
        #expect(state.regions[0].p99Milliseconds.latest == nil)
        #expect(state.regions[0].requestsPerSecond.latest == 0)
    }

    @Test func lateSampleNeverOverwritesNewerTruth() {
        var state = DashboardState(topology: F.topology, now: F.t0)
        state.apply(F.sample(5, errorRate: 0.002))
        state.apply(F.sample(3, errorRate: 0.5))
        #expect(state.regions[0].errorRate.latest == 0.002)
        state.apply(F.replication(5, lag: 1))
        state.apply(F.replication(4, lag: 40))
        #expect(state.replicationLinks[0].lagSeconds.latest == 1)
    }

    @Test func tickNeverMovesTimeBackwards() {
        var state = DashboardState(topology: F.topology, now: F.at(10))
        state.apply(.tick(F.at(5)))
        #expect(state.now == F.at(10))
    }

    @Test func eventsAreKeptInTimeOrderWhenTheyArriveOutOfOrder() {
        var state = DashboardState(topology: F.topology, now: F.t0, noticeCapacity: 4)
        for second in [19.0, 17, 18, 20, 16, 21] {
            state.apply(.notice(Notice(at: F.at(second), severity: .info, message: "at \(Int(second))")))
        }
        #expect(state.recentNotices.elements.map(\.message) == ["at 18", "at 19", "at 20", "at 21"])
        #expect(state.recentNotices.evictedCount == 2)
        // Equal times keep their arrival order.
        state.apply(.notice(Notice(at: F.at(21), severity: .info, message: "also at 21")))
        #expect(state.recentNotices.elements.map(\.message).suffix(2) == ["at 21", "also at 21"])
    }

    @Test func unknownRegionsAreCountedBoundedAndNoticedOnce() {
        var state = DashboardState(topology: F.topology, now: F.t0)
        state.apply(F.sample("mars-1", 1))
        state.apply(F.sample("mars-1", 2))
        #expect(state.unknownRegionObservations == ["mars-1": 2])
        #expect(state.recentNotices.elements.filter { $0.message.contains("mars-1") }.count == 1)
        for index in 0..<200 { state.apply(F.sample("unknown-\(index)", 1)) }
        #expect(state.unknownRegionCount == DashboardState.unknownRegionNameLimit)
        #expect(
            state.unknownRegions.forgottenCount == 201 - DashboardState.unknownRegionNameLimit,
            "the stalest names are forgotten")
        #expect(state.unknownRegionObservations["unknown-199"] == 1 && state.unknownRegionObservations["mars-1"] == nil)
    }

    @Test func healthTransitionsBecomeNoticesButFirstDataDoesNot() {
        var state = F.healthyState()
        #expect(state.recentNotices.isEmpty)
        state.apply(F.sample(1, errorRate: 0.03))
        let notice = state.recentNotices.last
        #expect(notice?.message == "primary-1 OK → DEGRADED: error rate 3.0% ≥ 1.0%")
        #expect(notice?.severity == .warning)
        state.apply(F.sample(2, errorRate: 0.001))
        #expect(state.recentNotices.last?.message == "primary-1 DEGRADED → OK")
    }

    @Test func observedRoleChangeIsApplied() {
        var state = F.healthyState()
        state.apply(F.server("standby-1", 1, role: .writable, at: 100))
        #expect(state.region(named: "standby-1")?.role == .primary)
        #expect(state.recentNotices.elements.contains { $0.message == "standby-1 role: standby → primary" })
    }

    @Test func replicationStateChangesAreNoticed() {
        var state = F.healthyState()
        state.apply(F.replication(1, lag: 5, state: .broken))
        #expect(
            state.recentNotices.elements.contains {
                $0.message == "replication primary-1 → standby-1: streaming → broken" && $0.severity == .critical
            })
        #expect(state.links(touching: "primary-1").count == 1)
        #expect(state.inboundLinks(of: "primary-1").isEmpty)
    }

    @Test func collectorErrorsAreRecordedAndNoticedOnChange() {
        var state = F.healthyState()
        state.apply(F.collector(1, error: "connection refused"))
        state.apply(F.collector(2, error: "connection refused"))
        let collector = state.collector(named: "sim")!
        #expect(collector.lastError == "connection refused")
        #expect(collector.consecutiveFailures == 2)
        #expect(collector.lastSuccessAt == F.at(0))
        #expect(state.recentNotices.elements.filter { $0.message == "collector sim: connection refused" }.count == 1)
        state.apply(F.collector(3))
        #expect(state.collector(named: "sim")?.consecutiveFailures == 0)
        #expect(state.recentNotices.last?.message == "collector sim recovered")
    }

    @Test func busStatisticsAndIngestRate() {
        var state = DashboardState(topology: F.topology, now: F.t0)
        for second in 0..<6 {
            state.apply(.tick(F.at(Double(second))))
            for _ in 0..<4 { state.apply(F.sample(Double(second))) }
        }
        state.apply(.tick(F.at(6)))
        #expect(state.ingest.eventsPerSecond == 4)
        state.apply(.busStatistics(BusStatistics(droppedEvents: 7, publishedEvents: 100)))
        #expect(state.bus.droppedEvents == 7)
    }

    @Test func noticesAreBounded() {
        var state = DashboardState(topology: F.topology, now: F.t0, noticeCapacity: 5)
        for index in 0..<20 { state.apply(.notice(Notice(at: F.t0, severity: .info, message: "n\(index)"))) }
        #expect(state.recentNotices.elements.map(\.message) == ["n15", "n16", "n17", "n18", "n19"])
    }

    @Test func backupAndVersionsKeepNewest() {
        var state = DashboardState(topology: F.topology, now: F.t0)
        state.apply(
            .backup(
                BackupSample(
                    region: "primary-1", source: "sim", observedAt: F.at(1), completedAt: F.at(-100), sizeBytes: 5,
                    integrity: .passed)))
        state.apply(
            .backup(
                BackupSample(
                    region: "primary-1", source: "sim", observedAt: F.at(2), completedAt: F.at(-200), sizeBytes: 4,
                    integrity: .passed)))
        #expect(state.regions[0].backup?.completedAt == F.at(-100))
        state.apply(
            .versions(
                VersionSample(
                    region: "primary-1", source: "sim", observedAt: F.at(3),
                    versions: ["api": "2.0.0", "worker": "2.0.0", "db": "15"])))
        #expect(state.regions[0].primaryVersion == "2.0.0")
    }
}

@Suite("Replication link views")
struct ReplicationLinkViewTests {
    typealias F = Fixture

    func sample(
        _ at: Double, source: String, lag: Double?, bytes: Double? = nil, state: ReplicationState
    ) -> DashboardEvent {
        .replication(
            ReplicationSample(
                from: "primary-1", to: "standby-1", source: source, observedAt: F.at(at), lagSeconds: lag,
                lagBytes: bytes, state: state))
    }

    @Test func bothEndsAreKeptAndTheWorstFreshViewDecides() {
        var state = F.healthyState()
        state.apply(sample(1, source: "pg-primary", lag: 4, bytes: 9000, state: .streaming))
        state.apply(sample(1.5, source: "pg-standby", lag: 6, bytes: 100, state: .paused))
        let link = state.inboundLinks(of: "standby-1").first!
        #expect(link.views.map(\.source).contains("pg-primary"))
        #expect(link.views.map(\.source).contains("pg-standby"))
        #expect(link.state == .paused)
        #expect(link.reading.time == .exact(6), "the view with the larger reported lag decides, with its own bytes")
        #expect(link.reading.bytesBehind == 100)
        #expect(link.lagSeconds.latest == 6)
    }

    @Test func aStaleViewNoLongerDecides() {
        var state = F.healthyState()
        state.apply(sample(1, source: "pg-standby", lag: nil, state: .broken))
        // 100 s later only the primary still reports: its view alone counts.
        state.apply(.tick(F.at(101)))
        state.apply(sample(101, source: "pg-primary", lag: 0.5, bytes: 0, state: .streaming))
        #expect(state.inboundLinks(of: "standby-1").first?.state == .streaming)
    }

    @Test func aBrokenLinkNeverCountsTimeSinceItBroke() {
        var state = F.healthyState()
        state.apply(sample(1, source: "pg-primary", lag: 3, state: .streaming))
        state.apply(.tick(F.at(10)))
        state.apply(sample(10, source: "pg-primary", lag: nil, state: .broken))
        state.apply(.tick(F.at(20)))
        state.apply(sample(20, source: "pg-primary", lag: nil, state: .broken))
        let lag = state.replicationLag(of: "standby-1")
        #expect(
            lag?.time == nil,
            "the source says broken and measures nothing: unknown, never 3 s + the time since it broke")
        #expect(!(state.region(named: "standby-1")?.assessment.reasons.contains { $0.contains("exceeds RPO") } ?? true))
        #expect(state.inboundLinks(of: "standby-1").first?.state == .broken)
        #expect(
            state.region(named: "standby-1")?.assessment.reasons.contains("replication from primary-1 broken") == true)
    }

    @Test func aPromotedRegionIgnoresLinksFromTheOldPrimary() {
        var state = F.healthyState()
        state.apply(sample(1, source: "pg-primary", lag: nil, state: .broken))
        #expect(state.region(named: "standby-1")?.health == .degraded)
        state.apply(F.server("standby-1", 2, role: .writable, at: 100, timeline: 2))
        #expect(state.region(named: "standby-1")?.role == .primary)
        #expect(state.region(named: "standby-1")?.health == .ok)
        #expect(state.replicationLag(of: "standby-1") == nil)
    }

    @Test func probesCountFailuresPerSourceAndRefusalIsDownAtOnce() {
        var state = F.healthyState()
        state.apply(
            .probe(
                ProbeResult(
                    region: "primary-1", source: "pg", observedAt: F.at(1), isSuccess: false, latencyMilliseconds: nil,
                    message: "PostgreSQL: connection refused", isDefinitive: true)))
        state.apply(
            .probe(
                ProbeResult(
                    region: "primary-1", source: "http", observedAt: F.at(1.5), isSuccess: true, latencyMilliseconds: 3,
                    message: "HTTP 200")))
        let region = state.region(named: "primary-1")!
        #expect(region.probes.count >= 2)
        #expect(region.health == .down, "an HTTP success does not reset the database's failure")
        #expect(
            region.assessment.reasons.first == "health probe failed 1 time in a row: PostgreSQL: connection refused")
    }
}

@Suite("State snapshots for other threads")
struct StateSnapshotTests {
    @Test func snapshotKeepsRegionsAndDropsTraces() {
        let state = DemoStateFixture.withTraces()
        #expect(state.traces.spanCount > 0)
        let snapshot = state.snapshotWithoutTraces()
        #expect(snapshot.traces.spanCount == 0, "sharing the store would make the owner copy it on its next batch")
        #expect(snapshot.regions == state.regions)
        #expect(snapshot.replicationLinks == state.replicationLinks)
        #expect(snapshot.now == state.now)
        #expect(state.traces.spanCount > 0, "the original keeps its traces")
    }
}

enum DemoStateFixture {
    static func withTraces() -> DashboardState {
        var state = Fixture.healthyState()
        state.apply(
            .spans(
                Spans.batch(
                    [Spans.span(trace: 1, id: 1, kind: .server, start: 0, duration: 0.05)],
                    resources: [Spans.resource("primary-1")], at: 1)))
        return state
    }
}
