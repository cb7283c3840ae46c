import Foundation
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp

@Suite("Status report")
struct StatusReportTests {
    static let start = Timestamp(secondsSinceEpoch: 1_795_789_800)

    static func state(seconds: Int, commands: [Int: ChaosCommand] = [:]) -> DashboardState {
        DemoSimulation.replay(settings: SimulatorSettings(seed: 42), start: start, seconds: seconds, commands: commands)
    }

    static func json(_ state: DashboardState) throws -> [String: Any] {
        let text = try StatusReport(state: state).json()
        return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func jsonHasTheNamesScriptsDependOn() throws {
        let object = try Self.json(Self.state(seconds: 72))
        let topology = try #require(object["topology"] as? [String: Any])
        #expect(topology["name"] as? String == "checkout")
        #expect(topology["pattern"] as? String == "active-active")
        #expect(topology["rpoSeconds"] as? Double == 30)
        #expect(topology["rtoSeconds"] as? Double == 300)
        let regions = try #require(object["regions"] as? [[String: Any]])
        #expect(regions.map { $0["name"] as? String } == ["us-east-1", "eu-west-1", "ap-southeast-1"])
        let required = [
            "name", "provider", "role", "health", "errorRate", "p99Ms", "requestsPerSecond", "trafficShare",
            "replicationLagSeconds", "replicationLagBytes", "version", "ageSeconds",
        ]
        for region in regions {
            for key in required { #expect(region.keys.contains(key), "region lacks \(key)") }
            #expect(["ok", "degraded", "down", "stale"].contains(region["health"] as? String ?? ""))
        }
        let east = regions[0], asia = regions[2]
        #expect(east["replicationLagSeconds"] is NSNull, "the primary has no replication lag: null, not 0")
        #expect(asia["errorRate"] is NSNull, "no traffic: unknown error rate is null, not 0")
        #expect(asia["health"] as? String == "degraded")
        #expect((asia["replicationLagSeconds"] as? Double ?? 0) > 30)
        #expect((east["trafficShare"] as? Double) == 0.7)
        #expect((east["errorRate"] as? Double ?? 1) < 0.01, "error rate is a fraction")
        let replication = try #require(object["replication"] as? [[String: Any]])
        #expect(replication.count == 2)
        for link in replication {
            for key in ["from", "to", "lagSeconds", "lagBytes", "state"] { #expect(link.keys.contains(key)) }
            #expect(
                ["streaming", "catching-up", "paused", "broken", "unknown"].contains(link["state"] as? String ?? ""))
        }
        let failover = try #require(object["failover"] as? [String: Any])
        #expect(failover["state"] as? String == "steady")
    }

    @Test func staleRegionsReportNullsNotFrozenValues() throws {
        var state = Self.state(seconds: 5)
        state.apply(.tick(Self.start.adding(seconds: 60)))
        let regions = try #require(try Self.json(state)["regions"] as? [[String: Any]])
        for region in regions {
            #expect(region["health"] as? String == "stale")
            #expect(region["errorRate"] is NSNull)
            #expect(region["requestsPerSecond"] is NSNull)
            #expect((region["ageSeconds"] as? Double ?? 0) >= 55)
        }
    }

    @Test func beforeAnyDataEverythingUnknownIsNull() throws {
        let regions = try #require(
            try Self.json(DashboardState(topology: .demo, now: Self.start))["regions"] as? [[String: Any]])
        #expect(regions.allSatisfy { $0["ageSeconds"] is NSNull && $0["version"] is NSNull && $0["p99Ms"] is NSNull })
    }

    @Test func tableShowsRegionsReasonsLinksAndFailover() {
        let text = StatusTable.render(Self.state(seconds: 20, commands: [5: .takeDown(region: "eu-west-1")]))
        #expect(text.contains("checkout (active-active) · RPO 30s · RTO 5m"))
        #expect(text.contains("eu-west-1") && text.contains("DOWN"))
        #expect(text.contains("WHY"))
        #expect(text.contains("eu-west-1: health probe failed"))
        #expect(text.contains("us-east-1 → eu-west-1") && text.contains("broken"))
        #expect(text.contains("FAILOVER  no failover in progress"))
        #expect(!text.contains("\u{1B}"), "no escape codes in the text report")
    }
}

@Suite("Status report traces")
struct StatusReportTraceTests {
    @Test func tracesAndHopsAreReported() throws {
        let state = StatusReportTests.state(seconds: 20)
        let object = try StatusReportTests.json(state)
        let traces = try #require(object["traces"] as? [String: Any])
        #expect((traces["spans"] as? Int ?? 0) > 100)
        #expect(traces["rejectedSpans"] as? Int == 0)
        let hops = try #require(object["crossRegionLatency"] as? [[String: Any]])
        let euToUs = try #require(
            hops.first { $0["from"] as? String == "eu-west-1" && $0["to"] as? String == "us-east-1" })
        #expect((70...90).contains(euToUs["p50Ms"] as? Double ?? 0), "the demo's eu-west-1 → us-east-1 round trip")
    }
}

@Suite("Status check")
struct StatusCheckTests {
    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    static func topology() -> Topology {
        Topology(
            name: "t", pattern: .activePassive, objectives: RecoveryObjectives(rpoSeconds: 10, rtoSeconds: 300),
            regions: [
                RegionConfiguration(name: "a", provider: "aws", role: .primary, trafficPercent: 100),
                RegionConfiguration(name: "b", provider: "aws", role: .standby, trafficPercent: 0),
            ])
    }

    static func server(_ region: String, _ role: ServerRole, refused: Bool = false) -> DashboardEvent {
        refused
            ? .server(
                ServerSample(
                    region: region, source: "pg-\(region)", observedAt: start, unreachable: "connection refused",
                    isRefused: true))
            : .server(
                ServerSample(
                    region: region, source: "pg-\(region)", observedAt: start,
                    facts: ServerFacts(
                        role: role, timeline: 1, walPosition: WALPosition(offset: 100),
                        receivedPosition: role == .recovering ? WALPosition(offset: 100) : nil)))
    }

    @Test func verdictsAndTheirExitStatuses() {
        var ok = DashboardState(topology: Self.topology(), now: Self.start)
        ok.apply(contentsOf: [Self.server("a", .writable), Self.server("b", .recovering), .tick(Self.start)])
        #expect(StatusCheck(state: ok).verdict == .ok)
        #expect(StatusCheck(state: ok).summary == "OK: t 2 ok of 2 regions")

        var noWriter = DashboardState(topology: Self.topology(), now: Self.start)
        noWriter.apply(contentsOf: [Self.server("a", .fenced), .tick(Self.start)])
        let check = StatusCheck(state: noWriter)
        #expect(check.verdict == .critical, "nothing accepts writes, whatever else is stale: \(check.summary)")
        #expect(check.verdict.rawValue == 2)
        #expect(check.summary.contains("no region accepts writes (last known primary a)"))

        var stale = DashboardState(topology: Self.topology(), now: Self.start)
        stale.apply(contentsOf: [
            .regionSample(
                RegionSample(region: "a", source: "sim", observedAt: Self.start, requestsPerSecond: 1, errorRate: 0)),
            .tick(Self.start),
        ])
        #expect(
            StatusCheck(state: stale).verdict == .unknown,
            "b never reported: STALE; no database is watched, so no writer is expected")
        #expect(StatusCheck.Verdict.unknown.rawValue == 3)
    }

    @Test func boundFlagsTellScriptsWhatIsExact() throws {
        var state = DashboardState(topology: Self.topology(), now: Self.start)
        state.apply(contentsOf: [
            Self.server("a", .writable),
            .replication(
                ReplicationSample(
                    from: "a", to: "b", source: "prom", observedAt: Self.start, lagSeconds: 4, lagBytes: 10,
                    state: .streaming)),
            .tick(Self.start),
        ])
        let object =
            try JSONSerialization.jsonObject(with: Data(try StatusReport(state: state).json().utf8)) as? [String: Any]
        let b = (object?["regions"] as? [[String: Any]])?.first { $0["name"] as? String == "b" }
        #expect(b?["replicationLagIsExact"] as? Bool == true)
        #expect(b?["replicationLagIsLowerBound"] as? Bool == false)
        #expect((b?["replicationLag"] as? [String: Any])?["bound"] as? String == "exact")
        let link = (object?["replication"] as? [[String: Any]])?.first
        #expect(link?["lagIsExact"] as? Bool == true)
    }

    @Test func boundsAndForgottenUnknownRegionsAreReported() throws {
        var state = DashboardState(topology: Self.topology(), now: Self.start)
        for index in 0..<70 {
            state.apply(
                .regionSample(
                    RegionSample(
                        region: "churn-\(index)", source: "scrape", observedAt: Self.start, requestsPerSecond: 1)))
        }
        let object =
            try JSONSerialization.jsonObject(with: Data(try StatusReport(state: state).json().utf8)) as? [String: Any]
        let unknown = object?["unknownRegions"] as? [String: Any]
        #expect(unknown?["forgottenNames"] as? Int == 6)
        #expect((unknown?["observations"] as? [String: Int])?.count == 64)
        let bounds = object?["bounds"] as? [[String: Any]] ?? []
        let names = bounds.compactMap { $0["name"] as? String }
        #expect(
            names.starts(with: [
                "unknown region names", "notices", "trace store spans", "span region names", "span signal regions",
                "region hop pairs",
            ]))
        #expect(names.contains("services in a"))
        let first = bounds.first
        #expect(first?["count"] as? Int == 64 && first?["capacity"] as? Int == 64 && first?["forgotten"] as? Int == 6)
        #expect((object?["traces"] as? [String: Any])?["spansFoldedIntoUnknownRegion"] as? Int == 0)
    }
}
