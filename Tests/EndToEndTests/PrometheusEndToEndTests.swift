import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A background service (postgres_exporter, Prometheus) with its output in a log file.
final class BackgroundService {
    let name: String
    let log: String
    private let process: ChildProcess

    init(_ name: String, _ arguments: [String], environment: [String: String] = [:], directory: String) throws {
        self.name = name
        log = directory + "/\(name).log"
        let output = open(log, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        let input = open("/dev/null", O_RDONLY)
        defer {
            close(output)
            close(input)
        }
        process = try ChildProcess(
            arguments, environment: ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }, input: input, output: output,
            error: output)
    }

    /// Waits until `url` answers 200.
    func waitUntilReady(_ url: String, within seconds: Double = 60) -> Bool {
        eventually(within: seconds) {
            guard process.isRunning else { return false }
            return (try? runProcess(["/usr/bin/curl", "-sf", "-o", "/dev/null", url], timeout: 5).status) == 0
        }
    }

    func kill() {
        Glibc.kill(process.pid, SIGKILL)
        process.wait(within: 10)
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

extension EndToEnd {
    /// Prometheus scraping postgres_exporter in front of a real primary and standby.
    @Suite(
        "Prometheus and postgres_exporter", .serialized, Requirement.postgreSQL.trait, Requirement.prometheus.trait,
        Requirement.tmux.trait)
    struct PrometheusEndToEndTests {
        let binary = Binary.path

        func status(_ configuration: String, wait: Double = 2.5) throws -> [String: Any] {
            let result = try runProcess(
                [binary, "status", "--config", configuration, "--json", "--wait", "\(wait)"],
                environment: ["PATH": "/usr/bin:/bin"], timeout: 60)
            guard result.status == 0,
                let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
            else {
                throw HarnessError("status failed (\(result.status)): \(result.standardError)")
            }
            return object
        }

        func standbyLink(_ status: [String: Any]) -> [String: Any]? {
            (status["replication"] as? [[String: Any]])?.first { $0["to"] as? String == "eu-west-1" }
        }

        func configuration(_ collector: String, in directory: String, name: String) throws -> String {
            let path = directory + "/\(name).yaml"
            try """
            topology: metrics
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: local, role: primary, traffic: 100 }
              - { name: eu-west-1, provider: local, role: standby, traffic: 0 }
            collectors:
            \(collector)
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test func promQLAndScrapeReadReplicationAndPrometheusDeathMeansStale() throws {
            let cluster = try PostgresCluster(standbys: ["eu-west-1"])
            defer { cluster.close() }
            let scratch = Binary.scratchDirectory("prom")
            let exporterPort = LoopbackPort.free()
            let exporter = try BackgroundService(
                "postgres_exporter",
                ["/usr/bin/prometheus-postgres-exporter", "--web.listen-address=127.0.0.1:\(exporterPort)"],
                environment: [
                    "DATA_SOURCE_NAME":
                        "postgresql://postgres@127.0.0.1:\(cluster.primaryPort)/postgres?sslmode=disable"
                ], directory: scratch)
            defer { exporter.kill() }
            #expect(exporter.waitUntilReady("http://127.0.0.1:\(exporterPort)/metrics"), "\(exporter.output)")

            let prometheusPort = LoopbackPort.free()
            try """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: postgres
                static_configs: [{ targets: ["127.0.0.1:\(exporterPort)"], labels: { region: us-east-1 } }]
            """.write(toFile: scratch + "/prometheus.yml", atomically: true, encoding: .utf8)
            let prometheus = try BackgroundService(
                "prometheus",
                [
                    "/usr/bin/prometheus", "--config.file=\(scratch)/prometheus.yml",
                    "--storage.tsdb.path=\(scratch)/tsdb",
                    "--web.listen-address=127.0.0.1:\(prometheusPort)",
                ], directory: scratch)
            defer { prometheus.kill() }
            #expect(prometheus.waitUntilReady("http://127.0.0.1:\(prometheusPort)/-/ready"), "\(prometheus.output)")

            // The exporter labels pg_stat_replication rows by application_name, which names the
            // standby's region.
            let promql = try configuration(
                """
                  - kind: promql
                    url: http://127.0.0.1:\(prometheusPort)
                    regionLabel: application_name
                    interval: 1s
                    queries:
                      replicationLagBytes: pg_stat_replication_pg_wal_lsn_diff
                      up: label_replace(up{job="postgres"}, "application_name", "$1", "region", "(.*)")
                """, in: scratch, name: "promql")
            let scrape = try configuration(
                """
                  - kind: prometheus-scrape
                    url: http://127.0.0.1:\(exporterPort)/metrics
                    regionLabel: application_name
                    interval: 1s
                    signals:
                      replicationLagBytes: pg_stat_replication_pg_wal_lsn_diff
                """, in: scratch, name: "scrape")

            // Replay paused and writes on the primary: both collectors see the byte lag.
            try cluster.sql("eu-west-1", "SELECT pg_wal_replay_pause()")
            try cluster.sql("primary", "CREATE TABLE writes(x int); INSERT INTO writes SELECT generate_series(1, 5000)")
            var viaPromQL: [String: Any] = [:]
            #expect(
                eventually(within: 60) {
                    viaPromQL = (try? status(promql)) ?? [:]
                    return (standbyLink(viaPromQL)?["lagBytes"] as? Double ?? 0) > 0
                }, "\(viaPromQL)")
            let direct = try status(scrape)
            #expect((standbyLink(direct)?["lagBytes"] as? Double ?? 0) > 0, "\(direct)")

            // On screen, then Prometheus dies: the promql signals go stale, never zero.
            let session = try TmuxSession("'\(binary)' --config '\(promql)'", width: 140, height: 42)
            defer { session.close() }
            #expect(session.waitFor("eu-west-1", "OK"), "\(session.screen())")
            prometheus.kill()
            #expect(session.waitFor("STALE", within: 30), "\(session.screen())")
            let afterDeath = try status(promql)
            #expect(
                standbyLink(afterDeath) == nil || standbyLink(afterDeath)?["lagBytes"] is NSNull,
                "no made-up zero: \(afterDeath)")
            let region = (afterDeath["regions"] as? [[String: Any]])?.first { $0["name"] as? String == "eu-west-1" }
            #expect(region?["replicationLagBytes"] is NSNull, "\(String(describing: region))")
            #expect(region?["health"] as? String == "stale")
        }
    }
}
