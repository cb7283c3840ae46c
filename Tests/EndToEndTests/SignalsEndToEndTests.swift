import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Metrics and logs from the real OpenTelemetry Python SDK into the real binary: the HTTP
    /// semantic-convention histogram becomes the region's rate, error rate and latency in
    /// `status --json` (checked against what the sender recorded), and logs show on the logs
    /// screen, linked to their trace.
    @Suite("Metrics and logs end to end", .serialized, Requirement.tmux.trait)
    struct SignalsEndToEndTests {
        let binary = Binary.path
        static let script = TracesEndToEndTests.repository.appendingPathComponent("Tests/Integration/otel_signals.py")
            .path

        static func configuration(port: Int, grpcPort: Int, name: String) throws -> String {
            let path = NSTemporaryDirectory() + "regionwatch-signals-\(getpid())-\(name).yaml"
            try """
            topology: integration
            pattern: active-active
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: eu-west-1, provider: aws, role: primary, traffic: 60 }
              - { name: us-east-1, provider: aws, role: standby, traffic: 40 }
            collectors:
              - { kind: otlp, listen: "127.0.0.1:\(port)", grpcListen: "127.0.0.1:\(grpcPort)" }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Whether something accepts connections on the loopback `port`.
        static func isListening(_ port: Int) -> Bool {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }

        static var sdkIsPresent: Bool {
            ["proto", "json", "grpc"].allSatisfy { Requirement.openTelemetrySDK($0).isPresent() }
        }

        @Test(
            .enabled(
                if: sdkIsPresent || Requirement.isEnforced,
                Comment(rawValue: "\(Requirement.openTelemetrySDK("proto").name) is not installed")),
            arguments: ["grpc", "proto", "json"])
        func sdkMetricsBecomeTheRegionsSignalsInStatusJSON(exporter: String) throws {
            let python = TracesEndToEndTests.python(for: exporter)
            #expect(Requirement.openTelemetrySDK(exporter).isPresent(), "missing \(python)")
            let port = LoopbackPort.free(), grpcPort = LoopbackPort.free()
            let configuration = try Self.configuration(port: port, grpcPort: grpcPort, name: exporter)
            defer { unlink(configuration) }
            let output = NSTemporaryDirectory() + "regionwatch-signals-\(getpid())-\(exporter).json"
            defer { unlink(output) }
            let outputFile = open(output, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            let devNull = open("/dev/null", O_RDWR)
            // status collects for 14 s, listening on both transports.
            let status = try ChildProcess(
                [
                    binary, "status", "--json", "--wait", "14", "--config", configuration, "--otlp-listen",
                    "127.0.0.1:\(port)", "--otlp-grpc-listen", "127.0.0.1:\(grpcPort)",
                ], input: devNull, output: outputFile, error: devNull)
            close(outputFile)
            let listening = exporter == "grpc" ? grpcPort : port
            #expect(eventually(within: 30) { Self.isListening(listening) }, "status never listened")
            // The sender keeps serving and exporting every second until status has printed.
            let sender = try ChildProcess(
                [
                    python, Self.script, "--exporter", exporter, "--endpoint",
                    exporter == "grpc" ? "127.0.0.1:\(grpcPort)" : "http://127.0.0.1:\(port)", "--linger", "30",
                ], input: devNull, output: devNull, error: devNull)
            close(devNull)
            defer {
                kill(sender.pid, SIGKILL)
                sender.wait(within: 10)
            }
            #expect(status.wait(within: 60) == 0)
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any]
            )
            let region = try #require(
                (json["regions"] as? [[String: Any]])?.first { $0["name"] as? String == "eu-west-1" })
            // The oracle is what the sender recorded each second: 190 requests of 30 ms with
            // status 200, 10 of 600 ms with 503. The error rate is exact; a quantile from
            // buckets is only known to its bucket: p99 (truly 600 ms) in (500, 750], p50
            // (truly 30 ms) in (25, 50].
            let errorRate = try #require(region["errorRate"] as? Double, "\(region)")
            #expect(abs(errorRate - 0.05) < 0.005, "error rate \(errorRate)")
            let p99 = try #require(region["p99Ms"] as? Double)
            #expect(p99 > 500 && p99 <= 750, "p99 \(p99) outside the bucket of the true 600 ms")
            let p50 = try #require(region["p50Ms"] as? Double)
            #expect(p50 > 25 && p50 <= 50, "p50 \(p50) outside the bucket of the true 30 ms")
            let rate = try #require(region["requestsPerSecond"] as? Double)
            #expect(rate > 50 && rate < 400, "about 200 requests a second, got \(rate)")
            // The logs: three records, one ERROR, per second over the log window.
            let logs = try #require(json["logs"] as? [String: Any])
            #expect(logs["records"] as? Int == 3, "\(logs)")
            #expect(region["logErrorsPerSecond"] as? Double == 1.0 / 60)
            let receivers = try #require(json["receivers"] as? [[String: Any]])
            let receiver = try #require(receivers.first { ($0["signals"] as? [String: Any])?["logs"] != nil })
            #expect(receiver["transport"] as? String == (exporter == "grpc" ? "grpc" : "http"))
            let signals = try #require(receiver["signals"] as? [String: [String: Any]])
            #expect(signals["logs"]?["received"] as? Int == 3 && signals["traces"]?["received"] as? Int == 1)
            #expect((signals["metrics"]?["received"] as? Int ?? 0) >= 4)
            #expect((json["metrics"] as? [String: Any])?["series"] as? Int == 2, "one series per status code")
        }

        @Test(.enabled(if: Requirement.openTelemetryGRPCExporter.isPresent() || Requirement.isEnforced))
        func logsShowOnTheLogsScreenLinkedToTheirTrace() throws {
            let python = TracesEndToEndTests.python(for: "grpc")
            let port = LoopbackPort.free(), grpcPort = LoopbackPort.free()
            let configuration = try Self.configuration(port: port, grpcPort: grpcPort, name: "tmux")
            defer { unlink(configuration) }
            let session = try TmuxSession("'\(binary)' --config '\(configuration)'", width: 140, height: 40)
            defer { session.close() }
            #expect(session.waitFor("integration", "eu-west-1"))
            let sent = try runProcess(
                [python, Self.script, "--exporter", "grpc", "--endpoint", "127.0.0.1:\(grpcPort)"], timeout: 90)
            #expect(sent.status == 0, "otel_signals.py failed: \(sent.standardError)")
            let traceID = sent.standardOutput.split(separator: "\n").map(String.init).first { $0.count == 32 } ?? ""
            try session.type("L")
            #expect(
                session.waitFor("payment declined for order 42", "charging card", "outside any trace", within: 20),
                "\(session.screen())")
            let screen = session.screen()
            #expect(screen.contains("ERROR") && screen.contains("WARN") && screen.contains(String(traceID.prefix(8))))
            // The newest (outside any trace) is followed; one up is the error, in the trace.
            try session.send("Up")
            #expect(session.waitFor("trace      \(traceID)"), "\(session.screen())")
            try session.send("Enter")
            #expect(session.waitFor("Waterfall", "signals-grpc POST /pay"), "\(session.screen())")
            // Back on the overview, the metrics screen lists the histogram.
            try session.type("M")
            #expect(session.waitFor("http.server.request.duration", "histogram"), "\(session.screen())")
        }
    }
}
