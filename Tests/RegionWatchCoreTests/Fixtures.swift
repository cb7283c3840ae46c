@testable import RegionWatchCore

/// Builders for events in tests.
enum Fixture {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    /// Two regions; health changes are published at once (the hysteresis has its own tests).
    static let topology: Topology = {
        var topology = Topology(
            name: "test",
            pattern: .activePassive,
            objectives: RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300),
            regions: [
                RegionConfiguration(name: "primary-1", provider: "aws", role: .primary, trafficPercent: 100),
                RegionConfiguration(name: "standby-1", provider: "gcp", role: .standby, trafficPercent: 0),
            ]
        )
        topology.thresholds.hysteresis = .immediate
        return topology
    }()

    static func at(_ seconds: Double) -> Timestamp { t0.adding(seconds: seconds) }

    static func collector(_ seconds: Double, interval: Double = 1, error: String? = nil) -> DashboardEvent {
        .collectorStatus(
            CollectorReport(
                collector: "sim", kind: "simulator", observedAt: at(seconds), intervalSeconds: interval,
                regions: ["primary-1", "standby-1"], error: error))
    }

    static func sample(
        _ seconds: Double, rps: Double? = 100, errorRate: Double? = 0.001, p99: Double? = 120, share: Double? = nil
    ) -> DashboardEvent {
        sample("primary-1", seconds, rps: rps, errorRate: errorRate, p99: p99, share: share)
    }

    static func sample(
        _ region: String, _ seconds: Double, rps: Double? = 100, errorRate: Double? = 0.001, p99: Double? = 120,
        share: Double? = nil
    ) -> DashboardEvent {
        .regionSample(
            RegionSample(
                region: region, source: "sim", observedAt: at(seconds), requestsPerSecond: rps, errorRate: errorRate,
                p50Milliseconds: p99.map { $0 / 3 }, p99Milliseconds: p99, trafficShare: share))
    }

    /// A database server round: what the server says about itself.
    static func server(
        _ region: String, _ seconds: Double, role: ServerRole, at position: UInt64? = nil, received: UInt64? = nil,
        timeline: Int = 1, upstream: String? = nil, receiver: String? = "streaming", lastCommitAge: Double? = nil,
        source: String? = nil
    ) -> DashboardEvent {
        let facts = ServerFacts(
            role: role, timeline: timeline, version: "15.8",
            walPosition: position.map(WALPosition.init(offset:)),
            receivedPosition: (received ?? (role == .recovering ? position : nil)).map(WALPosition.init(offset:)),
            receiver: role == .recovering ? receiver.map { WALReceiverFacts(status: $0, upstream: upstream) } : nil,
            configuredUpstream: role == .recovering ? upstream : nil,
            lastReplayedCommitAt: lastCommitAge.map { at(seconds - $0) }
        )
        return .server(
            ServerSample(region: region, source: source ?? "pg-\(region)", observedAt: at(seconds), facts: facts))
    }

    /// A database collector round that could not reach the server.
    static func unreachable(_ region: String, _ seconds: Double, source: String? = nil) -> DashboardEvent {
        .server(
            ServerSample(
                region: region, source: source ?? "pg-\(region)", observedAt: at(seconds),
                unreachable: "connection refused"))
    }

    /// A sender's row for a standby (`pg_stat_replication`), or a standby's own receiver view.
    static func link(
        _ from: String, _ to: String, _ seconds: Double, flushed: UInt64?, replayed: UInt64?,
        state: ReplicationState = .streaming, source: String? = nil
    ) -> DashboardEvent {
        .replication(
            ReplicationSample(
                from: from, to: to, source: source ?? "pg-\(from)", observedAt: at(seconds), lagSeconds: nil,
                lagBytes: nil, state: state,
                positions: StandbyPositions(
                    flushed: flushed.map(WALPosition.init(offset:)), replayed: replayed.map(WALPosition.init(offset:)))
            ))
    }

    /// A collector report for a database collector (interval 1 s).
    static func databaseCollector(_ region: String, _ seconds: Double, interval: Double = 1) -> DashboardEvent {
        .collectorStatus(
            CollectorReport(
                collector: "pg-\(region)", kind: "postgres", observedAt: at(seconds), intervalSeconds: interval,
                regions: [region]))
    }

    static func probe(_ seconds: Double, ok: Bool, message: String = "HTTP 200") -> DashboardEvent {
        probe("primary-1", seconds, ok: ok, message: message)
    }

    static func probe(_ region: String, _ seconds: Double, ok: Bool, message: String = "HTTP 200") -> DashboardEvent {
        .probe(
            ProbeResult(
                region: region, source: "sim", observedAt: at(seconds), isSuccess: ok,
                latencyMilliseconds: ok ? 10 : nil, message: message))
    }

    static func replication(
        _ seconds: Double, lag: Double?, bytes: Double? = 1000, state: ReplicationState = .streaming
    ) -> DashboardEvent {
        .replication(
            ReplicationSample(
                from: "primary-1", to: "standby-1", source: "sim", observedAt: at(seconds), lagSeconds: lag,
                lagBytes: bytes, state: state))
    }

    /// A state fed one healthy round at `seconds` (collector interval 1 s).
    static func healthyState(at seconds: Double = 0) -> DashboardState {
        var state = DashboardState(topology: topology, now: at(seconds))
        state.apply(collector(seconds))
        state.apply(sample(seconds))
        state.apply(probe(seconds, ok: true))
        state.apply(sample("standby-1", seconds, rps: 0, errorRate: nil, p99: nil))
        state.apply(probe("standby-1", seconds, ok: true))
        state.apply(replication(seconds, lag: 0.5))
        state.apply(.tick(at(seconds)))
        return state
    }
}
