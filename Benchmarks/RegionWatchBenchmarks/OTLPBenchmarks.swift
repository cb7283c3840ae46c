import RegionWatchCollectors
import RegionWatchCore

/// Decoding and storing spans: the receiver's and the state's share of ingest cost.
enum OTLPBenchmarks {
    /// A request of about `spans` spans, as the load generator sends.
    static func batch(spans: Int, seed: UInt64 = 7) -> SpanBatch {
        var random = SeededGenerator(seed: seed)
        var builder = TraceGenerator.BatchBuilder()
        let regions = Topology.demo.regions
        let end = Timestamp(secondsSinceEpoch: 1_795_789_800)
        while builder.spans.count < spans {
            let region = regions[Int(random.next() % 2)]
            TraceGenerator.addTrace(
                to: &builder,
                conditions: .init(region: region, versions: ["api": "2.14.3"], latencyFactor: 1, errorRate: 0.01),
                primary: regions[0], end: end, random: &random)
        }
        return builder.batch(source: "bench", at: end)
    }

    /// The batch as the protobuf receiver hands it over (details still encoded).
    static func received(_ batch: SpanBatch) -> SpanBatch {
        (try? OTLPProtobufDecoder.decode(
            OTLPEncoder.protobuf(batch), attribution: RegionAttribution(), source: "bench", receivedAt: batch.receivedAt
        ).batch) ?? batch
    }

    static func run(iterations: Int) {
        let request = batch(spans: 1000)
        let spanCount = request.spans.count
        let protobuf = OTLPEncoder.protobuf(request)
        let json = OTLPEncoder.json(request)
        print("OTLP request: \(spanCount) spans, protobuf \(protobuf.count / 1024) KiB, JSON \(json.count / 1024) KiB")
        let attribution = RegionAttribution()
        let now = Timestamp(secondsSinceEpoch: 1_795_789_800)
        let protobufTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = try? OTLPProtobufDecoder.decode(protobuf, attribution: attribution, source: "bench", receivedAt: now)
        }
        report("decode protobuf", protobufTiming, spans: spanCount)
        let parseTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = try? OTLPProtobufDecoder.parseOnly(protobuf)
        }
        report("  swift-protobuf's full parse, for scale", parseTiming, spans: spanCount)
        let jsonTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = try? OTLPJSONDecoder.decode(json, attribution: attribution, source: "bench", receivedAt: now)
        }
        report("decode JSON", jsonTiming, spans: spanCount)
        // Storing: fresh traces every round (ids differ per batch), as received over protobuf.
        let batches = (0..<40).map { received(batch(spans: 1000, seed: UInt64(100 + $0))) }
        var state = DashboardState(topology: .demo, now: now)
        var round = 0
        let insertTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            state.apply(.spans(batches[round % batches.count]))
            round += 1
        }
        report("apply to state (store insert, signals)", insertTiming, spans: spanCount)
        atCapacity(iterations: 200)
    }

    /// `batch` with every trace id changed by `key` (fresh traces, same shape).
    static func rekeyed(_ batch: SpanBatch, _ key: UInt64) -> SpanBatch {
        var copy = batch
        for index in copy.spans.indices {
            copy.spans[index].traceID = TraceID(
                high: batch.spans[index].traceID.high ^ (key &* 0x9E37_79B9_7F4A_7C15),
                low: batch.spans[index].traceID.low ^ key)
        }
        return copy
    }

    /// Storing at capacity: the store is full (200,000 spans) and every batch evicts about as
    /// many spans as it brings, as in a long-running dashboard. `regionwatch-bench capacity`
    /// runs only this (for profiling).
    static func atCapacity(iterations: Int) {
        let now = Timestamp(secondsSinceEpoch: 1_795_789_800)
        let templates = (0..<10).map { received(batch(spans: 1000, seed: UInt64(5000 + $0))) }
        var full = DashboardState(topology: .demo, now: now)
        for round in 0..<210 { full.apply(.spans(rekeyed(templates[round % 10], UInt64(round + 1)))) }
        let fresh = (0..<max(1, min(iterations, 400))).map { rekeyed(templates[$0 % 10], UInt64(10_000 + $0)) }
        var next = 0
        let evictingTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            full.apply(.spans(fresh[next % fresh.count]))
            next += 1
        }
        report("apply at capacity (with eviction)", evictingTiming, spans: templates[0].spans.count)
    }

    static func report(_ name: String, _ timing: RegionWatchBenchmarks.Timing, spans: Int) {
        let perSpan = timing.median / Double(spans)
        print(
            RegionWatchBenchmarks.pad(name, 46)
                + "median \(RegionWatchBenchmarks.format(timing.median)) per request → \(RegionWatchBenchmarks.format(perSpan)) per span, \(Int(1 / perSpan)) spans/s per core"
        )
    }
}
