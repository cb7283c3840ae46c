import Testing
@testable import RegionWatchCore

@Suite("Health derivation")
struct HealthEvaluatorTests {
    typealias F = Fixture

    @Test func noDataMeansStaleAwaitingData() {
        let state = DashboardState(topology: F.topology, now: F.t0)
        #expect(state.regions[0].assessment == .awaitingData)
        #expect(state.regions[0].health == .stale)
    }

    @Test func healthyRegionIsOKWithNoReasons() {
        let state = F.healthyState()
        #expect(state.region(named: "primary-1")?.assessment == HealthAssessment(health: .ok))
        #expect(state.region(named: "standby-1")?.health == .ok)
    }

    @Test func dataOlderThanThreeIntervalsIsStaleNotLastColour() {
        var state = F.healthyState()
        state.apply(.tick(F.at(3)))
        #expect(state.regions[0].health == .ok, "exactly three intervals is still fresh")
        state.apply(.tick(F.at(3.5)))
        let assessment = state.regions[0].assessment
        #expect(assessment.health == .stale)
        #expect(assessment.reasons == ["no data for 3s (stale after 3s)"])
    }

    @Test func staleThresholdFollowsTheCollectorsInterval() {
        var state = DashboardState(topology: F.topology, now: F.t0)
        state.apply(F.collector(0, interval: 10))
        state.apply(F.sample(0))
        state.apply(.tick(F.at(29)))
        #expect(state.regions[0].health == .ok)
        state.apply(.tick(F.at(31)))
        #expect(state.regions[0].health == .stale)
    }

    @Test func errorRateThresholds() {
        var state = F.healthyState()
        state.apply(F.sample(1, errorRate: 0.02))
        #expect(state.regions[0].assessment == HealthAssessment(health: .degraded, reasons: ["error rate 2.0% ≥ 1.0%"]))
        state.apply(F.sample(2, errorRate: 0.6))
        #expect(state.regions[0].assessment == HealthAssessment(health: .down, reasons: ["error rate 60% ≥ 50%"]))
    }

    @Test func latencyThreshold() {
        var state = F.healthyState()
        state.apply(F.sample(1, p99: 750))
        #expect(
            state.regions[0].assessment == HealthAssessment(health: .degraded, reasons: ["p99 latency 750ms ≥ 500ms"]))
    }

    @Test func probeFailuresDegradeThenDown() {
        var state = F.healthyState()
        state.apply(F.probe(1, ok: false, message: "connection refused"))
        #expect(
            state.regions[0].assessment
                == HealthAssessment(
                    health: .degraded, reasons: ["health probe failed 1 time in a row: connection refused"]))
        state.apply(F.probe(2, ok: false, message: "connection refused"))
        state.apply(F.probe(3, ok: false, message: "connection refused"))
        #expect(state.regions[0].assessment.health == .down)
        #expect(state.regions[0].assessment.reasons.first == "health probe failed 3 times in a row: connection refused")
        state.apply(F.probe(4, ok: true))
        #expect(state.regions[0].probe.consecutiveFailures == 0)
    }

    @Test func downIsDistinctFromStale() {
        var state = F.healthyState()
        for second in 1...3 {
            state.apply(F.probe(Double(second), ok: false, message: "HTTP 503"))
            state.apply(.tick(F.at(Double(second))))
        }
        #expect(state.regions[0].health == .down, "failing probes are fresh data: the region is down")
        var silent = F.healthyState()
        silent.apply(.tick(F.at(10)))
        #expect(silent.regions[0].health == .stale, "no data: telemetry is down, not the region")
    }

    @Test func replicationLagPastRPODegradesTheStandby() {
        var state = F.healthyState()
        state.apply(F.replication(1, lag: 45))
        let standby = state.region(named: "standby-1")!
        #expect(
            standby.assessment
                == HealthAssessment(health: .degraded, reasons: ["replication lag 45.0s exceeds RPO 30s"]))
        #expect(state.region(named: "primary-1")?.health == .ok)
    }

    @Test func aBrokenLinkDegradesWithoutInventingLag() {
        var state = F.healthyState()
        state.apply(F.replication(1, lag: 2, state: .broken))
        #expect(state.replicationLag(of: "standby-1")?.time == .exact(2))
        state.apply(F.probe("standby-1", 21, ok: true))
        state.apply(F.replication(21, lag: 2, state: .broken))
        state.apply(.tick(F.at(21)))
        #expect(state.replicationLag(of: "standby-1")?.time == .exact(2), "20 s broken is not 20 s of lag")
        let reasons = state.region(named: "standby-1")!.assessment.reasons
        #expect(reasons.contains("replication from primary-1 broken"))
        #expect(!reasons.contains { $0.contains("exceeds RPO") })
    }

    @Test func aLinkNobodyObservesIsStaleNotGrowing() {
        var state = F.healthyState()
        state.apply(F.probe("standby-1", 10, ok: true))
        state.apply(.tick(F.at(10)))
        let link = state.inboundLinks(of: "standby-1").first
        #expect(link?.state == .stale)
        #expect(
            link?.reading.time == nil,
            "nothing is known now: never a lag that grows with the silence, nor a frozen old one")
        #expect(
            state.region(named: "standby-1")?.assessment.reasons.contains(
                "replication from primary-1 not observed (last seen 10s ago)") == true)
    }

    @Test func staleSignalCannotKeepRegionGreen() {
        var state = F.healthyState()
        // Probes keep arriving from another collector; serving signals stop.
        state.apply(
            .collectorStatus(
                CollectorReport(
                    collector: "probe", kind: "http-probe", observedAt: F.at(0), intervalSeconds: 1,
                    regions: ["primary-1"])))
        for second in 1...6 {
            state.apply(
                .probe(
                    ProbeResult(
                        region: "primary-1", source: "probe", observedAt: F.at(Double(second)), isSuccess: true,
                        latencyMilliseconds: 5, message: "HTTP 200")))
        }
        state.apply(.tick(F.at(6)))
        let assessment = state.regions[0].assessment
        #expect(assessment.health == .degraded)
        #expect(assessment.reasons.contains("error rate data stale (last 6s ago)"))
        #expect(assessment.reasons.contains("p99 latency data stale (last 6s ago)"))
    }

    @Test func backupChecks() {
        var state = F.healthyState()
        state.apply(
            .backup(
                BackupSample(
                    region: "primary-1", source: "sim", observedAt: F.at(1), completedAt: F.at(-3 * 3600),
                    sizeBytes: 10, integrity: .failed)))
        let reasons = state.regions[0].assessment.reasons
        #expect(reasons == ["last backup failed its integrity check", "last backup 3h old (max 2h)"])
    }

    @Test func reasonsAreOrderedBySeverity() {
        var state = F.healthyState()
        state.apply(F.sample(1, errorRate: 0.02, p99: 900))
        state.apply(F.probe(1, ok: false, message: "timeout"))
        state.apply(F.probe(2, ok: false, message: "timeout"))
        state.apply(F.probe(2.5, ok: false, message: "timeout"))
        let reasons = state.regions[0].assessment.reasons
        #expect(state.regions[0].health == .down)
        #expect(reasons.first == "health probe failed 3 times in a row: timeout")
        #expect(reasons.dropFirst().allSatisfy { !$0.contains("probe failed") })
    }

    @Test func customThresholdsApply() {
        var topology = F.topology
        topology.thresholds.errorRateDegraded = 0.2
        topology.thresholds.errorRateDown = 0.9
        var state = DashboardState(topology: topology, now: F.t0)
        state.apply(F.collector(0))
        state.apply(F.sample(0, errorRate: 0.15))
        #expect(state.regions[0].health == .ok)
    }
}
