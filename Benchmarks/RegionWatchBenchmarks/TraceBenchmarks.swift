#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI

/// glibc's `malloc_trim`, not exported by the Swift Glibc module: returns freed heap pages to the
/// kernel so resident-size deltas measure live data rather than allocator slack.
@_silgen_name("malloc_trim")
private func releaseFreeHeapPages(_ pad: Int) -> Int32

/// Trace store memory and trace screen rendering.
enum TraceBenchmarks {
    static let start = Timestamp(secondsSinceEpoch: 1_795_789_800)

    static func run(iterations: Int, retainedSpans: Int) {
        memoryPerSpan(spans: retainedSpans)
        waterfall(spans: 10_000, iterations: max(20, iterations / 10))
        rootlessTrace(spans: 10_000, iterations: max(5, iterations / 40))
        listFilter(spans: 200_000, iterations: max(10, iterations / 40))
    }

    /// Resident bytes of this process.
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0, resident = 0
        _ = withUnsafeMutablePointer(to: &size) { sizePointer in
            withUnsafeMutablePointer(to: &resident) { residentPointer in
                withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
            }
        }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Inserts `spans` spans (as the protobuf receiver hands them over) and reports resident
    /// memory growth per retained span.
    static func memoryPerSpan(spans: Int) {
        var limits = TraceStoreLimits()
        limits.maxSpans = spans
        limits.maxBytes = 1 << 40
        var state = DashboardState(topology: .demo, now: start, traceLimits: limits)
        _ = releaseFreeHeapPages(0)
        let before = residentBytes()
        var inserted = 0
        var detailBytes = 0
        var seed: UInt64 = 90_000
        while inserted < spans {
            let batch = OTLPBenchmarks.received(OTLPBenchmarks.batch(spans: min(1000, spans - inserted), seed: seed))
            seed += 1
            detailBytes += batch.spans.reduce(0) { $0 + ($1.encodedDetails?.count ?? 0) }
            inserted += batch.spans.count
            state.apply(.spans(batch))
        }
        _ = releaseFreeHeapPages(0)
        let after = residentBytes()
        let kept = state.traces.spanCount
        print(
            RegionWatchBenchmarks.pad("resident memory per retained span", 46)
                + "\(Format.fixed(Double(after - before) / Double(kept), decimals: 0)) B (\(kept) spans in \(state.traces.traceCount) traces, RSS +\(Format.bytes(Double(after - before))); store's own estimate \(Format.fixed(Double(state.traces.approximateBytes) / Double(kept), decimals: 0)) B; received detail bytes \(Format.fixed(Double(detailBytes) / Double(inserted), decimals: 0)) B/span)"
        )
    }

    /// A trace of `spans` spans: a root, 100 service calls, each with 99 children.
    static func bigTrace(spans: Int) -> (DashboardState, TraceID) {
        var limits = TraceStoreLimits()
        limits.maxSpansPerTrace = spans + 1
        var state = DashboardState(topology: .demo, now: start, traceLimits: limits)
        let traceID = TraceID(high: 42, low: 42)
        let resources = Topology.demo.regions.map {
            SpanResource(
                region: $0.name, provider: $0.provider, service: "svc-\($0.name)", serviceVersion: nil, attributes: [])
        }
        var generated: [IncomingSpan] = []
        let base: UInt64 = 1_795_789_800_000_000_000
        func span(_ id: UInt64, parent: UInt64, start: UInt64, duration: UInt64, region: Int) -> IncomingSpan {
            IncomingSpan(
                traceID: traceID, spanID: SpanID(id), parentSpanID: SpanID(parent), name: "operation-\(id % 50)",
                kind: .internal, startUnixNano: base + start, endUnixNano: base + start + duration,
                statusCode: id % 97 == 0 ? .error : .unset, resourceIndex: region, scopeIndex: 0)
        }
        generated.append(span(1, parent: 0, start: 0, duration: 10_000_000_000, region: 0))
        var next: UInt64 = 2
        let groups = 100
        for group in 0..<groups where generated.count < spans {
            let groupID = next
            next += 1
            let groupStart = UInt64(group) * 99_000_000
            generated.append(span(groupID, parent: 1, start: groupStart, duration: 98_000_000, region: group % 3))
            for child in 0..<(spans / groups - 1) where generated.count < spans {
                generated.append(
                    span(
                        next, parent: groupID, start: groupStart + UInt64(child) * 900_000, duration: 800_000,
                        region: (group + child) % 3))
                next += 1
            }
        }
        for chunk in stride(from: 0, to: generated.count, by: 1000) {
            state.apply(
                .spans(
                    SpanBatch(
                        source: "bench", receivedAt: start, resources: resources,
                        scopes: [SpanScope(name: "b", version: "1")],
                        spans: Array(generated[chunk..<min(generated.count, chunk + 1000)]))))
        }
        return (state, traceID)
    }

    static func waterfall(spans: Int, iterations: Int) {
        let (state, traceID) = bigTrace(spans: spans)
        var view = ViewState(isDemo: false, themeName: "default", availableThemes: [])
        _ = view.execute("trace \(traceID.hex)", state: state)
        for _ in 0..<(spans / 2 / 10) { _ = view.handle(.pageDown, state: state) }  // somewhere in the middle
        let size = TerminalSize(width: 120, height: 40)
        let count = state.traces.trace(traceID)?.spans.count ?? 0
        RegionWatchBenchmarks.report(
            "render waterfall of a \(count)-span trace 120x40",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                _ = DashboardView.render(state: state, view: view, size: size, theme: .fallback)
            })
        RegionWatchBenchmarks.report(
            "  of which building the tree",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                _ = TraceTree(spans: state.traces.trace(traceID)!.spans)
            })
    }

    /// Storing a 10,000-span trace whose root never arrives (an uninstrumented entry point):
    /// every span waits for a parent, which must not make each insert scan the trace.
    static func rootlessTrace(spans: Int, iterations: Int) {
        let traceID = TraceID(high: 7, low: 7)
        let resources = [
            SpanResource(region: "us-east-1", provider: "aws", service: "api", serviceVersion: nil, attributes: [])
        ]
        let base: UInt64 = 1_795_789_800_000_000_000
        let generated = (0..<spans).map { index in
            IncomingSpan(
                traceID: traceID, spanID: SpanID(UInt64(index + 2)), parentSpanID: SpanID(1), name: "call",
                kind: .client, startUnixNano: base + UInt64(index) * 1000,
                endUnixNano: base + UInt64(index) * 1000 + 500, statusCode: .unset, resourceIndex: 0, scopeIndex: 0)
        }
        let batches = stride(from: 0, to: spans, by: 1000).map {
            SpanBatch(
                source: "bench", receivedAt: start, resources: resources, scopes: [SpanScope(name: "b", version: "1")],
                spans: Array(generated[$0..<min(spans, $0 + 1000)]))
        }
        RegionWatchBenchmarks.report(
            "store a rootless \(spans)-span trace",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                var store = TraceStore()
                for batch in batches { _ = store.insert(batch) }
            })
    }

    static func listFilter(spans: Int, iterations: Int) {
        var state = DashboardState(topology: .demo, now: start)
        var seed: UInt64 = 70_000
        while state.traces.spanCount < spans - 1000 {
            state.apply(.spans(OTLPBenchmarks.received(OTLPBenchmarks.batch(spans: 1000, seed: seed))))
            seed += 1
        }
        let query = try! TraceQuery.parse("checkout region=eu-west-1 >50ms").get()
        let matching = state.traces.listing(matching: query).count
        RegionWatchBenchmarks.report(
            "filter+sort \(state.traces.spanCount) spans (\(state.traces.traceCount) traces) → \(matching)",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                _ = TraceSortOrder.time.sorted(state.traces.listing(matching: query))
            })
        let words = try! TraceQuery.parse("authorize").get()
        RegionWatchBenchmarks.report(
            "  free text “authorize” → \(state.traces.listing(matching: words).count)",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                _ = TraceSortOrder.time.sorted(state.traces.listing(matching: words))
            })
        var filtered = ViewState(isDemo: false, themeName: "default", availableThemes: [])
        _ = filtered.handle(.character("t"), state: state)
        _ = filtered.handle(.character("/"), state: state)
        for character in "checkout region=eu-west-1 >50ms" { _ = filtered.handle(.character(character), state: state) }
        _ = filtered.handle(.enter, state: state)
        RegionWatchBenchmarks.report(
            "render the filtered trace list 120x40",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                _ = DashboardView.render(
                    state: state, view: filtered, size: TerminalSize(width: 120, height: 40), theme: .fallback)
            })
        var view = ViewState(isDemo: false, themeName: "default", availableThemes: [])
        _ = view.handle(.character("t"), state: state)
        RegionWatchBenchmarks.report(
            "render the unfiltered trace list 120x40",
            RegionWatchBenchmarks.measure(iterations: iterations) {
                _ = DashboardView.render(
                    state: state, view: view, size: TerminalSize(width: 120, height: 40), theme: .fallback)
            })
    }
}
