import Foundation
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp

/// The repository root, for reading shipped files (examples/, themes/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func parseErrors(_ yaml: String, file: String = "c.yaml") -> [String] {
    do {
        _ = try ConfigurationParser.parse(yaml, file: file)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

let minimalRegions = """
    regions:
      - { name: a, provider: aws, role: primary, traffic: 100 }
    collectors:
      - kind: simulator
    """

func minimal(_ extra: String = "", objectives: String = "objectives: { rpo: 30s, rto: 5m }") -> String {
    "topology: t\npattern: routing\n\(objectives)\n\(minimalRegions)\n\(extra)"
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test func everyExampleIsListedAndValid() throws {
        let directory = repositoryRoot.appendingPathComponent("examples")
        let listing = try String(contentsOf: directory.appendingPathComponent("README.md"), encoding: .utf8)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 5)
        for file in files {
            #expect(listing.contains("`\(file)`"), "examples/README.md does not list \(file)")
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file) is valid (secrets may be unset)") {
                try ConfigurationParser.parse(text, file: file, unsetVariables: .areWarnings)
            }
        }
    }

    @Test func demoExampleReproducesTheBuiltInDemo() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/demo.yaml"), encoding: .utf8)
        let (configuration, warnings) = try ConfigurationParser.parse(text, file: "examples/demo.yaml")
        #expect(warnings.isEmpty)
        var builtIn = RegionWatchConfiguration.builtInDemo()
        builtIn.source = "examples/demo.yaml"
        #expect(configuration == builtIn)
        #expect(configuration.isDemo)
    }

    static let exampleEnvironment = [
        "REGIONWATCH_OTLP_TOKEN": "test-token", "PROM_TOKEN": "prom-token",
        "PG_US_EAST_1_DSN": "postgres://monitor:pw@db1:5432/postgres",
        "PG_EU_WEST_1_DSN": "postgres://monitor@db2/postgres",
        "PG_AP_SOUTHEAST_1_DSN": "host=db3 user=monitor", "PG_ADMIN_PASSWORD": "admin-pw",
        "FAILOVER_LOCK_DSN": "postgres://failover@ops-db:5432/regionwatch",
    ]

    @Test func everyShippedExampleIsValid() throws {
        let directory = repositoryRoot.appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 2)
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file)") {
                try ConfigurationParser.parse(text, file: file, environment: Self.exampleEnvironment)
            }
        }
    }

    @Test func fullConfigurationIsRead() throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/routing-simulated.yaml"), encoding: .utf8)
        let (configuration, _) = try ConfigurationParser.parse(text, file: "x")
        #expect(configuration.topology.pattern == .routing)
        #expect(configuration.topology.objectives == RecoveryObjectives(rpoSeconds: 15, rtoSeconds: 120))
        #expect(
            configuration.topology.regions.map(\.name) == [
                "us-east-1", "us-west-2", "europe-west4", "westeurope", "asia-east1",
            ])
        #expect(configuration.topology.thresholds.errorRateDegraded == 0.005)
        #expect(configuration.topology.thresholds.staleAfterIntervals == 4)
        #expect(configuration.display == DisplayConfiguration(theme: "high-contrast", refreshSeconds: 2))
        guard case .simulator(let settings) = configuration.collectors.first else {
            Issue.record("expected a simulator")
            return
        }
        #expect(settings.intervalSeconds == 2 && settings.seed == 7 && settings.totalRequestsPerSecond == 5000)
        #expect(settings.versions["asia-east1"]?["api"] == "3.1.0")
        #expect(
            configuration.withSeed(9).collectors == [
                .simulator(
                    {
                        var s = settings
                        s.seed = 9
                        return s
                    }())
            ])
        #expect(configuration.longestIntervalSeconds == 2)
    }

    @Test(arguments: [
        // (YAML, expected diagnostic text)
        ("topology: [unclosed", "c.yaml:2:1: error: invalid YAML"),
        ("", "c.yaml: error: file is empty"),
        ("- just\n- a list\n", "c.yaml:1:1: error: expected a mapping (key: value pairs), found a list"),
        ("topology: t\ntopology: u\n", "c.yaml:2:1: error: duplicate key 'topology' in this mapping"),
        (
            "objectives: { rpo: 30s, rto: 5 }\n",
            "c.yaml:1:30: error: objectives.rto: '5' has no unit: write 5s, 5m or 5h"
        ),
        ("regions:\n\t- { name: a }\n", "c.yaml:2:1: error: a tab in the indentation: YAML indents with spaces only"),
        ("topologee: t\n", "c.yaml:1:1: error: topologee: unknown key 'topologee' (did you mean 'topology'?)"),
        (
            "pattern: active\n",
            "c.yaml:1:10: error: pattern: 'active' is not one of active-passive, active-active, routing"
        ),
        (
            "objectives: { rpo: soon, rto: 5m }\n",
            "c.yaml:1:20: error: objectives.rpo: 'soon' is not a duration (use forms like 250ms, 30s, 5m, 1h30m)"
        ),
        ("objectives: { rpo: -5s, rto: 5m }\n", "c.yaml:1:20: error: objectives.rpo: '-5s' is not a duration"),
        (
            "objectives: { rpo: 30s }\n",
            "c.yaml:1:13: error: objectives.rto: missing: the recovery time objective, for example 5m"
        ),
        ("regions: {}\n", "c.yaml:1:10: error: regions: expected a list, found a mapping"),
        ("regions: []\n", "c.yaml:1:10: error: regions: list at least one region"),
        (
            "regions:\n  - { provider: aws, role: primary }\n",
            "c.yaml:2:5: error: regions[0].name: missing: every region needs a name"
        ),
        (
            "regions:\n  - { name: a b, provider: aws, role: primary }\n",
            "c.yaml:2:13: error: regions[0].name: 'a b' must be at most 64 characters without spaces"
        ),
        (
            "regions:\n  - { name: a, provider: aws, role: leader }\n",
            "c.yaml:2:37: error: regions[0].role: 'leader' is not one of primary, standby, active"
        ),
        (
            "regions:\n  - { name: a, provider: aws, role: primary, traffic: lots }\n",
            "c.yaml:2:55: error: regions[0].traffic: expected a percentage 0–100, found 'lots'"
        ),
        (
            "regions:\n  - { name: a, provider: aws, role: primary, colour: red }\n",
            "c.yaml:2:46: error: regions[0].colour: unknown key 'colour'"
        ),
        (
            "regions:\n  - { name: a, provider: aws, role: primary }\n  - { name: b, provider: aws, role: primary }\n",
            "c.yaml:2:3: error: regions: 2 regions are primary (a, b); at most one may be"
        ),
        ("health: { errorRateDegraded: 150% }\n", "c.yaml:1:30: error: health.errorRateDegraded: must be at most 100%"),
        (
            "health: { errorRateDegraded: 10%, errorRateDown: 5% }\n",
            "c.yaml:1:9: error: health.errorRateDown: must be above errorRateDegraded (5.0% ≤ 10%)"
        ),
        (
            "health: { probeFailuresDown: 2.5 }\n",
            "c.yaml:1:30: error: health.probeFailuresDown: expected a whole number, found '2.5'"
        ),
        (
            "collectors:\n  - kind: prometheus-scrap\n",
            "c.yaml:2:11: error: collectors[0].kind: unknown collector kind 'prometheus-scrap'"
        ),
        ("collectors:\n  - name: x\n", "c.yaml:2:5: error: collectors[0].kind: missing: one of simulator, otlp"),
        (
            "collectors:\n  - kind: simulator\n  - kind: simulator\n",
            "c.yaml:3:5: error: collectors[1].name: duplicate collector name 'simulator'"
        ),
        (
            "collectors:\n  - { kind: simulator, interval: 0s }\n",
            "c.yaml:2:34: error: collectors[0].interval: must be at least 50ms"
        ),
        (
            "collectors:\n  - { kind: simulator, seed: -1 }\n",
            "c.yaml:2:30: error: collectors[0].seed: expected a whole number ≥ 0, found '-1'"
        ),
        (
            "collectors:\n  - { kind: simulator, versions: { mars: { api: '1' } } }\n",
            "c.yaml:2:36: error: collectors[0].versions.mars: region 'mars' is not in the regions list"
        ),
        ("ui: { refresh: 0.01s }\n", "c.yaml:1:16: error: ui.refresh: must be at least 100ms"),
        ("collectors: simulator\n", "c.yaml:1:13: error: collectors: expected a list, found 'simulator'"),
    ])
    func badInputNamesTheProblemAndItsLine(yaml: String, expected: String) {
        let errors = parseErrors(yaml)
        #expect(errors.contains { $0.hasPrefix(expected) }, "got:\n\(errors.joined(separator: "\n"))")
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        let errors = parseErrors("pattern: nope\nobjectives: { rpo: x, rto: y }\nregions: []\ncollectors: []\n")
        #expect(errors.count >= 5)
        #expect(errors.contains { $0.contains("topology: missing") })
        let lines = errors.compactMap { Int($0.split(separator: ":")[1]) }
        #expect(lines == lines.sorted(), "diagnostics come in file order")
    }

    @Test func warningsDoNotFailTheFile() throws {
        let (_, warnings) = try ConfigurationParser.parse(
            """
            topology: t
            pattern: active-active
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: a, role: primary, traffic: 50 }
              - { name: b, provider: gcp, role: active, traffic: 30 }
            collectors:
              - kind: simulator
            """, file: "w.yaml")
        #expect(
            warnings.map(\.description) == [
                "w.yaml:5:3: warning: regions: traffic percentages add up to 80.0, not 100",
                "w.yaml:5:5: warning: regions[0].provider: missing: provider shown as 'unknown'",
            ])
    }

    @Test func hostileInputIsRefusedCleanly() {
        let huge = String(repeating: "# padding\n", count: 500_000)
        #expect(parseErrors(huge).first?.contains("larger than 4 MiB") == true)
        // A billion-laughs style alias bomb must not expand without bound or crash.
        let bomb =
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\ntopology: *c\n"
        #expect(!parseErrors(bomb).isEmpty)
        #expect(!parseErrors("\u{0}\u{1}binary\u{7F}").isEmpty)
        #expect(!parseErrors(String(repeating: "[", count: 10_000)).isEmpty)
    }

    @Test func durations() {
        #expect(DurationParser.seconds("250ms") == 0.25)
        #expect(DurationParser.seconds("1h30m") == 5400)
        #expect(DurationParser.seconds("2d") == 172_800)
        #expect(DurationParser.seconds(" 45 ") == 45)
        #expect(DurationParser.seconds("1.5h") == 5400)
        for bad in ["", "m", "5x", "5m3", "-1s", "1e400", "nan", String(repeating: "9", count: 100)] {
            #expect(DurationParser.seconds(bad) == nil, "\(bad)")
        }
    }

    @Test func locatorFollowsXDG() {
        let xdg = ConfigurationLocator(environment: [
            "XDG_CONFIG_HOME": "/x/config", "XDG_STATE_HOME": "/x/state", "HOME": "/home/u",
        ])
        #expect(xdg.defaultConfigurationPath == "/x/config/regionwatch/config.yaml")
        #expect(xdg.stateDirectory == "/x/state/regionwatch")
        let home = ConfigurationLocator(environment: ["HOME": "/home/u", "XDG_CONFIG_HOME": "relative/ignored"])
        #expect(home.defaultConfigurationPath == "/home/u/.config/regionwatch/config.yaml")
        #expect(home.stateDirectory == "/home/u/.local/state/regionwatch")
    }

    @Test func textFileErrorsAreClear() throws {
        #expect(throws: TextFile.ReadError.self) { try TextFile.read("/nonexistent/regionwatch.yaml") }
        #expect(throws: TextFile.ReadError.self) { try TextFile.read(NSTemporaryDirectory()) }
        let path = NSTemporaryDirectory() + "regionwatch-binary-\(getpid()).yaml"
        try Data([0xFF, 0xFE, 0x00, 0xC3]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TextFile.ReadError.self) { try TextFile.read(path) }
    }

    @Test func aFIFOIsRefusedBeforeItCanBlock() throws {
        let path = NSTemporaryDirectory() + "regionwatch-fifo-\(getpid())"
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        // Before the fix, opening it blocked forever (no writer): the test would hang.
        #expect { try TextFile.read(path) } throws: { error in
            "\(error)" == "\(path): not a regular file (a pipe, socket or device); refusing to read it"
        }
        #expect(throws: TextFile.ReadError.self) { try TextFile.read("/dev/zero") }
    }

    /// Aliases used as mapping keys, nested `levels` deep: each level doubles what the one
    /// below names (12 levels, a 555-byte file, never finished composing before the fix).
    static func aliasBomb(levels: Int) -> String {
        var text = "a0: &a0 {x: 1, y: 2}\n"
        for level in 1...levels {
            text += "a\(level): &a\(level) {? *a\(level - 1) : 1, ? [*a\(level - 1), *a\(level - 1)] : 2}\n"
        }
        return text
    }

    @Test func anchorsAndAliasesAreRefusedWithTheirPlace() {
        for levels in [1, 12, 30] {
            let errors = parseErrors(Self.aliasBomb(levels: levels))
            #expect(
                errors.first
                    == "c.yaml:1:5: error: an anchor ('&a0'): anchors and aliases are not supported here; write each value out",
                "\(errors)")
        }
        let errors = parseErrors("topology: t\nregions: *list\n")
        #expect(
            errors.first
                == "c.yaml:2:10: error: an alias ('*list'): anchors and aliases are not supported here; write each value out",
            "\(errors)")
    }

    @Test(arguments: [
        "command: [/bin/sh, -c, \"ls *.log && echo a&b\"]\n",
        "command: ['*', '&x']\n",
        "pattern: a*b  # &not an anchor\n",
        "script: |\n  *starred line\n  &amp\nnext: 1\n",
        "list:\n  - a*\n  - 'it''s *fine'\n",
        "flow: {a: x*y, b: [c&d, \"*\"]}\n",
    ])
    func asterisksAndAmpersandsInTextAreNoAliases(yaml: String) {
        #expect(YAMLAnchorScan.first(in: yaml) == nil)
    }
}

@Suite("OTLP configuration")
struct OTLPConfigurationTests {
    @Test func otlpCollectorAndTraceLimitsAreRead() throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/traces-only.yaml"), encoding: .utf8)
        let (configuration, _) = try ConfigurationParser.parse(
            text, file: "t.yaml", environment: ["REGIONWATCH_OTLP_TOKEN": "abc"])
        guard case .otlp(let settings) = configuration.collectors.first else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(settings.host == "127.0.0.1" && settings.port == 4318)
        #expect(settings.bearerToken == "abc")
        #expect(settings.maxBodyBytes == 16 * 1_048_576)
        #expect(
            settings.attribution.rules == [
                RegionAttribution.Rule(
                    attribute: "k8s.cluster.name", mapping: ["prod-use1": "us-east-1", "prod-euw4": "europe-west4"]),
                RegionAttribution.Rule(attribute: "deployment.region"),
            ])
        #expect(configuration.traceLimits.maxSpans == 500_000)
        #expect(configuration.traceLimits.maxBytes == 512 * 1_048_576)
    }

    @Test func listenerLimitsAreConfigurable() throws {
        let entry =
            "  - { kind: otlp, maxConnections: 64, headerTimeout: 5s, idleTimeout: 2m, minBodyRate: 1KiB, maxInFlight: 16MiB }"
        let (configuration, _) = try ConfigurationParser.parse(
            minimal().replacingOccurrences(of: "  - kind: simulator", with: entry), file: "c.yaml")
        guard case .otlp(let settings) = configuration.collectors.first else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(
            settings.limits
                == ListenerLimits(
                    maxConnections: 64, headerTimeoutSeconds: 5, idleTimeoutSeconds: 120,
                    minimumBodyBytesPerSecond: 1024, maxInFlightBodyBytes: 16 << 20))
    }

    @Test func theOTLPCollectorListensOnGRPCUnlessTurnedOff() throws {
        func grpc(_ entry: String) throws -> OTLPReceiverSettings.GRPCListen? {
            let (configuration, _) = try ConfigurationParser.parse(
                minimal().replacingOccurrences(of: "  - kind: simulator", with: entry), file: "c.yaml")
            guard case .otlp(let settings) = configuration.collectors.first else { return nil }
            return settings.grpc
        }
        #expect(try grpc("  - { kind: otlp }") == OTLPReceiverSettings.GRPCListen(host: "127.0.0.1", port: 4317))
        #expect(try grpc("  - { kind: otlp, grpcListen: '[::1]:5317' }") == .init(host: "::1", port: 5317))
        #expect(try grpc("  - { kind: otlp, grpcListen: off }") == nil)
        // The command line moves it, turns it off, or adds a gRPC-only receiver.
        let demo = RegionWatchConfiguration.builtInDemo()
        let moved = try #require(demo.withOTLPGRPCListen("127.0.0.1:6317"))
        guard case .otlp(let settings) = moved.collectors.last else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(settings.grpc == .init(host: "127.0.0.1", port: 6317) && settings.httpEnabled)
        // Review finding: `--otlp-listen off --otlp-grpc-listen X` made a blank receiver (no
        // token, no attribution); `--otlp-grpc-listen` dropped the configured certificate.
        var guarded = demo
        guard case .otlp(var configured) = guarded.collectors.last else {
            Issue.record("expected an otlp collector")
            return
        }
        configured.bearerToken = "t0ken"
        configured.grpc?.tls = .init(certificatePath: "/c.pem", keyPath: "/k.pem")
        guarded.collectors[guarded.collectors.count - 1] = .otlp(configured)
        let grpcOnly = try #require(
            guarded.withOTLPListen("off", keepingGRPC: true)?.withOTLPGRPCListen("127.0.0.1:6317"))
        guard case .otlp(let only) = grpcOnly.collectors.last else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(!only.httpEnabled && only.grpc?.port == 6317)
        #expect(only.bearerToken == "t0ken", "the token stays")
        #expect(only.grpc?.tls?.certificatePath == "/c.pem", "the certificate stays")
        let bothOff = try #require(guarded.withOTLPListen("off"))
        guard case .otlp(let off) = bothOff.collectors.last else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(!off.httpEnabled && off.grpc == nil, "off turns both transports off")
        #expect(demo.withOTLPGRPCListen("nowhere") == nil)
    }

    /// A .env file given as the configuration printed its secrets in the error message.
    @Test func messagesNeverEchoWhatCouldBeASecret() {
        let dotEnv = parseErrors("DB_PASSWORD=hunter2secret\nAPI_TOKEN=abc123\n", file: "prod.env")
        #expect(
            dotEnv == [
                "prod.env:1:1: error: expected a mapping (key: value pairs), found a text of 42 characters (not shown)"
            ])
        let misplaced = parseErrors(
            minimal().replacingOccurrences(
                of: "objectives: { rpo: 30s, rto: 5m }",
                with: "objectives: { rpo: 'postgres://rw:hunter2@db/x', rto: 5m }"))
        #expect(misplaced.count == 1 && !misplaced[0].contains("hunter2"), "\(misplaced)")
        #expect(
            misplaced.first?.contains("a text of 26 characters (not shown) is not a duration") == true, "\(misplaced)")
        let typo = parseErrors(minimal().replacingOccurrences(of: "role: primary", with: "role: primray"))
        #expect(typo.first?.contains("'primray' is not one of") == true, "a short plain word is still shown: \(typo)")
    }

    @Test func aFileThatIsNotTextIsPlacedLikeEveryOtherProblem() throws {
        let path = scratch("binary") + "/garbage.yaml"
        try Data("topology: t\nname: \u{00e9}".utf8 + [0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: path))
        #expect(throws: TextFile.ReadError.self) { try TextFile.read(path) }
        do {
            _ = try TextFile.read(path)
        } catch let error as TextFile.ReadError {
            #expect(error.isDiagnostic)
            #expect(
                error.description
                    == "\(path):2:9: error: byte 0xFF, not UTF-8: this is not a text file (a configuration is YAML text)"
            )
        }
        try Data("a: 1\n\0".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TextFile.ReadError.self) { try TextFile.read(path) }
    }

    @Test func duplicateKeysArePlacedAtTheirSecondOccurrenceInTheirOwnMapping() {
        #expect(
            parseErrors("objectives:\n  rpo: 30s\nui: { rto: 1 }\nobjectives: { rpo: 1m }\n").contains {
                $0.hasPrefix("c.yaml:4:1: error: duplicate key 'objectives'")
            })
        #expect(
            parseErrors("topology: t\r\ntopology: u\r\n").first?.hasPrefix(
                "c.yaml:2:1: error: duplicate key 'topology'") == true, "CRLF lines")
        let hidden = parseErrors(minimal("\"db=postgres://u:pw@h/x\": 1\n"))
        #expect(hidden.allSatisfy { !$0.contains("pw@h") }, "\(hidden)")
    }

    @Test func tooManyRegionsAreRefused() {
        let regions = (0...ConfigurationParser.maximumRegions).map {
            "  - { name: r\($0), provider: aws, role: standby, traffic: 0 }"
        }.joined(separator: "\n")
        let errors = parseErrors(
            "topology: t\npattern: routing\nobjectives: { rpo: 30s, rto: 5m }\nregions:\n\(regions)\ncollectors:\n  - kind: simulator\n"
        )
        #expect(
            errors.contains { $0.hasSuffix("regions: 257 regions: at most 256 are supported") }, "\(errors.prefix(3))")
        #expect(errors.count == 1, "the first 256 are still read: no error follows from the refusal")
    }

    @Test func unsetVariablesCanBeWarningsForCheckingWithoutSecrets() throws {
        let text = minimal(objectives: "objectives: { rpo: 30s, rto: 5m }").replacingOccurrences(
            of: "  - kind: simulator",
            with: """
                  - kind: simulator
                  - { kind: otlp, tokenEnv: NOT_SET_ANYWHERE }
                  - { kind: postgres, region: a, dsnEnv: NOT_SET_EITHER }
                failover:
                  lock: postgres
                  lockDsnEnv: NOT_SET_PASSWORD
                """
        )
        #expect(parseErrors(text).filter { $0.contains("is not set") }.count == 3, "to run it, each is an error")
        let (configuration, warnings) = try ConfigurationParser.parse(
            text, file: "c.yaml", unsetVariables: .areWarnings)
        #expect(
            warnings.map(\.description).filter { $0.contains("is not set (what needs it cannot run)") }.count == 3,
            "\(warnings)")
        #expect(configuration.collectors.map(\.kind).contains("simulator"))
    }

    @Test func missingTokenVariableIsAnError() {
        let errors = parseErrors(
            minimal(objectives: "objectives: { rpo: 30s, rto: 5m }").replacingOccurrences(
                of: "  - kind: simulator", with: "  - { kind: otlp, tokenEnv: NOT_SET_ANYWHERE }"))
        #expect(
            errors.contains { $0.contains("collectors[0].tokenEnv: environment variable NOT_SET_ANYWHERE is not set") },
            "\(errors)")
    }

    @Test(arguments: [
        ("  - { kind: otlp, listen: nowhere }", "collectors[0].listen: 'nowhere' is not HOST:PORT"),
        ("  - { kind: otlp, listen: '127.0.0.1:99999' }", "collectors[0].listen: '127.0.0.1:99999' is not HOST:PORT"),
        ("  - { kind: otlp, maxBodySize: lots }", "collectors[0].maxBodySize: 'lots' is not a size"),
        (
            "  - { kind: otlp, grpcListen: nowhere }",
            "collectors[0].grpcListen: 'nowhere' is not HOST:PORT or off (for example 127.0.0.1:4317 or [::1]:4317)"
        ),
        ("  - { kind: otlp, maxBodySize: 10 }", "collectors[0].maxBodySize: must be at least 1KiB"),
        (
            "  - { kind: otlp, listen: '127.0.0.1:7000', grpcListen: '127.0.0.1:7000' }",
            "collectors[0].grpcListen: OTLP/HTTP and OTLP/gRPC cannot share 127.0.0.1:7000"
        ),
        (
            "  - { kind: otlp }\n  - { kind: otlp, name: second, listen: '127.0.0.1:4400' }",
            "collectors[1].grpcListen: 127.0.0.1:4317 is already a listener of 'otlp'"
        ),
        (
            "  - { kind: otlp, grpcCertificate: /etc/hostname }",
            "collectors[0].grpcCertificate: give both grpcCertificate and grpcKey (PEM files) for TLS"
        ),
        (
            "  - { kind: otlp, grpcCertificate: /nonexistent/c.pem, grpcKey: /etc/hostname }",
            "collectors[0].grpcCertificate: cannot read the file '/nonexistent/c.pem'"
        ),
        (
            "  - { kind: otlp, grpcListen: off, grpcCertificate: /etc/hostname, grpcKey: /etc/hostname }",
            "collectors[0].grpcCertificate: TLS needs a gRPC listener (grpcListen is off)"
        ),
        ("  - { kind: otlp, token: a, tokenEnv: B }", "collectors[0].token: give either token or tokenEnv, not both"),
        ("  - { kind: otlp, regionFrom: [ { map: { a: b } } ] }", "collectors[0].regionFrom[0].attribute: missing"),
        (
            "  - { kind: otlp, regionFrom: [ { attribute: x, map: [a] } ] }",
            "collectors[0].regionFrom[0].map: expected a mapping"
        ),
        ("  - { kind: otlp, lissen: x }", "collectors[0].lissen: unknown key 'lissen' (did you mean 'listen'?)"),
        ("  - { kind: otlp, maxConnections: 0 }", "collectors[0].maxConnections: must be at least 1"),
        ("  - { kind: otlp, headerTimeout: forever }", "collectors[0].headerTimeout: 'forever' is not a duration"),
    ])
    func badOTLPSettingsAreReported(entry: String, expected: String) {
        let errors = parseErrors(minimal().replacingOccurrences(of: "  - kind: simulator", with: entry))
        #expect(errors.contains { $0.contains(expected) }, "\(errors)")
    }

    @Test func nonLoopbackListenWarns() throws {
        let (_, warnings) = try ConfigurationParser.parse(
            minimal().replacingOccurrences(
                of: "  - kind: simulator", with: "  - { kind: otlp, listen: '0.0.0.0:4318', token: t }"), file: "c.yaml"
        )
        #expect(warnings.contains { $0.message.contains("listening on 0.0.0.0") })
    }

    @Test func otlpListenFlagMovesAddsOrRemovesTheReceiver() {
        let demo = RegionWatchConfiguration.builtInDemo()
        guard case .otlp(let off)? = demo.withOTLPListen("off")?.collectors.last else {
            Issue.record("expected the otlp collector, with nothing listening")
            return
        }
        #expect(!off.httpEnabled && off.grpc == nil, "off turns both transports off")
        guard case .otlp(let moved)? = demo.withOTLPListen("[::1]:9999")?.collectors.last else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(moved.host == "::1" && moved.port == 9999 && moved.listenAddress == "[::1]:9999")
        let withoutReceiver = demo.withOTLPListen("off")!
        guard case .otlp(let again)? = withoutReceiver.withOTLPListen("127.0.0.1:1234")?.collectors.last else {
            Issue.record("expected an otlp collector")
            return
        }
        #expect(again.httpEnabled && again.port == 1234)
        #expect(demo.withOTLPListen("bogus") == nil)
        #expect(OTLPReceiverSettings.parseListenAddress("localhost:4318")! == ("localhost", 4318))
        #expect(OTLPReceiverSettings.parseListenAddress(":4318") == nil)
    }

    @Test func byteSizes() {
        #expect(parseErrors("traces: { maxMemory: 1GiB }\n").allSatisfy { !$0.contains("maxMemory") })
        #expect(
            parseErrors("traces: { maxMemory: 12 }\n").contains {
                $0.contains("traces.maxMemory: must be at least 1MiB")
            })
        #expect(
            parseErrors("traces: { maxSpans: 10 }\n").contains { $0.contains("traces.maxSpans: must be at least 100") })
    }
}
