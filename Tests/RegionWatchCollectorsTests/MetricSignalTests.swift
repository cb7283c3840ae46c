import RegionWatchCore
import Testing
@testable import RegionWatchCollectors

@Suite("Metric signals, scrape interpretation and PromQL responses")
struct MetricSignalTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test func gaugesMapByRegionLabel() {
        var interpreter = ScrapeInterpreter(signals: [
            ScrapedSignal(signal: .replicationLagSeconds, metric: "pg_replication_lag"),
            ScrapedSignal(signal: .errorRate, metric: "error_ratio"),
        ])
        let document = ExpositionParser().parse(
            "pg_replication_lag{region=\"eu\"} 4.5\nerror_ratio{region=\"us\"} 0.02\nerror_ratio 0.5\n")
        let readings = interpreter.readings(from: document, at: Self.t0)
        #expect(
            readings == [
                SignalReading(region: "eu", signal: .replicationLagSeconds, value: 4.5),
                SignalReading(region: "us", signal: .errorRate, value: 0.02),
            ])
    }

    @Test func countersBecomeRatesAndRatiosAfterTwoScrapes() {
        var interpreter = ScrapeInterpreter(
            signals: [
                ScrapedSignal(signal: .requestsPerSecond, metric: "http_requests_total"),
                ScrapedSignal(signal: .errorRate, metric: "http_errors_total", denominator: "http_requests_total"),
            ], fixedRegion: "us")
        let first = ExpositionParser().parse(
            "# TYPE http_requests counter\nhttp_requests_total{code=\"200\"} 1000\nhttp_requests_total{code=\"500\"} 0\nhttp_errors_total 0\n"
        )
        #expect(interpreter.readings(from: first, at: Self.t0).isEmpty, "a rate needs two scrapes")
        let second = ExpositionParser().parse(
            "http_requests_total{code=\"200\"} 1990\nhttp_requests_total{code=\"500\"} 10\nhttp_errors_total 10\n")
        let readings = interpreter.readings(from: second, at: Self.t0.adding(seconds: 10))
        #expect(readings.first { $0.signal == .requestsPerSecond }?.value == 100)
        #expect(readings.first { $0.signal == .errorRate }?.value == 0.01)
        // A counter reset counts its new value as the increase, never a negative rate.
        let reset = ExpositionParser().parse("http_requests_total{code=\"200\"} 50\nhttp_errors_total 0\n")
        #expect(
            interpreter.readings(from: reset, at: Self.t0.adding(seconds: 20)).first {
                $0.signal == .requestsPerSecond
            }?.value == 5)
    }

    @Test func histogramQuantileDescribesTheLastInterval() {
        var interpreter = ScrapeInterpreter(
            signals: [ScrapedSignal(signal: .p99Ms, metric: "latency_seconds")], fixedRegion: "us")
        func scrape(_ fast: Int, _ slow: Int, _ all: Int) -> ExpositionDocument {
            ExpositionParser().parse(
                "# TYPE latency_seconds histogram\nlatency_seconds_bucket{le=\"0.1\"} \(fast)\nlatency_seconds_bucket{le=\"1\"} \(slow)\nlatency_seconds_bucket{le=\"+Inf\"} \(all)\n"
            )
        }
        // All time: mostly fast. Last interval: everything between 0.1 and 1 s.
        _ = interpreter.readings(from: scrape(10_000, 10_000, 10_000), at: Self.t0)
        let readings = interpreter.readings(from: scrape(10_000, 10_100, 10_100), at: Self.t0.adding(seconds: 5))
        let p99 = readings.first?.value ?? 0
        #expect(abs(p99 - 991) < 0.5, "p99 of the interval in ms, got \(p99)")
    }

    @Test func summaryQuantileAndDefaultScale() {
        var interpreter = ScrapeInterpreter(
            signals: [ScrapedSignal(signal: .p99Ms, metric: "rpc_duration_seconds")], fixedRegion: "us")
        let document = ExpositionParser().parse(
            "rpc_duration_seconds{quantile=\"0.5\"} 0.01\nrpc_duration_seconds{quantile=\"0.99\"} 0.25\n")
        #expect(
            interpreter.readings(from: document, at: Self.t0) == [
                SignalReading(region: "us", signal: .p99Ms, value: 250)
            ])
    }

    @Test func quantileEdgeCases() {
        #expect(ScrapeInterpreter.quantile(0.99, cumulativeBuckets: []) == nil)
        #expect(ScrapeInterpreter.quantile(0.99, cumulativeBuckets: [(1, 0), (.infinity, 0)]) == nil)
        #expect(ScrapeInterpreter.quantile(0.5, cumulativeBuckets: [(1, 0), (2, 10), (.infinity, 10)]) == 1.5)
        #expect(ScrapeInterpreter.quantile(0.99, cumulativeBuckets: [(1, 0), (.infinity, 10)]) == 1)
    }

    @Test func publisherMakesEventsAndTelemetryDownIsNotRegionDown() {
        let publisher = SignalPublisher(source: "prom", replicationUpstream: "us")
        let round = publisher.events(
            for: [
                SignalReading(region: "eu", signal: .replicationLagSeconds, value: 3),
                SignalReading(region: "eu", signal: .errorRate, value: 1.5),
                SignalReading(region: "us", signal: .replicationLagSeconds, value: 0),
                SignalReading(region: "ap", signal: .up, value: 0),
                SignalReading(region: "ap", signal: .p99Ms, value: 12),
                SignalReading(region: "eu", signal: .backupAgeSeconds, value: 60),
            ], at: Self.t0)
        #expect(round.errors == ["ap: target down (up = 0)"])
        #expect(
            round.events == [
                .regionSample(RegionSample(region: "eu", source: "prom", observedAt: Self.t0, errorRate: 1)),
                .replication(
                    ReplicationSample(
                        from: "us", to: "eu", source: "prom", observedAt: Self.t0, lagSeconds: 3, lagBytes: nil,
                        state: .unknown)),
                .backup(
                    BackupSample(
                        region: "eu", source: "prom", observedAt: Self.t0, completedAt: Self.t0.adding(seconds: -60),
                        sizeBytes: nil, integrity: .unchecked)),
            ])
    }

    @Test func promQLVectorScalarAndErrors() throws {
        let vector =
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"region":"eu"},"value":[1700000000.1,"4.5"]},{"metric":{},"value":[1700000000.1,"NaN"]}]}}"#
        let series = try PromQLResponse.parse(Array(vector.utf8), status: 200)
        #expect(series.count == 2)
        #expect(series[0] == PromQLSeries(labels: ["region": "eu"], value: 4.5))
        #expect(series[1].value.isNaN)
        let scalar = #"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]}}"#
        #expect(try PromQLResponse.parse(Array(scalar.utf8), status: 200) == [PromQLSeries(labels: [:], value: 2)])
        let empty = #"{"status":"success","data":{"resultType":"vector","result":[]}}"#
        #expect(try PromQLResponse.parse(Array(empty.utf8), status: 200).isEmpty)

        func failure(_ body: String, status: Int = 200) -> String {
            do {
                _ = try PromQLResponse.parse(Array(body.utf8), status: status)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(
            failure(
                #"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}"#,
                status: 400) == "HTTP 400: bad_data: 1:5: parse error: unexpected end of input")
        #expect(
            failure(#"{"status":"error","errorType":"timeout","error":"query timed out"}"#, status: 503)
                == "HTTP 503: timeout: query timed out")
        #expect(failure("<html>bad gateway</html>", status: 502) == "HTTP 502: <html>bad gateway</html>")
        #expect(failure("", status: 200) == "HTTP 200 with an empty body")
        #expect(
            failure(#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#)
                == "result type 'matrix' is not supported (use an instant vector or scalar)")
        #expect(
            failure(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#)
                == "a series has no numeric value")
        #expect(failure(#"{"status":"succ"#).hasPrefix("response is not Prometheus API JSON"))
        #expect(failure(#"{"data":{}}"#).hasPrefix("response is not Prometheus API JSON (missing 'status')"))
    }

    @Test func promQLQueryPathIsEncoded() throws {
        let settings = PromQLSettings(name: "p", target: try HTTPTarget(parsing: "http://127.0.0.1:9090/prefix/"))
        #expect(
            settings.queryPath("sum by (region) (rate(x{a=\"b\"}[5m]))")
                == "/prefix/api/v1/query?query=sum%20by%20%28region%29%20%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29")
    }

    @Test func targetsParseAndRefuseBadURLs() throws {
        #expect(
            try HTTPTarget(parsing: "https://example.com/health?x=1")
                == HTTPTarget(isTLS: true, host: "example.com", port: 443, pathAndQuery: "/health?x=1"))
        #expect(
            try HTTPTarget(parsing: "http://[::1]:8080")
                == HTTPTarget(isTLS: false, host: "::1", port: 8080, pathAndQuery: "/"))
        #expect(try HTTPTarget(parsing: "http://[::1]:8080").hostHeader == "[::1]:8080")
        for (bad, message) in [
            ("ftp://x", "must start with http:// or https://"),
            ("http://user:pw@host/", "put credentials in headers, not in the URL"),
            ("http://host:99999/", "the port is not a number 1–65535"),
            ("http:///path", "no host"),
        ] {
            #expect(throws: HTTPTargetError(message)) { try HTTPTarget(parsing: bad) }
        }
    }

    @Test func redactionRemovesSecretsAndPasswords() {
        let redactor = SecretRedactor(secrets: ["s3cr3t-token"])
        #expect(redactor.redact("401 for Bearer s3cr3t-token") == "401 for Bearer •••")
        #expect(
            redactor.redact("cannot reach postgres://app:hunter2@db:5432/x")
                == "cannot reach postgres://app:•••@db:5432/x")
        #expect(redactor.redact("host=db password=hunter2 user=app") == "host=db password=••• user=app")
    }
}
