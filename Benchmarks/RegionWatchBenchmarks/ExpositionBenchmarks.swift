import Foundation
import RegionWatchCollectors
import RegionWatchCore

/// Exposition parsing throughput on a 10,000-series payload, beside `wc -l` on the same bytes
/// in the same run (this machine's floor for scanning lines).
enum ExpositionBenchmarks {
    /// A realistic exposition: histograms, counters and gauges with a few labels each.
    static func payload(series: Int) -> String {
        var lines: [String] = [
            "# HELP http_request_duration_seconds Request latency.", "# TYPE http_request_duration_seconds histogram",
        ]
        let regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]
        var index = 0
        while lines.count < series + 2 {
            let region = regions[index % 3]
            let route = "/api/v\(index % 4)/items/\(index)"
            lines.append(
                "http_request_duration_seconds_bucket{region=\"\(region)\",route=\"\(route)\",method=\"GET\",le=\"0.\(index % 9 + 1)\"} \(index * 37 % 100_000)"
            )
            lines.append(
                "http_requests_total{region=\"\(region)\",route=\"\(route)\",code=\"\(200 + index % 3 * 100)\"} \(Double(index) * 12.5) 1795789800000"
            )
            lines.append(
                "process_resident_memory_bytes{region=\"\(region)\",instance=\"10.0.\(index % 255).\(index % 251):9100\"} \(1.2e8 + Double(index))"
            )
            index += 1
        }
        return lines.prefix(series + 2).joined(separator: "\n") + "\n"
    }

    /// Runs a program to completion with output discarded (posix_spawn and waitpid: Foundation's
    /// Process adds tens of milliseconds of polling here).
    static func run(_ arguments: [String]) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ) == 0 else { return }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    static func run(iterations: Int) {
        let text = payload(series: 10_000)
        let bytes = Array(text.utf8)
        let parser = ExpositionParser()
        let document = parser.parse(bytes)
        guard document.samples.count == 10_000, document.rejectedLines == 0 else {
            print(
                "payload did not parse cleanly: \(document.samples.count) series, \(document.rejectedLines) rejected, first: \(document.errors.first?.description ?? "-")"
            )
            return
        }
        let megabytes = Double(bytes.count) / 1_048_576
        print("exposition payload: \(document.samples.count) series, \(Format.fixed(megabytes, decimals: 2)) MiB")

        let parse = RegionWatchBenchmarks.measure(iterations: iterations) { _ = parser.parse(bytes) }
        RegionWatchBenchmarks.report("parse all series", parse)
        print(
            "  throughput \(Format.fixed(megabytes / parse.median, decimals: 1)) MiB/s, \(Format.rate(10_000 / parse.median)) series/s (median)"
        )

        let filtered = ExpositionParser(families: ["http_requests"])
        let filter = RegionWatchBenchmarks.measure(iterations: iterations) { _ = filtered.parse(bytes) }
        RegionWatchBenchmarks.report("parse keeping one family (as a collector does)", filter)
        print("  throughput \(Format.fixed(megabytes / filter.median, decimals: 1)) MiB/s")

        let file = NSTemporaryDirectory() + "regionwatch-exposition-\(getpid()).txt"
        // The payload 100 times over, so wc's scanning dwarfs its process start.
        let copies = 100
        var repeated = Data()
        for _ in 0..<copies { repeated.append(contentsOf: bytes) }
        FileManager.default.createFile(atPath: file, contents: repeated)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let runs = 20
        let wc = RegionWatchBenchmarks.measure(iterations: runs) { run(["/usr/bin/wc", "-l", file]) }
        let spawn = RegionWatchBenchmarks.measure(iterations: runs) { run(["/bin/true"]) }
        let wcScan = max(1e-6, (wc.median - spawn.median) / Double(copies))
        RegionWatchBenchmarks.report("wc -l on the bytes ×\(copies) (whole process)", wc)
        RegionWatchBenchmarks.report("  /bin/true (process start, subtracted)", spawn)
        print(
            "  wc -l scanning ≈ \(RegionWatchBenchmarks.format(wcScan)) per payload → \(Format.fixed(megabytes / wcScan, decimals: 0)) MiB/s"
        )
        print(
            "  ratio parse time / wc -l scan time = \(Format.fixed(parse.median / wcScan, decimals: 1))× (keeping one family: \(Format.fixed(filter.median / wcScan, decimals: 1))×)"
        )
    }
}
