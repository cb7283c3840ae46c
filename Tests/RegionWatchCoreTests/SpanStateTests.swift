import Testing
@testable import RegionWatchCore

@Suite("Spans in the dashboard state")
struct SpanStateTests {
    typealias F = Fixture

    static func entryBatch(
        region: String, count: Int, errors: Int, at seconds: Double, duration: Double = 20
    ) -> DashboardEvent {
        let spans = (0..<count).map { index in
            Spans.span(
                trace: UInt64(seconds * 1000) + UInt64(index) + 1, id: 1, kind: .server, start: seconds * 1000,
                duration: duration, status: index < errors ? .error : .unset)
        }
        var batch = Spans.batch(spans, resources: [Spans.resource(region, version: "3.0.1")])
        batch.receivedAt = F.at(seconds)
        batch.source = "otlp"
        return .spans(batch)
    }

    @Test func spansFeedHealthWhenNoOtherSourceDoes() {
        let topology = Topology(
            name: "t", pattern: .activeActive, objectives: F.topology.objectives,
            regions: [RegionConfiguration(name: "eu-west-1", provider: "aws", role: .active, trafficPercent: 100)])
        var state = DashboardState(topology: topology, now: F.t0)
        for second in 0..<10 {
            state.apply(Self.entryBatch(region: "eu-west-1", count: 10, errors: 2, at: Double(second)))
            state.apply(.tick(F.at(Double(second))))
        }
        let region = state.regions[0]
        #expect(region.requestsPerSecond.latest == 10)
        #expect(region.errorRate.latest == 0.2)
        #expect(region.errorRate.source == "otlp/spans")
        #expect(region.health == .degraded, "20% errors: degraded, below the 50% down threshold")
        #expect(region.assessment.reasons.first == "error rate 20% ≥ 1.0%")
        #expect(region.versions["api"] == "3.0.1")
    }

    @Test func aFreshMetricSourceWinsOverSpans() {
        var state = F.healthyState()
        state.apply(Self.entryBatch(region: "primary-1", count: 10, errors: 10, at: 0))
        state.apply(.tick(F.at(0.5)))
        #expect(state.regions[0].errorRate.source == "sim")
        #expect(state.regions[0].errorRate.latest == 0.001)
        // When the metric source goes stale, spans take over.
        for second in 5...8 {
            state.apply(Self.entryBatch(region: "primary-1", count: 10, errors: 0, at: Double(second)))
            state.apply(.tick(F.at(Double(second))))
        }
        #expect(state.regions[0].errorRate.source == "otlp/spans")
    }

    @Test func spansFromUnconfiguredRegionsShowAndAreCounted() {
        var state = F.healthyState()
        state.apply(Self.entryBatch(region: "mars-1", count: 3, errors: 0, at: 1))
        #expect(state.traces.traceCount == 3)
        #expect(state.unknownRegionObservations["mars-1"] == 1)
        #expect(!state.isConfigured(region: "mars-1"))
        #expect(state.traces.summaries().allSatisfy { $0.regions == ["mars-1"] })
    }

    @Test func hopsReachTheMatrix() {
        var state = F.healthyState()
        var batch = Spans.batch(
            [
                Spans.span(trace: 1, id: 1, kind: .client, start: 0, duration: 100, resource: 0),
                Spans.span(trace: 1, id: 2, parent: 1, kind: .server, start: 40, duration: 10, resource: 1),
            ], resources: [Spans.resource("standby-1"), Spans.resource("primary-1", service: "db")])
        batch.receivedAt = F.at(1)
        state.apply(.spans(batch))
        #expect(state.hopLatencies.statistics(from: "standby-1", to: "primary-1")?.p50Milliseconds == 90)
        #expect(state.spanIngest.total == 2)
    }

    @Test func receiverStatisticsAreKept() {
        var state = F.healthyState()
        var statistics = ReceiverStatistics(receiver: "otlp", listenAddress: "127.0.0.1:4318", observedAt: F.at(1))
        statistics.requestsRefused = 3
        state.apply(.receiverStatistics(statistics))
        #expect(state.receivers["otlp"]?.requestsRefused == 3)
        #expect(
            state.staleAfter(source: "otlp/spans") == 15, "span-derived data is stale after its collector's threshold")
    }
}

@Suite("Span ingest building blocks")
struct SpanIngestBlocksTests {
    /// A batch recorded at once gives the same window as recording its spans one by one, with
    /// few regions (grouped) and with many (one by one).
    @Test(arguments: [3, 20])
    func aBatchRecordsAsItsSpansOneByOne(regionCount: Int) {
        var random = SplitMix(seed: UInt64(regionCount))
        let time = Timestamp(secondsSinceEpoch: 1_795_789_800)
        let observations = (0..<500).map { _ in
            EntrySpanObservation(
                region: "region-\(Int.random(in: 0..<regionCount, using: &random))",
                durationMilliseconds: Double.random(in: 0.1...900, using: &random),
                isError: Int.random(in: 0..<20, using: &random) == 0)
        }
        var batched = SpanSignalWindow(), single = SpanSignalWindow()
        batched.record(observations, at: time, source: "otlp/spans")
        for observation in observations { single.record(observation, at: time, source: "otlp/spans") }
        #expect(Set(batched.regionNames) == Set(single.regionNames))
        for region in single.regionNames {
            #expect(batched.figures(for: region, at: time) == single.figures(for: region, at: time), "\(region)")
        }
    }

    /// The trace index against a dictionary, over random inserts, replacements and removals
    /// (growth, probe runs wrapping around the end, removals in the middle of runs).
    @Test(arguments: 0..<20 as Range<UInt64>)
    func traceIndexAgreesWithADictionary(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var index = TraceIndex(), oracle: [TraceID: Int32] = [:]
        // Few distinct ids, so removals and re-insertions of the same ids are frequent.
        let ids = (0..<300).map { _ in TraceID(high: random.next() % 7, low: random.next() | 1) }
        for step in 0..<5000 {
            let id = ids[Int(random.next() % UInt64(ids.count))]
            if random.next() % 3 == 0 {
                index[id] = nil
                oracle[id] = nil
            } else {
                index[id] = Int32(step)
                oracle[id] = Int32(step)
            }
            #expect(index.count == oracle.count, "seed \(seed) step \(step)")
            if step % 97 == 0 {
                for id in ids where index[id] != oracle[id] {
                    Issue.record("seed \(seed) step \(step): \(id) is \(String(describing: index[id]))")
                }
            }
        }
        for id in ids { #expect(index[id] == oracle[id], "seed \(seed)") }
        #expect(index[TraceID(high: 0, low: 0)] == nil)
    }

    @Test func compactIDsKeepOrderAndSpillBeyondThree() {
        var ids = CompactIDs<UInt16>()
        #expect(ids.count == 0 && !ids.contains(0) && Array(ids).isEmpty)
        for id: UInt16 in [7, 0, 7, 9, 4, 0, 12, 4, 30] { _ = ids.insert(id) }
        #expect(Array(ids) == [7, 0, 9, 4, 12, 30])
        #expect(ids.count == 6 && ids.contains(12) && ids.contains(0) && !ids.contains(5))
        #expect(!ids.insert(30) && ids.insert(5) && ids.count == 7)
    }
}
