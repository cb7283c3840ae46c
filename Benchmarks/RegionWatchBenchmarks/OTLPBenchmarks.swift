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
            TraceGenerator.addTrace(to: &builder, conditions: .init(region: region, versions: ["api": "2.14.3"], latencyFactor: 1, errorRate: 0.01), primary: regions[0], end: end, random: &random)
        }
        return builder.batch(source: "bench", at: end)
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
        let jsonTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = try? OTLPJSONDecoder.decode(json, attribution: attribution, source: "bench", receivedAt: now)
        }
        report("decode JSON", jsonTiming, spans: spanCount)
        // Storing: fresh traces every round (ids differ per batch), in a store at its limit.
        let batches = (0..<40).map { batch(spans: 1000, seed: UInt64(100 + $0)) }
        var state = DashboardState(topology: .demo, now: now)
        var round = 0
        let insertTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            state.apply(.spans(batches[round % batches.count]))
            round += 1
        }
        report("apply to state (store insert, signals)", insertTiming, spans: spanCount)
    }

    static func report(_ name: String, _ timing: RegionWatchBenchmarks.Timing, spans: Int) {
        let perSpan = timing.median / Double(spans)
        print(RegionWatchBenchmarks.pad(name, 46) + "median \(RegionWatchBenchmarks.format(timing.median)) per request → \(RegionWatchBenchmarks.format(perSpan)) per span, \(Int(1 / perSpan)) spans/s per core")
    }
}
