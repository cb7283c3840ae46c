import Testing
@testable import RegionWatchCore

/// Every map whose keys come from outside has a cap, forgets its stalest entry beyond it and
/// counts what it forgot (issue 11: "every map bounded").
@Suite("Bounded stores")
struct BoundedStoresTests {
    typealias F = Fixture

    @Test func theMapForgetsTheLeastRecentlyTouchedEntryAndCountsIt() {
        var map = RecencyBoundedMap<String, Int>(capacity: 3)
        map.set("a", to: 1)
        map.set("b", to: 2)
        map.set("c", to: 3)
        map.update("a", default: 0) { $0 += 10 }
        let forgotten = map.set("d", to: 4)
        #expect(forgotten == "b", "b was touched least recently (a was updated after it)")
        #expect(map.count == 3 && map.forgottenCount == 1)
        #expect(map["a"] == 11 && map["b"] == nil && map["d"] == 4)
        _ = map["c"]
        #expect(map.set("e", to: 5) == "c", "reading does not touch an entry")
        map.remove("a")
        #expect(map.count == 2 && map.forgottenCount == 2, "a removal is not counted as forgotten")
        #expect(map.dictionary == ["d": 4, "e": 5])
    }

    @Test func aMillionNewKeysKeepTheMapAtItsCapacity() {
        var map = RecencyBoundedMap<Int, Int>(capacity: 64)
        for key in 0..<1_000_000 { map.set(key, to: key) }
        #expect(map.count == 64)
        #expect(map.forgottenCount == 1_000_000 - 64)
        #expect(map.keys.min() == 1_000_000 - 64, "the newest keys are the ones kept")
        #expect(map.touchRecordCount <= 2 * 64 + 16)
    }

    @Test func touchingTheSameKeysAgainAndAgainKeepsTheRecencyQueueBounded() {
        var map = RecencyBoundedMap<Int, [Int]>(capacity: 10)
        for round in 0..<100_000 { map.update(round % 7, default: []) { $0 = [round] } }
        #expect(map.touchRecordCount <= 2 * 10 + 16)
        for key in 100..<110 { map.set(key, to: []) }
        #expect(map.keys.sorted() == Array(100..<110), "the seven touched keys were the stalest once ten new ones came")
        #expect(map.forgottenCount == 7)
        // One key touched many times in a row keeps one record.
        var single = RecencyBoundedMap<String, Int>(capacity: 4)
        for _ in 0..<1000 { single.update("eu-west-1", default: 0) { $0 += 1 } }
        #expect(single.touchRecordCount == 1 && single["eu-west-1"] == 1000)
        single.remove("eu-west-1")
        single.set("eu-west-1", to: 1)
        for key in ["a", "b", "c"] { single.set(key, to: 0) }
        #expect(single.set("d", to: 0) == "eu-west-1", "a key removed and added again is as stale as its new touch")
    }

    @Test func unknownRegionNamesShareOneCapAndOnlyTheFirstOnesRaiseNotices() {
        var state = F.healthyState()
        state.apply(F.sample(1, errorRate: 0.03))
        let operatorNotices = state.recentNotices.elements
        for index in 0..<10_000 {
            state.apply(F.sample("churn-\(index)", 1))
            // A name that keeps reporting is never the stalest.
            if index.isMultiple(of: 10) { state.apply(F.sample("steady-1", 1)) }
        }
        #expect(state.unknownRegionCount == DashboardState.unknownRegionNameLimit)
        #expect(state.unknownRegions.forgottenCount == 10_001 - DashboardState.unknownRegionNameLimit)
        #expect(state.unknownRegionObservations["steady-1"] == 1000)
        #expect(state.unknownRegionObservations["churn-9999"] == 1)
        let notices = state.recentNotices.elements
        #expect(
            notices.filter { $0.message.contains("not in the configuration") }.count
                <= DashboardState.unknownRegionNameLimit)
        #expect(notices.filter { $0.message.contains("the stalest names are forgotten") }.count == 1)
        for notice in operatorNotices { #expect(notices.contains(notice), "churn does not push out \(notice.message)") }
        let bound = state.storeBounds.first { $0.name == "unknown region names" }
        #expect(bound == StoreBound(name: "unknown region names", count: 64, capacity: 64, forgotten: 10_001 - 64))
    }

    @Test func servicesPerRegionAreCappedAndTheReportingOnesStay() {
        var state = F.healthyState()
        for index in 0..<1000 {
            var batch = Spans.batch(
                [Spans.span(trace: UInt64(index + 1), id: 1, kind: .server, start: 0, duration: 1)],
                resources: [Spans.resource("primary-1", service: "svc-\(index)", version: "1.\(index)")]
            )
            batch.receivedAt = F.at(Double(index) / 100)
            state.apply(.spans(batch))
            if index.isMultiple(of: 50) {
                var api = Spans.batch(
                    [Spans.span(trace: UInt64(10_000 + index), id: 1, kind: .server, start: 0, duration: 1)],
                    resources: [Spans.resource("primary-1", service: "api", version: "2.0")])
                api.receivedAt = F.at(Double(index) / 100)
                state.apply(.spans(api))
            }
        }
        let region = state.region(named: "primary-1")!
        #expect(region.versions.count == RegionState.serviceCapacity)
        #expect(region.versions.forgottenCount == 1001 - RegionState.serviceCapacity)
        #expect(region.versions["api"] == "2.0", "a service that keeps reporting is kept")
        #expect(region.primaryVersion == "2.0")
        #expect(region.versions["svc-999"] == "1.999" && region.versions["svc-0"] == nil)
        #expect(
            state.storeBounds.contains(
                StoreBound(name: "services in primary-1", count: 256, capacity: 256, forgotten: 1001 - 256)))
    }

    @Test func aCollectorsVersionListIsCappedInServiceOrder() {
        var state = F.healthyState()
        let versions = Dictionary(uniqueKeysWithValues: (0..<300).map { (String(format: "svc-%03d", $0), "1.0") })
        state.apply(
            .versions(VersionSample(region: "primary-1", source: "sim", observedAt: F.at(1), versions: versions)))
        let region = state.region(named: "primary-1")!
        #expect(region.versions.count == 256 && region.versions.forgottenCount == 44)
        #expect(
            region.versions["svc-299"] != nil && region.versions["svc-000"] == nil, "the last in service order are kept"
        )
        for second in 2...10 {
            state.apply(
                .versions(
                    VersionSample(
                        region: "primary-1", source: "sim", observedAt: F.at(Double(second) / 10 + 1),
                        versions: versions)))
        }
        #expect(state.region(named: "primary-1")!.versions.forgottenCount == 44, "the same list again is no new loss")
        state.apply(
            .versions(VersionSample(region: "primary-1", source: "sim", observedAt: F.at(3), versions: ["api": "3"])))
        #expect(
            state.region(named: "primary-1")!.versions.dictionary == ["api": "3"], "a new list replaces the old one")
    }

    @Test func hopPairsForgetTheStalestPair() {
        var matrix = HopLatencyMatrix()
        for index in 0..<5000 {
            matrix.record(CrossRegionHop(from: "r\(index)", to: "s\(index)", latencyMilliseconds: 1))
            matrix.record(CrossRegionHop(from: "eu", to: "us", latencyMilliseconds: 2))
        }
        #expect(matrix.pairs.count == HopLatencyMatrix.maximumPairs)
        #expect(matrix.forgottenPairs == 5001 - HopLatencyMatrix.maximumPairs)
        #expect(matrix.statistics(from: "eu", to: "us")?.count == 5000, "a pair still hopping keeps its history")
        #expect(
            matrix.bound == StoreBound(name: "region hop pairs", count: 1024, capacity: 1024, forgotten: 5001 - 1024))
    }

    @Test func spanSignalWindowsAreCappedByRegion() {
        var window = SpanSignalWindow()
        for index in 0..<1000 {
            window.record(
                EntrySpanObservation(region: "r\(index)", durationMilliseconds: 5, isError: false),
                at: F.at(Double(index) / 100), source: "otlp/spans")
        }
        #expect(window.regionNames.count == SpanSignalWindow.regionCapacity)
        #expect(window.bound.forgotten == 1000 - SpanSignalWindow.regionCapacity)
        #expect(window.figures(for: "r999", at: F.at(10)) != nil && window.figures(for: "r0", at: F.at(10)) == nil)
    }

    @Test func traceStoreRegionNamesAreReusedOnlyWhenNoKeptTraceUsesThem() {
        var limits = TraceStoreLimits()
        limits.maxRegions = 4
        limits.maxSpans = 6
        var store = TraceStore(limits: limits)
        // Twenty regions, one trace of three spans each; the store keeps six spans, so old
        // traces leave and their region names become free for new ones.
        for index in 0..<20 {
            let spans = (1...3).map {
                Spans.span(trace: UInt64(index + 1), id: $0, parent: $0 == 1 ? 0 : 1, start: 0, duration: 1)
            }
            _ = store.insert(Spans.batch(spans, resources: [Spans.resource("region-\(index)")]))
            for summary in store.summaries() {
                #expect(summary.regions == ["region-\(summary.traceID.low - 1)"], "a kept trace is never relabelled")
            }
        }
        #expect(store.regionNames.count == 4)
        #expect(store.regionBound.forgotten == 16, "each new name took the place of one no kept trace used")
        #expect(store.spansFoldedIntoUnknownRegion == 0)
        #expect(store.summary(of: Spans.trace(20))?.regions == ["region-19"])
    }

    @Test func newRegionNamesFoldIntoUnknownWhileEveryNameIsInUse() {
        var limits = TraceStoreLimits()
        limits.maxRegions = 4
        var store = TraceStore(limits: limits)
        for index in 0..<10 {
            _ = store.insert(
                Spans.batch(
                    [Spans.span(trace: UInt64(index + 1), id: 1, start: 0, duration: 1)],
                    resources: [Spans.resource("region-\(index)")]))
        }
        #expect(store.spansFoldedIntoUnknownRegion == 6)
        #expect(store.regionBound.forgotten == 0, "names of kept traces are never forgotten")
        #expect(store.summary(of: Spans.trace(10))?.regions == [SpanResource.unknownRegion])
        #expect(store.summary(of: Spans.trace(4))?.regions == ["region-3"])
    }

    @Test func noticesCountWhatTheyDrop() {
        var state = DashboardState(topology: F.topology, now: F.t0, noticeCapacity: 5)
        for index in 0..<12 {
            state.apply(.notice(Notice(at: F.at(Double(index)), severity: .info, message: "n\(index)")))
        }
        #expect(
            state.storeBounds.first { $0.name == "notices" }
                == StoreBound(name: "notices", count: 5, capacity: 5, forgotten: 7))
    }
}
