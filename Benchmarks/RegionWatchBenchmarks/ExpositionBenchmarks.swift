import Foundation
import RegionWatchCollectors
import RegionWatchCore

/// Exposition parsing throughput on a 10,000-series payload, beside `wc -l` on the same bytes
/// in the same run (this machine's floor for scanning lines).
enum ExpositionBenchmarks {
    /// A realistic exposition: histograms, counters and gauges with a few labels each.
    static func payload(series: Int) -> String {
        var lines: [String] = ["# HELP http_request_duration_seconds Request latency.", "# TYPE http_request_duration_seconds histogram"]
        let regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]
        var index = 0
        while lines.count < series {
            let region = regions[index % 3]
            let route = "/api/v\(index % 4)/items/\(index % 97)"
            lines.append("http_request_duration_seconds_bucket{region=\"\(region)\",route=\"\(route)\",method=\"GET\",le=\"0.\(index % 9 + 1)\"} \(index * 37 % 100_000)")
            lines.append("http_requests_total{region=\"\(region)\",route=\"\(route)\",code=\"\(200 + index % 3 * 100)\"} \(Double(index) * 12.5) 1795789800000")
            lines.append("process_resident_memory_bytes{region=\"\(region)\",instance=\"10.0.\(index % 255).\(index % 251):9100\"} \(1.2e8 + Double(index))")
            index += 1
        }
        return lines.prefix(series + 2).joined(separator: "\n") + "\n"
    }

    static func run(iterations: Int) {
        let text = payload(series: 10_000)
        let bytes = Array(text.utf8)
        let parser = ExpositionParser()
        let document = parser.parse(bytes)
        precondition(document.samples.count == 10_000 && document.rejectedLines == 0, "payload must parse cleanly")
        let megabytes = Double(bytes.count) / 1_048_576
        print("exposition payload: \(document.samples.count) series, \(Format.fixed(megabytes, decimals: 2)) MiB")

        let parse = RegionWatchBenchmarks.measure(iterations: iterations) { _ = parser.parse(bytes) }
        RegionWatchBenchmarks.report("parse all series", parse)
        print("  throughput \(Format.fixed(megabytes / parse.median, decimals: 1)) MiB/s, \(Format.rate(10_000 / parse.median)) series/s (median)")

        let filtered = ExpositionParser(families: ["http_requests"])
        let filter = RegionWatchBenchmarks.measure(iterations: iterations) { _ = filtered.parse(bytes) }
        RegionWatchBenchmarks.report("parse keeping one family (as a collector does)", filter)
        print("  throughput \(Format.fixed(megabytes / filter.median, decimals: 1)) MiB/s")

        let file = NSTemporaryDirectory() + "regionwatch-exposition-\(getpid()).txt"
        FileManager.default.createFile(atPath: file, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let runs = max(20, iterations / 10)
        let wc = RegionWatchBenchmarks.measure(iterations: runs) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/wc")
            process.arguments = ["-l", file]
            process.standardOutput = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
        }
        let spawn = RegionWatchBenchmarks.measure(iterations: runs) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/true")
            try? process.run()
            process.waitUntilExit()
        }
        let wcScan = max(1e-6, wc.median - spawn.median)
        RegionWatchBenchmarks.report("wc -l on the same bytes (whole process)", wc)
        RegionWatchBenchmarks.report("  /bin/true (process start, subtracted)", spawn)
        print("  wc -l scanning ≈ \(RegionWatchBenchmarks.format(wcScan)) → \(Format.fixed(megabytes / wcScan, decimals: 0)) MiB/s")
        print("  ratio parse / wc -l scan = \(Format.fixed(parse.median / wcScan, decimals: 1))×")
    }
}
