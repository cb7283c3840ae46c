import Foundation
@testable import RegionWatchApp
import RegionWatchCore
import Synchronization
#if canImport(Glibc)
import Glibc
@testable import RegionWatchFailover
#endif

/// A real PostgreSQL primary with streaming standbys on loopback (Tests/Integration/pg_cluster.sh).
final class PostgresCluster: Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Integration/pg_cluster.sh").path
    let directory: String
    let primaryPort = LoopbackPort.free()
    let standbyPorts: [String: Int]

    /// Starts the primary (`us-east-1` in the configurations) and `standbys`, each streaming
    /// from the primary under its own application_name. `archive` turns WAL archiving on.
    init(standbys: [String], archive: Bool = false) throws {
        directory = NSTemporaryDirectory() + "regionwatch-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var ports: [String: Int] = [:]
        for name in standbys { ports[name] = LoopbackPort.free() }
        standbyPorts = ports
        var environment = ProcessInfo.processInfo.environment
        environment["PG_CLUSTER_ARCHIVE"] = archive ? "on" : "off"
        let started = try runProcess(
            [Self.script, "start", directory, "\(primaryPort)"] + standbys.map { "\(ports[$0]!):\($0)" },
            environment: environment, timeout: 180)
        guard started.status == 0 else {
            close()
            throw HarnessError("PostgreSQL cluster did not start: \(started.standardError)")
        }
    }

    /// The server's port (`primary` is the first primary).
    func port(of server: String) -> Int {
        server == "primary" || server == "us-east-1" ? primaryPort : standbyPorts[server]!
    }

    /// The server directory's name for a region.
    private func directoryName(_ server: String) -> String { server == "us-east-1" ? "primary" : server }

    /// Runs SQL through psql and returns its unaligned output.
    @discardableResult
    func sql(_ server: String, _ statement: String) throws -> String {
        let result = try runProcess(
            [
                "/usr/bin/psql", "-h", "127.0.0.1", "-p", "\(port(of: server))", "-U", "postgres", "-d", "postgres",
                "-Atq", "-c", statement,
            ], environment: ["PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"], timeout: 30)
        guard result.status == 0 else { throw HarnessError("psql on \(server): \(result.standardError)") }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops a server at once (`-m immediate`): a crash.
    func stopAbruptly(_ server: String) throws {
        let result = try runProcess([Self.script, "stop-one", directory, directoryName(server)], timeout: 60)
        guard result.status == 0 else { throw HarnessError("stop \(server): \(result.standardError)") }
    }

    func start(_ server: String) throws {
        let result = try runProcess([Self.script, "start-one", directory, directoryName(server)], timeout: 60)
        guard result.status == 0 else { throw HarnessError("start \(server): \(result.standardError)") }
    }

    func promote(_ server: String) throws {
        let result = try runProcess([Self.script, "promote", directory, directoryName(server)], timeout: 60)
        guard result.status == 0 else { throw HarnessError("promote \(server): \(result.standardError)") }
    }

    /// Points a standby's WAL receiver at another server (`nil`: a port nothing listens on,
    /// which disconnects it while it keeps running in recovery).
    func repoint(_ standby: String, to upstream: String?) throws {
        let port = upstream.map { self.port(of: $0) } ?? 1
        try sql(
            standby,
            "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=\(port) user=postgres application_name=\(standby)'"
        )
        try sql(standby, "SELECT pg_reload_conf()")
    }

    /// Fences a server the way the built-in step does: it refuses writes from now on.
    func fence(_ server: String) throws {
        try sql(server, "ALTER SYSTEM SET default_transaction_read_only = on")
        try sql(server, "SELECT pg_reload_conf()")
    }

    /// `pg_current_wal_lsn()` on a server not in recovery, in bytes.
    func currentPosition(_ server: String) throws -> Double {
        Double(try sql(server, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")) ?? -1
    }

    /// Received and replayed positions of a standby, in bytes.
    func standbyPositions(_ standby: String) throws -> (received: Double, replayed: Double) {
        let parts = try sql(
            standby,
            "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0') || '|' || pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')"
        ).split(separator: "|")
        return (Double(parts.first ?? "") ?? -1, Double(parts.last ?? "") ?? -1)
    }

    func close() {
        _ = try? runProcess([Self.script, "stop", directory], timeout: 120)
    }

    /// A configuration with one postgres collector per server (1 s), the primary expecting every
    /// standby by application_name, health changing after 2 s, a promote-only failover plan.
    func configuration(
        in scratch: String, name: String = "pg.yaml", rpo: String = "10s", heartbeat: Bool = false,
        watch: Set<String>? = nil, extraRegions: [String] = [], sustain: String = "2s"
    ) throws -> String {
        let path = scratch + "/" + name
        let standbys = standbyPorts.keys.sorted()
        var text = """
            topology: pg-replication
            pattern: active-passive
            objectives: { rpo: \(rpo), rto: 5m }
            health: { sustain: \(sustain), recover: \(sustain) }
            regions:
              - { name: us-east-1, provider: local, role: primary, traffic: 100 }

            """
        for name in standbys + extraRegions {
            text += "  - { name: \(name), provider: local, role: standby, traffic: 0 }\n"
        }
        text += "collectors:\n"
        if watch?.contains("us-east-1") ?? true {
            text += """
                  - kind: postgres
                    region: us-east-1
                    dsnEnv: PG_PRIMARY_DSN
                    standbys: { \(standbys.map { "\($0): \($0)" }.joined(separator: ", ")) }
                    interval: 1s
                    heartbeat: \(heartbeat)

                """
        }
        for name in standbys where watch?.contains(name) ?? true {
            text += """
                  - kind: postgres
                    region: \(name)
                    dsn: postgres://postgres@127.0.0.1:\(standbyPorts[name]!)/postgres?sslmode=disable
                    interval: 1s

                """
        }
        text += """
            failover:
              auditLog: \(scratch)/audit.jsonl
              coolDown: 0s
              plan:
                - { name: promote, kind: postgres-promote, dsnByRegion: { \(standbys.map { "\($0): \"postgres://postgres@127.0.0.1:\(standbyPorts[$0]!)/postgres?sslmode=disable\"" }.joined(separator: ", ")) }, timeout: 30s }

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    var primaryDSN: String {
        "postgres://postgres:not-a-real-password@127.0.0.1:\(primaryPort)/postgres?sslmode=disable"
    }

    /// What the binary and the in-process watch need in their environment.
    func environment(_ scratch: String) -> [String: String] {
        ["PG_PRIMARY_DSN": primaryDSN, "PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]
    }
}

/// One scenario's real servers: a cluster, a scratch folder, a configuration for it, the oracle.
final class ReplicationScenario {
    let cluster: PostgresCluster
    let scratch: String
    let configuration: String
    let environment: [String: String]
    let oracle: ReplicationOracle

    init(
        _ name: String, standbys: [String] = ["eu-west-1", "ap-southeast-1"], archive: Bool = false, rpo: String = "10s"
    ) throws {
        cluster = try PostgresCluster(standbys: standbys, archive: archive)
        do {
            scratch = Binary.scratchDirectory(name)
            configuration = try cluster.configuration(in: scratch, rpo: rpo)
            environment = cluster.environment(scratch)
            oracle = try ReplicationOracle(cluster)
        } catch {
            cluster.close()
            throw error
        }
    }

    /// The dashboard's collection of this scenario's servers, in process.
    func watch() throws -> LiveWatch {
        try LiveWatch(configuration: configuration, environment: environment)
    }

    func close() { cluster.close() }
}

/// The truth, measured by the test itself: rows carrying their commit time are written on the
/// primary, and the newest one replayed on a standby tells which transactions it lacks.
final class ReplicationOracle: Sendable {
    let cluster: PostgresCluster
    private let writer = Mutex("us-east-1")

    init(_ cluster: PostgresCluster) throws {
        self.cluster = cluster
        try cluster.sql(
            "primary",
            "CREATE TABLE oracle (id bigserial PRIMARY KEY, tx bigint NOT NULL DEFAULT txid_current(), at double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()))"
        )
    }

    /// The server that takes the oracle's writes (after a switchover, the new primary).
    var primary: String {
        get { writer.withLock { $0 } }
        set { writer.withLock { $0 = newValue } }
    }

    /// Commits `rows` rows in one transaction; returns its commit time (seconds since the epoch).
    @discardableResult
    func write(rows: Int = 1) throws -> Double {
        Double(
            try cluster.sql(
                primary,
                "WITH written AS (INSERT INTO oracle (at) SELECT extract(epoch FROM clock_timestamp()) FROM generate_series(1, \(rows)) RETURNING at) SELECT max(at) FROM written"
            )) ?? -1
    }

    /// The commit time of the oldest transaction `standby` has not replayed; `nil` when it has
    /// every one.
    func oldestMissingCommit(on standby: String) throws -> Double? {
        let have = try cluster.sql(standby, "SELECT coalesce(max(id), 0) FROM oracle")
        let text = try cluster.sql(
            primary,
            "SELECT max(at) FROM oracle WHERE tx = (SELECT tx FROM oracle WHERE id > \(have) ORDER BY id LIMIT 1)")
        return text.isEmpty ? nil : Double(text)
    }

    /// The true lag of `standby` at `time`: how long before it the oldest write it has not
    /// replayed was committed.
    func trueLag(of standby: String, at time: Timestamp) throws -> Double {
        try oldestMissingCommit(on: standby).map { max(0, time.secondsSinceEpoch - $0) } ?? 0
    }
}

/// The dashboard's collection in this process: the real collectors against the real servers,
/// the real reducer, the state as the screen would show it (without a terminal).
final class LiveWatch {
    let collection: HeadlessCollection
    let configuration: RegionWatchConfiguration
    let environment: [String: String]

    init(configuration path: String, environment: [String: String]) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        (configuration, _) = try ConfigurationParser.parse(text, file: path, environment: environment)
        self.environment = environment
        collection = HeadlessCollection(configuration: configuration, clock: SystemWallClock())
    }

    /// A failover coordinator acting on what this watch has seen, as the dashboard's does.
    func coordinator(observer: @escaping @Sendable (FailoverSnapshot) -> Void = { _ in }) -> FailoverCoordinator {
        FailoverRuntime.coordinator(
            configuration: configuration, world: collection.world, clock: SystemWallClock(), environment: environment,
            observer: observer)
    }

    var state: DashboardState { collection.world.currentState() }

    /// Polls (every 50 ms) until `condition` holds; returns the state that satisfied it, or `nil`.
    func wait(within seconds: Double, until condition: (DashboardState) -> Bool) -> DashboardState? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let current = state
            if condition(current) { return current }
            usleep(50_000)
        }
        return nil
    }

    /// Waits until a move of `kind` to `target` would pass every gate on what is observed (the
    /// target OK and caught up, the data its promotion would lose known: a standby can be
    /// caught up before the primary's first poll, and the gates then rightly refuse).
    func waitUntilGatesAllow(
        _ kind: FailoverKind = .switchover, to target: String, within seconds: Double = 20
    ) -> DashboardState? {
        wait(within: seconds) { state in
            FailoverGates.evaluate(kind: kind, target: target, in: state, context: FailoverGateContext()).gates
                .allSatisfy(\.allows)
        }
    }

    func close() { collection.shutdown() }
}

/// Deviations of shown lag from the oracle, gathered across the suite for the closing figures.
enum LagDeviations {
    private static let values = Mutex<[(scenario: String, deviation: Double)]>([])

    static func record(_ scenario: String, _ deviation: Double) {
        values.withLock { $0.append((scenario, deviation)) }
    }

    static var worst: (scenario: String, deviation: Double)? {
        values.withLock { $0.max { abs($0.deviation) < abs($1.deviation) } }
    }
}

/// Waits for real time to pass, for the scenarios whose condition is elapsed time on real
/// servers (an idle primary); never used to wait for regionwatch.
func idle(seconds: Double) {
    usleep(useconds_t(seconds * 1_000_000))
}
