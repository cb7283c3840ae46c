import Testing
@testable import RegionWatchCollectors
@testable import RegionWatchCore

@Suite("Demo simulation")
struct DemoSimulationTests {
    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    /// Replays the demo once per second up to `seconds`, keeping every round's events.
    static func run(
        seconds: Int, seed: UInt64 = 42, commands: [Int: ChaosCommand] = [:]
    ) -> (DashboardState, [[DashboardEvent]]) {
        var rounds: [[DashboardEvent]] = []
        let state = DemoSimulation.replay(
            settings: SimulatorSettings(seed: seed), start: start, seconds: seconds, commands: commands
        ) { rounds.append($0) }
        return (state, rounds)
    }

    @Test func theDemoDoesNotFlapOutsideItsIncident() {
        // Issue 9, item 8: us-east-1 switched OK↔DEGRADED six times in 11 s at the 1 % threshold
        // outside the incident, and links flapped between streaming and catching-up. Ten
        // minutes of the demo, default hysteresis, for several seeds.
        for seed: UInt64 in [42, 7, 1234] {
            var simulation = DemoSimulation(topology: .demo, settings: SimulatorSettings(seed: seed), start: Self.start)
            var state = DashboardState(topology: .demo, now: Self.start)
            var changes: [String: [Int]] = [:]
            var linkChanges: [String: [Int]] = [:]
            var health: [String: Health] = [:]
            var links: [String: ReplicationState] = [:]
            for second in 0...600 {
                let now = Self.start.adding(seconds: Double(second))
                state.apply(contentsOf: simulation.step(at: now))
                state.apply(.tick(now))
                for region in state.regions {
                    if let before = health[region.name], before != region.health {
                        changes[region.name, default: []].append(second)
                    }
                    health[region.name] = region.health
                }
                for link in state.replicationLinks {
                    let key = "\(link.from)→\(link.to)"
                    if let before = links[key], before != link.state { linkChanges[key, default: []].append(second) }
                    links[key] = link.state
                }
            }
            // The scripted incident: lag 25–100 s, errors 95–175 s, then the recover time.
            let outside = changes.mapValues { $0.filter { !(25...215).contains($0) } }.filter { !$0.value.isEmpty }
            #expect(outside.isEmpty, "seed \(seed): \(changes)")
            #expect(
                changes.values.allSatisfy { $0.count <= 2 },
                "seed \(seed): one degradation and one recovery: \(changes)")
            #expect(linkChanges.values.allSatisfy { $0.count <= 2 }, "seed \(seed): \(linkChanges)")
            #expect(state.regions.allSatisfy { $0.healthChanges(at: state.now) <= 2 })
        }
    }

    @Test func sameSeedSameWorld() {
        let (_, first) = Self.run(seconds: 30, seed: 7)
        let (_, second) = Self.run(seconds: 30, seed: 7)
        #expect(first == second)
        let (_, other) = Self.run(seconds: 30, seed: 8)
        #expect(first != other)
    }

    @Test func generatorIsDeterministicAndUniform() {
        var a = SeededGenerator(seed: 1)
        var b = SeededGenerator(seed: 1)
        let values = (0..<1000).map { _ in a.unit() }
        #expect(values == (0..<1000).map { _ in b.unit() })
        #expect(values.allSatisfy { (0..<1).contains($0) })
        let mean = values.reduce(0, +) / 1000
        #expect(abs(mean - 0.5) < 0.05)
    }

    @Test func normalDayLooksRealistic() {
        let (state, _) = Self.run(seconds: 20)
        let east = state.region(named: "us-east-1")!
        let west = state.region(named: "eu-west-1")!
        let asia = state.region(named: "ap-southeast-1")!
        #expect(east.health == .ok && west.health == .ok && asia.health == .ok)
        // Traffic follows the 70/30/0 split.
        let eastRate = east.requestsPerSecond.latest!, westRate = west.requestsPerSecond.latest!
        #expect((1.8...3.2).contains(eastRate / westRate))
        #expect(asia.requestsPerSecond.latest == 0)
        #expect(asia.errorRate.latest == nil, "no traffic: error rate is unknown, not zero")
        #expect(east.trafficShare.latest == 0.7)
        // Error rates near 0.1%, replication lag well inside 0.2–8 s, roles as configured.
        #expect(east.errorRate.latest! < 0.01)
        let lags = state.replicationLinks.compactMap(\.lagSeconds.latest)
        #expect(lags.count == 2 && lags.allSatisfy { (0.2...8).contains($0) })
        #expect(east.role == .primary && west.role == .standby)
        // Version skew: the last region runs one version behind.
        #expect(asia.versions["api"] == "2.14.2" && east.versions["api"] == "2.14.3")
        #expect(east.backup?.integrity == .passed)
        #expect(state.collector(named: "simulator")?.intervalSeconds == 1)
    }

    @Test func scriptedIncidentUnfoldsAndRecoversWithinThreeAndAHalfMinutes() {
        let (atLagPeak, _) = Self.run(seconds: 68)
        let asia = atLagPeak.region(named: "ap-southeast-1")!
        #expect(atLagPeak.replicationLag(of: "ap-southeast-1")!.time!.seconds > 30)
        #expect(asia.health == .degraded)
        #expect(asia.assessment.reasons.first?.contains("exceeds RPO 30s") == true)

        let (atErrorPeak, _) = Self.run(seconds: 130)
        let east = atErrorPeak.region(named: "us-east-1")!
        #expect(east.health == .degraded)
        #expect(east.errorRate.latest! >= 0.01)
        #expect(east.p99Milliseconds.latest! >= 500)
        #expect(atErrorPeak.replicationLag(of: "ap-southeast-1")!.time!.seconds < 10, "the lag part is over by then")

        // The errors are over at 175 s; health returns once within thresholds for 30 s.
        let (after, _) = Self.run(seconds: 210)
        #expect(
            after.regions.allSatisfy { $0.health == .ok }, "\(after.regions.map { ($0.name, $0.assessment.reasons) })")
        let messages = after.recentNotices.elements.map(\.message)
        #expect(
            messages.contains("ap-southeast-1 OK → DEGRADED: replication lag 30s exceeds RPO 30s")
                || messages.contains { $0.hasPrefix("ap-southeast-1 OK → DEGRADED: replication lag") })
        #expect(messages.contains { $0.hasPrefix("us-east-1 OK → DEGRADED") })
        #expect(messages.contains("demo script: incident over, all regions recovering"))
    }

    @Test func incidentCanBeSwitchedOff() {
        let state = DemoSimulation.replay(
            settings: SimulatorSettings(seed: 42, scriptedIncident: false), start: Self.start, seconds: 130)
        #expect(state.replicationLag(of: "ap-southeast-1")!.time!.seconds < 10)
        #expect(state.region(named: "us-east-1")!.p99Milliseconds.latest! < 500)
    }

    @Test func takingARegionDownFailsProbesShiftsTrafficAndBreaksLinks() {
        let (state, _) = Self.run(seconds: 10, commands: [5: .takeDown(region: "us-east-1")])
        let east = state.region(named: "us-east-1")!
        #expect(east.health == .down)
        #expect(east.probe.consecutiveFailures >= 3)
        #expect(state.region(named: "eu-west-1")!.trafficShare.latest == 1)
        #expect(state.replicationLinks.allSatisfy { $0.state == .broken })
        let lag = state.replicationLag(of: "eu-west-1")!
        #expect(lag.unknownAfter != nil, "the primary cannot be observed: what it wrote since is unknown")
        #expect(lag.time!.seconds < 3, "the known lag does not grow with the outage")
        #expect(east.role == .unknown)
        #expect(east.lastKnownRole == .primary)
        #expect(state.recentNotices.elements.contains { $0.message == "demo chaos: us-east-1 taken down" })
    }

    @Test func recoverBringsTheRegionBack() {
        // Health and the link return once they have been fine for the recover time (30 s).
        let (state, _) = Self.run(
            seconds: 40, commands: [3: .takeDown(region: "eu-west-1"), 8: .recover(region: "eu-west-1")])
        #expect(
            state.region(named: "eu-west-1")!.health == .ok, "\(state.region(named: "eu-west-1")!.assessment.reasons)")
        #expect(state.replicationLinks.allSatisfy { $0.state != .broken })
    }

    @Test func injectedLagPassesTheRPOAndFades() {
        let (during, _) = Self.run(seconds: 18, commands: [2: .injectLag(region: "eu-west-1", seconds: 45)])
        #expect(during.replicationLag(of: "eu-west-1")!.time!.seconds > 30)
        let (after, _) = Self.run(seconds: 70, commands: [2: .injectLag(region: "eu-west-1", seconds: 45)])
        #expect(after.replicationLag(of: "eu-west-1")!.time!.seconds < 10)
    }

    @Test func chaosOnUnknownRegionOrPrimaryLagIsHarmless() {
        var simulation = DemoSimulation(topology: .demo, settings: SimulatorSettings(), start: Self.start)
        #expect(simulation.apply(.takeDown(region: "nowhere"), at: Self.start).isEmpty)
        let notice = simulation.apply(.injectLag(region: "us-east-1", seconds: 45), at: Self.start)
        #expect(
            notice == [
                .notice(
                    Notice(
                        at: Self.start, severity: .info, region: "us-east-1",
                        message: "demo chaos: us-east-1 has no inbound replication to delay"))
            ])
    }

    @Test func backupsCompleteHourly() throws {
        var simulation = DemoSimulation(topology: .demo, settings: SimulatorSettings(seed: 3), start: Self.start)
        func backup(_ events: [DashboardEvent]) -> BackupSample? {
            events.compactMap { if case .backup(let sample) = $0, sample.region == "us-east-1" { sample } else { nil } }
                .first
        }
        let first = backup(simulation.step(at: Self.start))!
        #expect(Self.start.seconds(since: first.completedAt) < 3600)
        let later = backup(simulation.step(at: first.completedAt.adding(seconds: 3600)))!
        #expect(later.completedAt == first.completedAt.adding(seconds: 3600))
        #expect(try #require(later.sizeBytes) > #require(first.sizeBytes))
    }

    @Test func incidentShapeFunctions() {
        #expect(DemoSimulation.lagIncidentSeconds(cycle: 10) == 0)
        #expect(DemoSimulation.lagIncidentSeconds(cycle: DemoSimulation.Script.lagPeaks - 0.001) > 47)
        #expect(DemoSimulation.lagIncidentSeconds(cycle: DemoSimulation.Script.lagRecovered) == 0)
        #expect(DemoSimulation.errorIncidentLevel(cycle: 130) == 1)
        #expect(DemoSimulation.errorIncidentLevel(cycle: 200) == 0)
        #expect(DemoSimulation.injectedLag(elapsed: 20, peak: 45) == 45)
        #expect(DemoSimulation.injectedLag(elapsed: 61, peak: 45) == 0)
    }

    @Test func worksForAnyTopology() {
        let topology = Topology(
            name: "wide", pattern: .routing, objectives: RecoveryObjectives(rpoSeconds: 10, rtoSeconds: 60),
            regions: (0..<50).map {
                RegionConfiguration(
                    name: "r\($0)", provider: $0 % 2 == 0 ? "aws" : "azure", role: $0 == 0 ? .primary : .active,
                    trafficPercent: 2)
            }
        )
        var simulation = DemoSimulation(topology: topology, settings: SimulatorSettings(), start: Self.start)
        var state = DashboardState(topology: topology, now: Self.start)
        state.apply(contentsOf: simulation.step(at: Self.start))
        #expect(state.regions.allSatisfy { $0.health == .ok })
        #expect(state.replicationLinks.count == 49)
    }
}

@Suite("Simulator collector")
struct SimulatorCollectorTests {
    @Test func publishesRoundsAndAppliesChaos() async throws {
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 10_000)
        let clock = SystemWallClock()
        let collector = SimulatorCollector(
            topology: .demo, settings: SimulatorSettings(intervalSeconds: 0.05), start: clock.now())
        let task = Task { await collector.run(publishingTo: bus, clock: clock) }
        var received: [DashboardEvent] = []
        // A generous bound: it only matters when the collector is broken, and tests share two
        // cores (a busy concurrency pool can delay the collector's task for seconds).
        let deadline = MonotonicClock.seconds() + 60
        while MonotonicClock.seconds() < deadline {
            received += subscription.drain()
            let rounds = received.filter { if case .collectorStatus = $0 { true } else { false } }.count
            if rounds >= 3 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        collector.send(.takeDown(region: "eu-west-1"))
        received += subscription.drain()
        task.cancel()
        await task.value
        #expect(received.filter { if case .collectorStatus = $0 { true } else { false } }.count >= 3)
        #expect(
            received.contains {
                if case .notice(let notice) = $0 { notice.message == "demo chaos: eu-west-1 taken down" } else { false }
            })
    }

    // A drill's rehearsal runs on a copy of the simulation.
    @Test func theDemoSimulatorRehearsesWithoutChangingRolesOrTraffic() {
        let start = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let simulator = SimulatorCollector(topology: .demo, settings: SimulatorSettings(), start: start)
        let notices = simulator.rehearse(.promote(region: "eu-west-1"))
        #expect(notices.map(\.message) == ["demo failover: eu-west-1 promoted to primary"])
        #expect(simulator.rehearse(.promote(region: "mars-1")).isEmpty)
        #expect(simulator.rehearse(.fence(region: "us-east-1")).count == 1)
        // The simulation itself still has us-east-1 as the primary with its traffic.
        var simulation = simulator.simulation.withLock { $0 }
        let round = simulation.step(at: start.adding(seconds: 1))
        var state = DashboardState(topology: .demo, now: start)
        state.apply(contentsOf: round)
        state.apply(.tick(start.adding(seconds: 1)))
        #expect(state.region(named: "us-east-1")?.role == .primary)
        #expect(state.region(named: "eu-west-1")?.role == .standby)
        #expect((state.region(named: "us-east-1")?.trafficShare.latest ?? 0) > 0.5)
    }

    /// Defect: during the demo incident us-east-1 reported a p99 of about a second while its
    /// slowest kept trace took 161 ms, `>500ms` found nothing and hop times were constant. The
    /// traces must explain the incident the metrics show.
    @Test func theDemoIncidentsTracesExplainItsMetrics() throws {
        let (state, _) = DemoSimulationTests.run(seconds: 130)
        let primary = try #require(state.region(named: "us-east-1"))
        let reportedP99 = try #require(primary.p99Milliseconds.latest)
        #expect(reportedP99 > 500, "the incident is on: p99 \(reportedP99) ms")
        let slow = state.traces.listing(matching: try TraceQuery.parse(">500ms region=us-east-1").get())
        #expect(!slow.isEmpty, "`>500ms` finds the incident's slow traces")
        let slowest = try #require(
            state.traces.listing(matching: try TraceQuery.parse("region=us-east-1").get()).map(\.durationNanos).max())
        #expect(
            Double(slowest) / 1e6 >= reportedP99 * 0.7,
            "the slowest trace (\(Double(slowest) / 1e6) ms) is near the reported p99 (\(reportedP99) ms)")
        let failing = state.traces.listing(matching: try TraceQuery.parse("error region=us-east-1").get())
        #expect(failing.count >= 3, "failing traces explain the error rate")
        let hop = try #require(state.hopLatencies.statistics(from: "eu-west-1", to: "us-east-1"))
        #expect(
            hop.p99Milliseconds > hop.p50Milliseconds * 1.05,
            "hop times vary: p50 \(hop.p50Milliseconds), p99 \(hop.p99Milliseconds)")

        // Outside the incident the tail is the ordinary 1%: no trace near an incident's second.
        let (calm, _) = DemoSimulationTests.run(seconds: 20)
        let calmSlow = calm.traces.listing(matching: try TraceQuery.parse(">500ms").get())
        #expect(calmSlow.isEmpty, "\(calmSlow.count) slow traces before the incident")
    }
}
