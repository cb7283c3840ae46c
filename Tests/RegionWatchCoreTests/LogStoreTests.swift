import Testing
@testable import RegionWatchCore

/// Builders for log records in tests.
enum Logs {
    static func resource(_ region: String, service: String = "api") -> SpanResource {
        Spans.resource(region, service: service)
    }

    static func record(
        _ body: String, severity: UInt8 = 9, trace: UInt64 = 0, span: UInt64 = 0, resource: Int = 0,
        attributes: [Attribute] = [], at milliseconds: Double = 0
    ) -> IncomingLogRecord {
        IncomingLogRecord(
            timeUnixNano: Spans.base + UInt64(milliseconds * 1e6), severityNumber: severity, body: body,
            attributes: attributes, traceID: trace == 0 ? TraceID(high: 0, low: 0) : Spans.trace(trace),
            spanID: SpanID(span), resourceIndex: resource)
    }

    static func batch(
        _ records: [IncomingLogRecord], resources: [SpanResource] = [resource("primary-1")], at seconds: Double = 0
    ) -> LogBatch {
        LogBatch(source: "otlp", receivedAt: Fixture.at(seconds), resources: resources, records: records)
    }
}

@Suite("Log store")
struct LogStoreTests {
    @Test func severitiesFromNumbersAndText() {
        #expect(LogSeverity(number: 17) == .error && LogSeverity(number: 20) == .error)
        #expect(LogSeverity(number: 24) == .fatal && LogSeverity(number: 1) == .trace)
        #expect(LogSeverity(number: 0) == nil && LogSeverity(number: 25) == nil)
        #expect(LogSeverity(text: "Warning") == .warn && LogSeverity(text: "ERROR2") == .error)
        #expect(LogSeverity(text: "bogus") == nil)
        let record = IncomingLogRecord(timeUnixNano: 1, severityText: "error", body: "x")
        #expect(record.severity == .error, "text stands in for a missing number")
    }

    @Test func recordsAreReadNewestFirstAcrossRegionsWithFilters() {
        var store = LogStore(reservedRegions: ["primary-1", "standby-1"])
        let resources = [Logs.resource("primary-1"), Logs.resource("standby-1", service: "worker")]
        _ = store.insert(
            Logs.batch(
                [
                    Logs.record("started", resource: 0),
                    Logs.record("db timeout", severity: 17, trace: 7, span: 3, resource: 1),
                    Logs.record("retrying", severity: 13, resource: 0, attributes: [Attribute("attempt", .int(2))]),
                ], resources: resources))
        let all = store.newest(matching: LogQuery(), limit: 10).records
        #expect(all.map(\.body) == ["retrying", "db timeout", "started"])
        #expect(all[1].region == "standby-1" && all[1].service == "worker" && all[1].traceID == Spans.trace(7))
        #expect(all[0].attributes == ["attempt=2"])
        func bodies(_ filter: String) -> [String] {
            guard case .success(let query) = LogQuery.parse(filter) else { return ["parse failed"] }
            return store.newest(matching: query, limit: 10).records.map(\.body)
        }
        #expect(bodies("level=warn") == ["retrying", "db timeout"])
        #expect(bodies("region=primary-1") == ["retrying", "started"])
        #expect(bodies("service=WORKER") == ["db timeout"])
        #expect(bodies("TIMEOUT") == ["db timeout"])
        #expect(bodies("attempt=2") == ["retrying"], "a word with = that is no filter key searches attributes")
        #expect(bodies("trace=\(Spans.trace(7).hex)") == ["db timeout"])
        #expect(bodies("region=nowhere").isEmpty)
        #expect(store.records(ofTrace: Spans.trace(7)).map(\.body) == ["db timeout"])
        #expect(store.records(ofTrace: Spans.trace(7), span: SpanID(4)).isEmpty)
        #expect(store.recordCount(ofTrace: Spans.trace(7), span: SpanID(3)) == 1)
        // Paging back from the oldest shown.
        let page = store.newest(matching: LogQuery(), limit: 2)
        #expect(
            store.newest(matching: LogQuery(), limit: 2, olderThan: page.records.last?.sequence).records.map(\.body)
                == ["started"])
    }

    @Test func badFiltersSayWhatIsWrong() {
        #expect(LogQuery.parse("trace=xyz") == .failure(.init(description: "trace= needs a 32-digit hex trace id")))
        #expect(LogQuery.parse("level=loud").failureDescription?.contains("not a level") == true)
        #expect(LogQuery.parse("region=").failureDescription == "region= needs a value")
    }

    @Test func aFloodFromOneRegionEvictsItsOwnRecordsFirst() {
        var limits = LogStoreLimits()
        limits.maxRecords = 100
        var store = LogStore(limits: limits, reservedRegions: ["primary-1", "standby-1"])
        let quiet = Logs.resource("standby-1")
        _ = store.insert(Logs.batch((0..<10).map { Logs.record("quiet \($0)") }, resources: [quiet]))
        for round in 0..<20 {
            _ = store.insert(Logs.batch((0..<50).map { Logs.record("flood \(round)-\($0)") }))
        }
        #expect(store.recordCount == 100)
        #expect(store.recordCount(in: "standby-1") == 10, "the quiet region keeps everything")
        #expect(store.recordCount(in: "primary-1") == 90)
        #expect(store.counters.evicted == 1000 + 10 - 100)
        #expect(store.newest(matching: LogQuery(), limit: 1).records.first?.body == "flood 19-49")
    }

    @Test func bytesAreBoundedAndLongBodiesAndAttributesAreCut() {
        var limits = LogStoreLimits()
        limits.maxBytes = 200_000
        limits.maxBodyBytes = 100
        limits.maxAttributes = 3
        var store = LogStore(limits: limits)
        let long = String(repeating: "é", count: 500)
        let attributes = (0..<10).map { Attribute("k\($0)", .string("v")) }
        for _ in 0..<2000 { _ = store.insert(Logs.batch([Logs.record(long, attributes: attributes)])) }
        #expect(store.approximateBytes <= limits.maxBytes)
        #expect(store.counters.evicted > 0 && store.counters.truncated == 2000)
        let newest = store.newest(matching: LogQuery(), limit: 1).records[0]
        #expect(newest.body.utf8.count <= 100 && newest.body.hasSuffix("…"))
        #expect(newest.attributes.count == 4 && newest.attributes.last == "(7 more attributes dropped)")
    }

    @Test func aScanStopsAtItsLimitAndSaysSo() {
        var store = LogStore()
        _ = store.insert(Logs.batch((0..<1000).map { Logs.record("r\($0)") }))
        let result = store.newest(matching: LogQuery(words: ["nothing"]), limit: 10, scanLimit: 100)
        #expect(result.records.isEmpty && result.complete == false)
    }

    @Test func logErrorRateFeedsTheRegionAndItsHealthThresholds() {
        var topology = Fixture.topology
        topology.thresholds.logErrorsPerSecondDegraded = 0.5
        topology.thresholds.logErrorsPerSecondDown = 5
        var state = DashboardState(topology: topology, now: Fixture.at(0))
        state.apply(Fixture.collector(0))
        state.apply(Fixture.sample("primary-1", 0))
        // 60 errors and 60 infos in one second: 1 error/s over the 60 s window.
        let records = (0..<60).map { Logs.record("e\($0)", severity: 17) } + (0..<60).map { Logs.record("i\($0)") }
        state.apply(.logs(Logs.batch(records, at: 0.5)))
        state.apply(.tick(Fixture.at(1)))
        let region = state.region(named: "primary-1")!
        #expect(region.logErrorsPerSecond.latest == 1)
        #expect(region.logRecordsPerSecond == 2)
        #expect(region.health == .degraded)
        #expect(region.assessment.reasons.contains { $0.contains("log errors 1.0/s ≥ 0.5/s") })
        // A minute later the window is empty: the rate is 0 and health recovers.
        state.apply(Fixture.sample("primary-1", 70))
        state.apply(.tick(Fixture.at(70)))
        #expect(state.region(named: "primary-1")!.logErrorsPerSecond.latest == 0)
        #expect(state.region(named: "primary-1")!.health == .ok)
        #expect(state.storeBounds.contains { $0.name == "log records" && $0.count == 120 })
    }

    /// Defect: a region that sent logs was judged stale only after the default interval
    /// (15 s), not its collector's, since "COLLECTOR/logs" was a source of its own.
    @Test func logsDoNotSlowDownStaleness() {
        var state = DashboardState(topology: Fixture.topology, now: Fixture.at(0))
        state.apply(contentsOf: [Fixture.collector(0), Fixture.sample("primary-1", 0)])
        var batch = Logs.batch([Logs.record("hello")])
        batch.source = "sim"
        state.apply(.logs(batch))
        #expect(state.staleAfter(source: "sim/logs") == state.staleAfter(source: "sim"))
        state.apply(.tick(Fixture.at(5)))
        #expect(state.region(named: "primary-1")!.health == .stale)
    }

    @Test func logsFromUnknownRegionsAreKeptAndCounted() {
        var state = DashboardState(topology: Fixture.topology, now: Fixture.at(0))
        state.apply(.logs(Logs.batch([Logs.record("hello")], resources: [Logs.resource("mars-1")])))
        #expect(state.logs.recordCount(in: "mars-1") == 1)
        #expect(state.unknownRegionObservations["mars-1"] == 1)
    }
}

extension Result where Failure: CustomStringConvertible {
    var failureDescription: String? {
        if case .failure(let error) = self { error.description } else { nil }
    }
}
