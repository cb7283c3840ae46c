import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL primary with two streaming standbys on loopback (Tests/Integration/pg_cluster.sh).
final class PostgresCluster {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Integration/pg_cluster.sh").path
    let directory: String
    let primaryPort = LoopbackPort.free()
    let standbyPorts: [String: Int]

    init(standbys: [String]) throws {
        directory = NSTemporaryDirectory() + "regionwatch-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var ports: [String: Int] = [:]
        for name in standbys { ports[name] = LoopbackPort.free() }
        standbyPorts = ports
        let started = try runProcess([Self.script, "start", directory, "\(primaryPort)"] + standbys.map { "\(ports[$0]!):\($0)" }, timeout: 180)
        guard started.status == 0 else {
            close()
            throw HarnessError("PostgreSQL cluster did not start: \(started.standardError)")
        }
    }

    func port(of server: String) -> Int { server == "primary" ? primaryPort : standbyPorts[server]! }

    /// Runs SQL through psql and returns its unaligned output.
    @discardableResult
    func sql(_ server: String, _ statement: String) throws -> String {
        let result = try runProcess(["/usr/bin/psql", "-h", "127.0.0.1", "-p", "\(port(of: server))", "-U", "postgres", "-d", "postgres", "-Atq", "-c", statement], environment: ["PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"], timeout: 30)
        guard result.status == 0 else { throw HarnessError("psql on \(server): \(result.standardError)") }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stopAbruptly(_ server: String) throws {
        let result = try runProcess([Self.script, "stop-one", directory, server], timeout: 60)
        guard result.status == 0 else { throw HarnessError("stop \(server): \(result.standardError)") }
    }

    func promote(_ server: String) throws {
        let result = try runProcess([Self.script, "promote", directory, server], timeout: 60)
        guard result.status == 0 else { throw HarnessError("promote \(server): \(result.standardError)") }
    }

    func close() {
        _ = try? runProcess([Self.script, "stop", directory], timeout: 120)
    }

    /// A configuration with one postgres collector per server, one-second intervals.
    func configuration(in directory: String) throws -> String {
        let path = directory + "/pg.yaml"
        let standbys = standbyPorts.keys.sorted()
        var text = """
            topology: pg-replication
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: local, role: primary, traffic: 100 }

            """
        for name in standbys { text += "  - { name: \(name), provider: local, role: standby, traffic: 0 }\n" }
        text += """
            collectors:
              - kind: postgres
                region: us-east-1
                dsnEnv: PG_PRIMARY_DSN
                standbys: { \(standbys.map { "\($0): \($0)" }.joined(separator: ", ")) }
                interval: 1s

            """
        for name in standbys {
            text += """
                  - kind: postgres
                    region: \(name)
                    dsn: postgres://postgres@127.0.0.1:\(standbyPorts[name]!)/postgres?sslmode=disable
                    interval: 1s

                """
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    var primaryDSN: String { "postgres://postgres:not-a-real-password@127.0.0.1:\(primaryPort)/postgres?sslmode=disable" }
}

extension EndToEnd {
    /// PostgreSQL 15 streaming replication, watched by the real binary (status JSON and tmux).
    @Suite("PostgreSQL replication", .serialized)
    struct PostgresReplicationTests {
        let binary = Binary.path

        /// `regionwatch status --json` after collecting for `wait` seconds.
        func status(_ configuration: String, environment: [String: String], wait: Double = 2.5) throws -> [String: Any] {
            let result = try runProcess([binary, "status", "--config", configuration, "--json", "--wait", "\(wait)"], environment: environment, timeout: 60)
            guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] else {
                throw HarnessError("status failed (\(result.status)): \(result.standardError)")
            }
            return object
        }

        func link(_ status: [String: Any], to region: String) -> [String: Any]? {
            (status["replication"] as? [[String: Any]])?.first { $0["to"] as? String == region && $0["from"] as? String == "us-east-1" }
        }

        func region(_ status: [String: Any], _ name: String) -> [String: Any]? {
            (status["regions"] as? [[String: Any]])?.first { $0["name"] as? String == name }
        }

        /// Polls `status` until `condition` holds (each poll collects for a few real seconds).
        func statusEventually(_ configuration: String, environment: [String: String], attempts: Int = 8, _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
            var last: [String: Any] = [:]
            for _ in 0..<attempts {
                last = try status(configuration, environment: environment)
                if condition(last) { return last }
            }
            return last
        }

        @Test func lagPausePromotionAndOutageAreTruthful() throws {
            let cluster = try PostgresCluster(standbys: ["eu-west-1", "ap-southeast-1"])
            defer { cluster.close() }
            let scratch = Binary.scratchDirectory("pg")
            let configuration = try cluster.configuration(in: scratch)
            let environment = ["PG_PRIMARY_DSN": cluster.primaryDSN, "PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]

            // Idle: every link streaming with no lag, roles as the servers say.
            let idle = try statusEventually(configuration, environment: environment) { status in
                ["eu-west-1", "ap-southeast-1"].allSatisfy { link(status, to: $0)?["state"] as? String == "streaming" && (link(status, to: $0)?["lagSeconds"] as? Double ?? 99) < 1 }
            }
            for standby in ["eu-west-1", "ap-southeast-1"] {
                #expect(link(idle, to: standby)?["state"] as? String == "streaming", "\(idle)")
                #expect((link(idle, to: standby)?["lagSeconds"] as? Double ?? 99) < 1)
                #expect(region(idle, standby)?["role"] as? String == "standby")
                #expect(region(idle, standby)?["health"] as? String == "ok")
            }
            #expect(region(idle, "us-east-1")?["role"] as? String == "primary")
            #expect(region(idle, "us-east-1")?["health"] as? String == "ok")

            // The password given through the environment never appears in the output.
            let text = try runProcess([binary, "status", "--config", configuration, "--wait", "1.5"], environment: environment, timeout: 60)
            #expect(!text.standardOutput.contains("not-a-real-password"))

            // Watch on screen too.
            let session = try TmuxSession("PG_PRIMARY_DSN='\(cluster.primaryDSN)' '\(binary)' --config '\(configuration)'", width: 140, height: 42)
            defer { session.close() }
            #expect(session.waitFor("eu-west-1", "streaming"), "\(session.screen())")

            // Replay paused on a standby while the primary writes: byte and time lag grow.
            try cluster.sql("eu-west-1", "SELECT pg_wal_replay_pause()")
            try cluster.sql("primary", "CREATE TABLE writes(x int)")
            var readings: [(seconds: Double, bytes: Double)] = []
            for round in 0..<3 {
                try cluster.sql("primary", "INSERT INTO writes SELECT generate_series(1, \(1000 * (round + 1)))")
                let paused = try statusEventually(configuration, environment: environment) { status in
                    let lag = link(status, to: "eu-west-1")
                    return lag?["state"] as? String == "paused" && (lag?["lagBytes"] as? Double ?? 0) > (readings.last?.bytes ?? 0)
                }
                let lag = link(paused, to: "eu-west-1")
                readings.append((lag?["lagSeconds"] as? Double ?? -1, lag?["lagBytes"] as? Double ?? -1))
            }
            #expect(readings.map(\.bytes) == readings.map(\.bytes).sorted() && readings[0].bytes > 0, "byte lag grows: \(readings)")
            #expect(readings[2].seconds > readings[0].seconds && readings[0].seconds > 0, "time lag grows: \(readings)")
            #expect(session.waitFor("paused"), "\(session.screen())")
            #expect(link(try status(configuration, environment: environment), to: "ap-southeast-1")?["state"] as? String == "streaming", "the other standby is unaffected")

            // Resumed: caught up again.
            try cluster.sql("eu-west-1", "SELECT pg_wal_replay_resume()")
            let resumed = try statusEventually(configuration, environment: environment) { status in
                link(status, to: "eu-west-1")?["lagBytes"] as? Double == 0 && link(status, to: "eu-west-1")?["state"] as? String == "streaming"
            }
            #expect(link(resumed, to: "eu-west-1")?["lagBytes"] as? Double == 0, "\(resumed)")
            #expect((link(resumed, to: "eu-west-1")?["lagSeconds"] as? Double ?? 99) < 1)

            // The primary stops abruptly: within two one-second intervals the links are broken
            // and the primary's region is DOWN (the server refuses connections).
            try cluster.stopAbruptly("primary")
            let outage = try status(configuration, environment: environment, wait: 2)
            #expect(region(outage, "us-east-1")?["health"] as? String == "down", "\(outage)")
            for standby in ["eu-west-1", "ap-southeast-1"] {
                #expect(link(outage, to: standby)?["state"] as? String == "broken", "\(outage)")
                #expect(link(outage, to: standby)?["lagIsLowerBound"] as? Bool == true)
            }
            #expect(session.waitFor("DOWN", "broken"), "\(session.screen())")

            // A standby promoted: its role is primary, and it no longer counts a link from the
            // old primary against its health.
            try cluster.promote("eu-west-1")
            let promoted = try statusEventually(configuration, environment: environment) { region($0, "eu-west-1")?["role"] as? String == "primary" }
            #expect(region(promoted, "eu-west-1")?["role"] as? String == "primary", "\(promoted)")
            #expect(region(promoted, "eu-west-1")?["health"] as? String == "ok", "\(promoted)")
            #expect(region(promoted, "ap-southeast-1")?["role"] as? String == "standby")
        }
    }
}
