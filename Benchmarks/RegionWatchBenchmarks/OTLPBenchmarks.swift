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
        report("  of which swift-protobuf parsing", parseTiming, spans: spanCount)
        let lazyTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = try? OTLPProtobufDecoder.parseLazyOnly(protobuf)
        }
        report("  lazy view parsing (same bytes)", lazyTiming, spans: spanCount)
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
        // At capacity: every batch evicts about as many spans as it brings.
        var full = DashboardState(topology: .demo, now: now)
        let distinct = (0..<260).map { received(batch(spans: 1000, seed: UInt64(5000 + $0))) }
        for batch in distinct.prefix(210) { full.apply(.spans(batch)) }
        var next = 210
        let evictingTiming = RegionWatchBenchmarks.measure(iterations: 40) {
            full.apply(.spans(distinct[next % distinct.count]))
            next += 1
        }
        report("apply at capacity (with eviction)", evictingTiming, spans: spanCount)
    }

    static func report(_ name: String, _ timing: RegionWatchBenchmarks.Timing, spans: Int) {
        let perSpan = timing.median / Double(spans)
        print(
            RegionWatchBenchmarks.pad(name, 46)
                + "median \(RegionWatchBenchmarks.format(timing.median)) per request → \(RegionWatchBenchmarks.format(perSpan)) per span, \(Int(1 / perSpan)) spans/s per core"
        )
    }
}
