import Foundation
import Testing

/// A program outside the repository that a suite needs. When it is missing the suite is
/// skipped with a message naming it and how to install it, so a newcomer's `swift test`
/// passes the rest and says what it skipped. `.ci/run` sets `REGIONWATCH_REQUIRE_ALL=1`:
/// then nothing is skipped, and a missing program fails (`requiredProgramsArePresent` names
/// it), so CI never skips silently.
struct Requirement: Sendable {
    /// A short key (`tmux`, `postgresql`, `prometheus`, `otel-proto`, `otel-json`).
    let key: String
    let name: String
    /// How to get it (the commands `.ci/run` uses).
    let install: String
    let isInstalled: @Sendable () -> Bool

    /// Whether it is there. `REGIONWATCH_ASSUME_MISSING=tmux,postgresql` pretends some are
    /// not, to see the skip messages and the CI failure without uninstalling anything.
    func isPresent() -> Bool {
        let assumedMissing =
            ProcessInfo.processInfo.environment["REGIONWATCH_ASSUME_MISSING"]?.split(separator: ",").map(String.init)
            ?? []
        return !assumedMissing.contains(key) && isInstalled()
    }

    /// Whether a missing requirement is a failure rather than a skip.
    static var isEnforced: Bool { ProcessInfo.processInfo.environment["REGIONWATCH_REQUIRE_ALL"] == "1" }

    /// The suite or test runs when the program is present, or when CI requires it.
    var trait: ConditionTrait {
        .enabled(
            if: isPresent() || Self.isEnforced,
            Comment(rawValue: "\(name) is not installed; install it with: \(install)"))
    }

    static let tmux = Requirement(key: "tmux", name: "tmux", install: "apt-get install tmux") {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")
    }

    static let postgreSQL = Requirement(
        key: "postgresql", name: "the PostgreSQL server (initdb, pg_ctl)",
        install: "apt-get install postgresql postgresql-client"
    ) {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.contains {
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
        }
    }

    static let prometheus = Requirement(
        key: "prometheus", name: "Prometheus and postgres_exporter",
        install: "apt-get install prometheus prometheus-postgres-exporter"
    ) {
        ["/usr/bin/prometheus", "/usr/bin/prometheus-postgres-exporter"].allSatisfy(
            FileManager.default.isExecutableFile(atPath:))
    }

    /// The OpenTelemetry Python SDK with the OTLP/HTTP exporter `exporter` (`proto` or `json`),
    /// in the virtual environment `.ci/run` makes.
    static func openTelemetrySDK(_ exporter: String) -> Requirement {
        if exporter == "grpc" { return openTelemetryGRPCExporter }
        let package = "opentelemetry-exporter-otlp-\(exporter == "proto" ? "proto" : "json")-http"
        return Requirement(
            key: "otel-\(exporter)", name: "the OpenTelemetry Python SDK (\(exporter) exporter)",
            install:
                "python3 -m venv .venv-otel-\(exporter) && .venv-otel-\(exporter)/bin/pip install opentelemetry-sdk \(package)"
        ) {
            FileManager.default.isExecutableFile(atPath: EndToEnd.TracesEndToEndTests.python(for: exporter))
        }
    }

    /// The SDK's OTLP/gRPC exporter, in the protobuf exporter's environment.
    static let openTelemetryGRPCExporter = Requirement(
        key: "otel-grpc", name: "the OpenTelemetry Python SDK (gRPC exporter)",
        install:
            "python3 -m venv .venv-otel-proto && .venv-otel-proto/bin/pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc"
    ) {
        let python = EndToEnd.TracesEndToEndTests.python(for: "proto")
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let probe = try? runProcess(
            [python, "-c", "import opentelemetry.exporter.otlp.proto.grpc.trace_exporter"], timeout: 60)
        return probe?.status == 0
    }

    static let all = [
        tmux, postgreSQL, prometheus, openTelemetrySDK("proto"), openTelemetrySDK("json"), openTelemetrySDK("grpc"),
    ]
}

extension EndToEnd {
    @Suite("Required programs")
    struct RequirementTests {
        /// With `REGIONWATCH_REQUIRE_ALL=1` (CI) every program the suites need must be there.
        @Test(
            .enabled(
                if: Requirement.isEnforced, "REGIONWATCH_REQUIRE_ALL is not set: missing programs skip their suites"))
        func requiredProgramsArePresent() {
            for requirement in Requirement.all where !requirement.isPresent() {
                Issue.record(
                    "\(requirement.name) is required (REGIONWATCH_REQUIRE_ALL=1) but not installed; install it with: \(requirement.install)"
                )
            }
        }
    }
}
