import Foundation
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp

@Suite("Configuration of the real collectors")
struct CollectorConfigurationTests {
    func configuration(
        _ collectors: String, environment: [String: String] = [:]
    ) throws(DiagnosticsError) -> RegionWatchConfiguration {
        let text = """
            topology: t
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: aws, role: primary, traffic: 100 }
              - { name: eu-west-1, provider: aws, role: standby, traffic: 0 }
            collectors:
            \(collectors)
            """
        return try ConfigurationParser.parse(text, file: "c.yaml", environment: environment).0
    }

    func errors(_ collectors: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try configuration(collectors, environment: environment)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test func shippedExamplesReadAsExpected() throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/postgres-active-passive.yaml"), encoding: .utf8)
        let (postgres, _) = try ConfigurationParser.parse(
            text, file: "x", environment: ConfigurationTests.exampleEnvironment)
        #expect(
            postgres.collectors.map(\.kind) == ["postgres", "postgres", "postgres", "http-probe", "prometheus-scrape"])
        guard case .postgres(let primary) = postgres.collectors[0], case .postgres(let standby) = postgres.collectors[1]
        else { throw ConfigurationTestFailure() }
        #expect(primary.name == "postgres-us-east-1")
        #expect(primary.connection == PostgresDSN(host: "db1", user: "monitor", password: "pw", database: "postgres"))
        #expect(primary.mapping.expectedStandbys == ["ap-southeast-1", "eu-west-1"])
        #expect(primary.intervalSeconds == 5 && primary.timeoutSeconds == 2)
        #expect(standby.mapping.upstream == "us-east-1")
        #expect(
            postgres.failover.plan.map(\.action.kind) == [
                "postgres-fence", "postgres-promote", "exec", "http", "wait-for",
            ])
        // The lock and the shared history live on a server that is never failed over.
        let lockServer = PostgresDSN(host: "ops-db", user: "failover", database: "regionwatch")
        #expect(postgres.failover.lock == .postgres(lockServer))
        #expect(postgres.failover.sharedHistory == lockServer)
        guard case .postgresPromote(let dsns) = postgres.failover.plan[1].action else {
            throw ConfigurationTestFailure()
        }
        #expect(dsns["eu-west-1"] == "postgres://admin:admin-pw@db-euw1.internal:5432/postgres?sslmode=require")
        guard case .httpProbe(let probe) = postgres.collectors[3] else { throw ConfigurationTestFailure() }
        #expect(probe.targets.count == 3 && probe.expectedStatus == [200] && probe.bodyContains == "ok")

        let activeText = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/promql-active-active.yaml"), encoding: .utf8)
        let (active, _) = try ConfigurationParser.parse(
            activeText, file: "x", environment: ConfigurationTests.exampleEnvironment)
        guard case .promql(let promql) = active.collectors[0] else { throw ConfigurationTestFailure() }
        #expect(
            promql.queries.map(\.signal) == [
                .requestsPerSecond, .errorRate, .p99Ms, .trafficShare, .replicationLagSeconds, .up,
            ])
        #expect(promql.endpoint.headers == ["Authorization": "Bearer prom-token"])
        #expect(promql.endpoint.target.isTLS && promql.endpoint.target.port == 10902)
        #expect(promql.endpoint.replicationUpstream == "us-east-1")
    }

    @Test func scrapeSignalsInBothForms() throws {
        let parsed = try configuration(
            """
              - kind: prometheus-scrape
                url: http://127.0.0.1:9187/metrics
                region: eu-west-1
                signals:
                  replicationLagSeconds: pg_replication_lag
                  errorRate: { metric: http_errors_total, denominator: http_requests_total }
                  p99Ms: { metric: rpc_latency, scale: 1 }
            """)
        guard case .prometheusScrape(let scrape) = parsed.collectors[0] else { throw ConfigurationTestFailure() }
        #expect(scrape.endpoint.fixedRegion == "eu-west-1")
        #expect(scrape.endpoint.replicationUpstream == "us-east-1", "defaults to the configured primary")
        #expect(
            scrape.signals == [
                ScrapedSignal(signal: .replicationLagSeconds, metric: "pg_replication_lag"),
                ScrapedSignal(signal: .errorRate, metric: "http_errors_total", denominator: "http_requests_total"),
                ScrapedSignal(signal: .p99Ms, metric: "rpc_latency", scale: 1),
            ])
    }

    @Test func problemsAreNamedWithTheirLines() {
        #expect(
            errors(
                """
                  - kind: postgres
                    region: eu-west-2
                    dsn: postgres://u@h/d
                """) == [
                    "c.yaml:9:13: error: collectors[0].region: region 'eu-west-2' is not in the regions list (did you mean 'eu-west-1'?)"
                ])
        #expect(
            errors(
                """
                  - kind: postgres
                    region: eu-west-1
                    dsn: "postgres://u:secretpw@h:70000/d"
                """) == [
                    "c.yaml:10:10: error: collectors[0].dsn: invalid DSN: the port is not a number 1–65535 (a password with / or @ must be percent-encoded)"
                ])
        #expect(
            errors(
                """
                  - kind: postgres
                    region: eu-west-1
                    dsnEnv: MISSING_DSN
                """) == ["c.yaml:10:13: error: collectors[0].dsnEnv: environment variable MISSING_DSN is not set"])
        #expect(
            errors(
                """
                  - kind: promql
                    url: ftp://prom
                    queries: { errorRate: x }
                """) == ["c.yaml:9:10: error: collectors[0].url: must start with http:// or https://"])
        #expect(
            errors(
                """
                  - kind: promql
                    url: http://prom:9090
                    queries: { errorRat: x }
                """) == [
                    "c.yaml:10:16: error: collectors[0].queries.errorRat: unknown signal 'errorRat' (did you mean 'errorRate'?); known: requestsPerSecond, errorRate, p50Ms, p99Ms, trafficShare, replicationLagSeconds, replicationLagBytes, backupAgeSeconds, up"
                ])
        #expect(
            errors(
                """
                  - kind: http-probe
                    region: eu-west-1
                    url: http://x/
                    interval: 1s
                    timeout: 2s
                """) == ["c.yaml:12:14: error: collectors[0].timeout: must be shorter than the interval (2s ≥ 1s)"])
        #expect(
            errors(
                """
                  - kind: prometheus-scrape
                    url: http://x/metrics
                    signals: { p99Ms: "bad name" }
                """) == [
                    "c.yaml:10:23: error: collectors[0].signals.p99Ms: 'bad name' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
                ])
    }

    @Test func dsnPasswordNeverAppearsInDiagnostics() {
        let problems = errors(
            """
              - kind: postgres
                region: eu-west-1
                dsn: "postgres://u:hunter2secret@h:0/d"
            """)
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { !$0.contains("hunter2secret") })
    }
}

struct ConfigurationTestFailure: Error {}

extension CollectorConfigurationTests {
    @Test func oneDatabaseServerPerRegion() throws {
        let text = """
            topology: t
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: aws, role: primary, traffic: 100 }
              - { name: eu-west-1, provider: aws, role: standby, traffic: 0 }
            health: { sustain: 5s, recover: 1m }
            collectors:
              - { kind: postgres, name: a, region: us-east-1, dsn: "postgres://u@db-a:5432/p", heartbeat: true }
              - { kind: postgres, name: b, region: us-east-1, dsn: "postgres://u@db-b:5432/p" }
              - { kind: postgres, name: c, region: eu-west-1, dsn: "postgres://u@db-c:6432/p" }
            """
        do {
            _ = try ConfigurationParser.parse(text, file: "c.yaml")
            Issue.record("two postgres collectors for one region must be refused")
        } catch {
            #expect(
                error.description.contains(
                    "c.yaml:10:5: error: collectors[1].region: region 'us-east-1' already has a postgres collector ('a')"
                ), "\(error.description)")
        }
        let fixed = text.replacingOccurrences(
            of: "  - { kind: postgres, name: b, region: us-east-1, dsn: \"postgres://u@db-b:5432/p\" }\n", with: "")
        let (configuration, _) = try ConfigurationParser.parse(fixed, file: "c.yaml")
        #expect(configuration.topology.thresholds.hysteresis == HysteresisTiming(sustainSeconds: 5, recoverSeconds: 60))
        let settings = configuration.collectors.compactMap {
            if case .postgres(let settings) = $0 { settings } else { nil }
        }
        #expect(settings.first?.writesHeartbeat == true)
        #expect(settings.last?.writesHeartbeat == false)
        #expect(settings.first?.heartbeatWriter.hasSuffix("/a") == true)
        #expect(
            settings.allSatisfy {
                $0.mapping.regionsByAddress == ["db-a:5432": "us-east-1", "db-c:6432": "eu-west-1"]
            }, "every collector can name every configured server")
    }
}
