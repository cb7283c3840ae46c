import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Traces in the real binary, in a real terminal: the demo's own traces, and traces sent by the
    /// real OpenTelemetry Python SDK.
    @Suite("Traces end to end", .serialized, Requirement.tmux.trait)
    struct TracesEndToEndTests {
        let binary = Binary.path
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        static func freePort() -> Int { LoopbackPort.free() }

        /// The Python with the OpenTelemetry SDK and the given exporter (.ci/run makes these;
        /// the gRPC exporter lives beside the protobuf one).
        static func python(for exporter: String) -> String {
            let environment = exporter == "json" ? "json" : "proto"
            let variable = environment == "proto" ? "REGIONWATCH_OTEL_PROTO_PYTHON" : "REGIONWATCH_OTEL_JSON_PYTHON"
            if let configured = ProcessInfo.processInfo.environment[variable] { return configured }
            return repository.appendingPathComponent(".venv-otel-\(environment)/bin/python").path
        }

        @Test(
            .enabled(
                if: ["proto", "json", "grpc"].allSatisfy { Requirement.openTelemetrySDK($0).isPresent() }
                    || Requirement.isEnforced,
                Comment(
                    rawValue:
                        "\(Requirement.openTelemetrySDK("proto").name) is not installed; install it with: \(Requirement.openTelemetrySDK("proto").install) (and the same for json and grpc)"
                )),
            arguments: ["proto", "json", "grpc"])
        func tracesFromTheOpenTelemetrySDKShowInTheList(exporter: String) throws {
            let python = Self.python(for: exporter)
            let requirement = Requirement.openTelemetrySDK(exporter)
            #expect(requirement.isPresent(), "missing \(python): \(requirement.install)")
            let port = Self.freePort()
            let grpcPort = Self.freePort()
            let configuration = NSTemporaryDirectory() + "regionwatch-otel-\(getpid())-\(exporter).yaml"
            try """
            topology: integration
            pattern: active-active
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: eu-west-1, provider: aws, role: primary, traffic: 60 }
              - { name: us-east-1, provider: aws, role: standby, traffic: 40 }
              - { name: ap-southeast-1, provider: gcp, role: standby, traffic: 0 }
            collectors:
              - { kind: otlp, listen: "127.0.0.1:\(port)", grpcListen: "127.0.0.1:\(grpcPort)" }
            """.write(toFile: configuration, atomically: true, encoding: .utf8)
            defer { unlink(configuration) }
            let session = try TmuxSession("'\(binary)' --config '\(configuration)'", width: 150, height: 44)
            defer { session.close() }
            #expect(session.waitFor("integration", "eu-west-1"))
            // The SDK sends to the running dashboard.
            let sent = try runProcess(
                [
                    python, Self.repository.appendingPathComponent("Tests/Integration/otel_send.py").path, "--exporter",
                    exporter, "--endpoint",
                    exporter == "grpc" ? "127.0.0.1:\(grpcPort)" : "http://127.0.0.1:\(port)/v1/traces", "--name",
                    "sdk-\(exporter)",
                ], timeout: 60)
            #expect(sent.status == 0, "otel_send.py failed: \(sent.standardError)")
            let traceIDs = sent.standardOutput.split(separator: "\n").map(String.init).filter { $0.count == 32 }
            #expect(traceIDs.count == 2)
            try session.type("t")
            #expect(
                session.waitFor("sdk-\(exporter) POST /checkout", "sdk-\(exporter) GET /orders", within: 20),
                "\(session.screen())")
            #expect(session.screen().contains("storefront"))
            #expect(session.screen().contains("✖"), "the failed checkout is marked")
            try session.type("/")
            try session.type("error")
            try session.send("Enter")
            #expect(session.waitFor("filter: error"))
            try session.send("Enter")
            #expect(session.waitFor("Waterfall", "5 of 5 spans shown"), "\(session.screen())")
            let waterfall = session.screen()
            #expect(waterfall.contains("trace \(traceIDs[0])"))
            #expect(waterfall.contains("storefront·eu-west-1"))
            #expect(waterfall.contains("⇢INSERT orders orders-db·us-east-1"))
            #expect(waterfall.contains("⇢Reserve inventory·ap-southeast-1"))
            #expect(waterfall.contains("✖"), "the error is marked on the failing span")
            #expect(
                waterfall.contains("○") || waterfall.contains("✖sdk-\(exporter) POST /checkout"), "and on its ancestors"
            )
            // Open the failing span's detail.
            for _ in 0..<4 { try session.send("Down") }
            try session.send("Enter")
            #expect(
                session.waitFor("Span Reserve", "out of stock", "exception", "ap-southeast-1"), "\(session.screen())")
        }
    }
}
