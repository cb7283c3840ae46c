import RegionWatchApp
import RegionWatchCollectors
import RegionWatchCore

/// Logs: decoding a request, storing records below and at the store's capacity, and the
/// memory one retained record costs with a million kept.
enum LogBenchmarks {
    /// A request of `count` records as the load generator sends them, at a fixed time.
    static func batch(_ count: Int, seed: UInt64) -> LogBatch {
        LoadBatches.logs(count, seed: seed, at: Timestamp(secondsSinceEpoch: 1_795_789_800))
    }

    static func run(iterations: Int, retained: Int) {
        let request = batch(1000, seed: 7)
        let protobuf = OTLPLogsEncoder.protobuf(request)
        let json = OTLPLogsEncoder.json(request)
        print("OTLP logs request: 1000 records, protobuf \(protobuf.count / 1024) KiB, JSON \(json.count / 1024) KiB")
        let now = Timestamp(secondsSinceEpoch: 1_795_789_800)
        let decodeTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = protobuf.withUnsafeBytes {
                try? OTLPLogsDecoder.decodeProtobuf($0, attribution: RegionAttribution(), source: "b", receivedAt: now)
            }
        }
        report("decode protobuf logs", decodeTiming, records: 1000)
        let jsonTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = json.withUnsafeBytes {
                try? OTLPLogsDecoder.decodeJSON($0, attribution: RegionAttribution(), source: "b", receivedAt: now)
            }
        }
        report("decode JSON logs", jsonTiming, records: 1000)
        let batches = (0..<20).map { batch(1000, seed: UInt64(100 + $0)) }
        var store = LogStore(reservedRegions: Topology.demo.regions.map(\.name))
        var round = 0
        let insertTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = store.insert(batches[round % batches.count])
            round += 1
        }
        report("store below capacity", insertTiming, records: 1000)
        var limits = LogStoreLimits()
        limits.maxRecords = 100_000
        var full = LogStore(limits: limits, reservedRegions: Topology.demo.regions.map(\.name))
        for index in 0..<120 { _ = full.insert(batches[index % batches.count]) }
        let evictingTiming = RegionWatchBenchmarks.measure(iterations: iterations) {
            _ = full.insert(batches[round % batches.count])
            round += 1
        }
        report("store at capacity (with eviction)", evictingTiming, records: 1000)
        // Memory per retained record: RSS growth while a store fills to `retained` records.
        limits.maxRecords = retained
        limits.maxBytes = 1 << 40
        var big = LogStore(limits: limits, reservedRegions: Topology.demo.regions.map(\.name))
        let before = TraceBenchmarks.residentBytes()
        var bodyBytes = 0
        var inserted = 0
        while inserted < retained {
            let next = batches[inserted / 1000 % batches.count]
            bodyBytes += next.records.reduce(0) { $0 + $1.body.utf8.count }
            _ = big.insert(next)
            inserted += next.records.count
        }
        let after = TraceBenchmarks.residentBytes()
        let perRecord = Double(after - before) / Double(big.recordCount)
        let body = Double(bodyBytes) / Double(inserted)
        print(
            RegionWatchBenchmarks.pad("memory per retained log record", 46)
                + "\(Format.fixed(perRecord, decimals: 0)) B with \(big.recordCount) kept (RSS +\(Format.bytes(Double(after - before)))); bodies average \(Format.fixed(body, decimals: 0)) B, so \(Format.fixed(perRecord - body, decimals: 0)) B besides the body; store's estimate \(Format.fixed(Double(big.approximateBytes) / Double(big.recordCount), decimals: 0)) B"
        )
    }

    static func report(_ name: String, _ timing: RegionWatchBenchmarks.Timing, records: Int) {
        let perRecord = timing.median / Double(records)
        print(
            RegionWatchBenchmarks.pad(name, 46)
                + "median \(RegionWatchBenchmarks.format(timing.median)) per request → \(RegionWatchBenchmarks.format(perRecord)) per record, \(Int(1 / perRecord)) records/s per core"
        )
    }
}
