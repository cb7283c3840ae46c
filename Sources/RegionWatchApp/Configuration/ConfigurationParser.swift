import Foundation
import RegionWatchCollectors
import RegionWatchCore
import Yams
import RegionWatchFailover

/// Parses and validates a configuration file. Every problem is reported with its line; an
/// invalid file never yields a configuration.
public enum ConfigurationParser {
    static let topLevelKeys = [
        "topology", "pattern", "objectives", "regions", "health", "collectors", "traces", "logs", "ui", "failover",
    ]
    static let regionKeys = ["name", "provider", "role", "traffic"]
    /// Most regions a configuration may list (a dashboard of more is no longer readable, and
    /// every per-region store is sized by it).
    public static let maximumRegions = 256
    static let healthKeys = [
        "errorRateDegraded", "errorRateDown", "p99DegradedMs", "probeFailuresDegraded", "probeFailuresDown",
        "staleAfterIntervals", "backupMaxAge", "hopSlowMs", "sustain", "recover", "logErrorsPerSecondDegraded",
        "logErrorsPerSecondDown",
    ]
    static let simulatorKeys = [
        "kind", "name", "interval", "seed", "scriptedIncident", "incidentEvery", "requestsPerSecond", "tracesPerSecond",
        "versions",
    ]
    static let otlpKeys = [
        "kind", "name", "listen", "grpcListen", "grpcCertificate", "grpcKey", "maxBodySize", "token", "tokenEnv",
        "regionFrom", "metricSignals",
        "maxConnections", "headerTimeout", "idleTimeout", "minBodyRate", "maxInFlight",
    ]

    /// Parses `text` read from `file`. Returns the configuration and any warnings, or throws
    /// `DiagnosticsError` with every problem found. With `unsetVariables: .areWarnings` a
    /// secret whose variable is not set is left out (never to be run: for checking, or for a
    /// command that needs other parts).
    public static func parse(
        _ text: String, file: String, environment: [String: String] = [:], unsetVariables: UnsetVariables = .areErrors
    ) throws(DiagnosticsError) -> (RegionWatchConfiguration, [Diagnostic]) {
        let reader = YAMLReader(file: file)
        reader.environment = environment
        reader.unsetVariables = unsetVariables
        let configuration = read(text, reader: reader, file: file)
        if reader.hasErrors || configuration == nil {
            throw DiagnosticsError(reader.diagnostics)
        }
        return (configuration!, reader.diagnostics)
    }

    private static func read(_ text: String, reader: YAMLReader, file: String) -> RegionWatchConfiguration? {
        guard let root = reader.parse(text), let entries = reader.mapping(root, "", allowedKeys: topLevelKeys) else {
            return nil
        }

        var name = "unnamed"
        if let node = entries["topology"]?.value, let value = reader.string(node, "topology") { name = value }
        if entries["topology"] == nil {
            reader.error(root, "topology", "missing: name the topology, for example 'topology: checkout'")
        }

        var pattern = DisasterRecoveryPattern.activePassive
        if let node = entries["pattern"]?.value,
            let value = reader.choice(node, "pattern", as: DisasterRecoveryPattern.self)
        {
            pattern = value
        }
        if entries["pattern"] == nil {
            reader.error(
                root, "pattern",
                "missing: one of \(DisasterRecoveryPattern.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        var objectives = RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300)
        if let node = entries["objectives"]?.value {
            objectives = readObjectives(node, reader: reader)
        } else {
            reader.error(root, "objectives", "missing: give 'objectives: { rpo: 30s, rto: 5m }'")
        }

        var regions: [RegionConfiguration] = []
        if let node = entries["regions"]?.value {
            regions = readRegions(node, reader: reader)
        } else {
            reader.error(root, "regions", "missing: list at least one region")
        }

        var thresholds = HealthThresholds()
        if let node = entries["health"]?.value { thresholds = readHealth(node, reader: reader) }

        var display = DisplayConfiguration()
        if let node = entries["ui"]?.value, let ui = reader.mapping(node, "ui", allowedKeys: ["theme", "refresh"]) {
            if let value = ui["theme"]?.value { display.theme = reader.string(value, "ui.theme") }
            if let value = ui["refresh"]?.value {
                display.refreshSeconds = reader.duration(value, "ui.refresh", range: 0.1...60)
            }
        }

        var traceLimits = TraceStoreLimits()
        if let (count, bytes) = readStoreBounds(
            entries["traces"]?.value, section: "traces", item: "maxSpans", reader: reader)
        {
            traceLimits.maxSpans = count ?? traceLimits.maxSpans
            traceLimits.maxBytes = bytes ?? traceLimits.maxBytes
        }
        var logLimits = LogStoreLimits()
        if let (count, bytes) = readStoreBounds(
            entries["logs"]?.value, section: "logs", item: "maxRecords", reader: reader)
        {
            logLimits.maxRecords = count ?? logLimits.maxRecords
            logLimits.maxBytes = bytes ?? logLimits.maxBytes
        }

        let topology = Topology(
            name: name, pattern: pattern, objectives: objectives, regions: regions, thresholds: thresholds)
        var collectors: [CollectorConfiguration] = []
        if let node = entries["collectors"]?.value {
            collectors = Self.resolvingDatabaseAddresses(readCollectors(node, topology: topology, reader: reader))
        } else {
            reader.error(
                root, "collectors",
                "missing: list at least one collector (kinds: \(CollectorConfiguration.kinds.joined(separator: ", ")))")
        }
        var failover = FailoverSettings()
        if let node = entries["failover"]?.value {
            failover = readFailover(node, topology: topology, reader: reader)
        } else if collectors.contains(where: { $0.kind == "simulator" }) {
            failover.plan = FailoverSettings.demoPlan
        }
        return RegionWatchConfiguration(
            topology: topology, collectors: collectors, display: display, traceLimits: traceLimits,
            logLimits: logLimits, failover: failover, source: file)
    }

    /// A store's bounds section (`traces:`, `logs:`): its count key (`maxSpans`, `maxRecords`)
    /// and `maxMemory`; `nil` when the section is absent or not a mapping.
    private static func readStoreBounds(
        _ node: Node?, section: String, item: String, reader: YAMLReader
    ) -> (count: Int?, bytes: Int?)? {
        guard let node, let entries = reader.mapping(node, section, allowedKeys: [item, "maxMemory"]) else {
            return nil
        }
        let count = entries[item].flatMap { reader.integer($0.value, "\(section).\(item)", range: 100...100_000_000) }
        let bytes = entries["maxMemory"].flatMap {
            reader.byteSize($0.value, "\(section).maxMemory", range: 1_048_576...(1 << 40))
        }
        return (count, bytes)
    }

    private static func readObjectives(_ node: Node, reader: YAMLReader) -> RecoveryObjectives {
        var objectives = RecoveryObjectives(rpoSeconds: 30, rtoSeconds: 300)
        guard let entries = reader.mapping(node, "objectives", allowedKeys: ["rpo", "rto"]) else { return objectives }
        if let value = entries["rpo"]?.value,
            let seconds = reader.duration(value, "objectives.rpo", range: 0...(365 * 86_400))
        {
            objectives.rpoSeconds = seconds
        }
        if entries["rpo"] == nil {
            reader.error(node, "objectives.rpo", "missing: the recovery point objective, for example 30s")
        }
        if let value = entries["rto"]?.value,
            let seconds = reader.duration(value, "objectives.rto", range: 0...(365 * 86_400))
        {
            objectives.rtoSeconds = seconds
        }
        if entries["rto"] == nil {
            reader.error(node, "objectives.rto", "missing: the recovery time objective, for example 5m")
        }
        return objectives
    }

    private static func readRegions(_ node: Node, reader: YAMLReader) -> [RegionConfiguration] {
        guard let items = reader.sequence(node, "regions") else { return [] }
        if items.isEmpty { reader.error(node, "regions", "list at least one region") }
        if items.count > maximumRegions {
            // The first ones are still read, so the rest of the file is checked against them.
            reader.error(node, "regions", "\(items.count) regions: at most \(maximumRegions) are supported")
        }
        var regions: [RegionConfiguration] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.prefix(maximumRegions).enumerated() {
            let path = "regions[\(index)]"
            guard let entries = reader.mapping(item, path, allowedKeys: regionKeys) else { continue }
            guard let nameNode = entries["name"]?.value else {
                reader.error(item, "\(path).name", "missing: every region needs a name")
                continue
            }
            guard let name = reader.string(nameNode, "\(path).name") else { continue }
            if name.count > 64 || name.contains(where: { $0.isWhitespace || $0.isNewline }) {
                reader.error(
                    nameNode, "\(path).name", "\(YAMLReader.quote(name)) must be at most 64 characters without spaces")
                continue
            }
            if let first = seen[name] {
                reader.error(
                    nameNode, "\(path).name", "duplicate region \(YAMLReader.quote(name)) (first at regions[\(first)])")
                continue
            }
            seen[name] = index
            let provider = entries["provider"].flatMap { reader.string($0.value, "\(path).provider") } ?? "unknown"
            if entries["provider"] == nil {
                reader.warning(item, "\(path).provider", "missing: provider shown as 'unknown'")
            }
            var role = RegionRole.standby
            if let value = entries["role"]?.value,
                let parsed = reader.choice(value, "\(path).role", among: [RegionRole.primary, .standby, .active])
            {
                role = parsed
            }
            if entries["role"] == nil { reader.error(item, "\(path).role", "missing: one of primary, standby, active") }
            var traffic = 0.0
            if let value = entries["traffic"]?.value {
                let text: String? = if case .scalar(let scalar) = value { scalar.string.trimmed() } else { nil }
                if let text, let percent = Double(text.hasSuffix("%") ? String(text.dropLast()) : text),
                    (0...100).contains(percent)
                {
                    traffic = percent
                } else {
                    reader.error(
                        value, "\(path).traffic", "expected a percentage 0–100, found \(reader.describe(value))")
                }
            }
            regions.append(RegionConfiguration(name: name, provider: provider, role: role, trafficPercent: traffic))
        }
        let primaries = regions.filter { $0.role == .primary }
        if primaries.count > 1 {
            reader.error(
                node, "regions",
                "\(primaries.count) regions are primary (\(primaries.map(\.name).joined(separator: ", "))); at most one may be"
            )
        }
        let totalTraffic = regions.reduce(0) { $0 + $1.trafficPercent }
        if !regions.isEmpty, totalTraffic > 0, abs(totalTraffic - 100) > 0.5 {
            reader.warning(
                node, "regions", "traffic percentages add up to \(Format.fixed(totalTraffic, decimals: 1)), not 100")
        }
        return regions
    }

    private static func readHealth(_ node: Node, reader: YAMLReader) -> HealthThresholds {
        var thresholds = HealthThresholds()
        guard let entries = reader.mapping(node, "health", allowedKeys: healthKeys) else { return thresholds }
        if let value = entries["errorRateDegraded"]?.value,
            let parsed = reader.fraction(value, "health.errorRateDegraded")
        {
            thresholds.errorRateDegraded = parsed
        }
        if let value = entries["errorRateDown"]?.value, let parsed = reader.fraction(value, "health.errorRateDown") {
            thresholds.errorRateDown = parsed
        }
        if let value = entries["p99DegradedMs"]?.value,
            let parsed = reader.number(value, "health.p99DegradedMs", range: 0.001...3_600_000)
        {
            thresholds.p99DegradedMilliseconds = parsed
        }
        if let value = entries["probeFailuresDegraded"]?.value,
            let parsed = reader.integer(value, "health.probeFailuresDegraded", range: 1...1000)
        {
            thresholds.probeFailuresDegraded = parsed
        }
        if let value = entries["probeFailuresDown"]?.value,
            let parsed = reader.integer(value, "health.probeFailuresDown", range: 1...1000)
        {
            thresholds.probeFailuresDown = parsed
        }
        if let value = entries["staleAfterIntervals"]?.value,
            let parsed = reader.number(value, "health.staleAfterIntervals", range: 1...1000)
        {
            thresholds.staleAfterIntervals = parsed
        }
        if let value = entries["backupMaxAge"]?.value {
            if case .scalar(let scalar) = value, ["off", "none", "false"].contains(scalar.string.lowercased()) {
                thresholds.backupMaxAgeSeconds = nil
            } else if let parsed = reader.duration(value, "health.backupMaxAge", range: 1...(365 * 86_400)) {
                thresholds.backupMaxAgeSeconds = parsed
            }
        }
        if let value = entries["hopSlowMs"]?.value,
            let parsed = reader.number(value, "health.hopSlowMs", range: 0.001...3_600_000)
        {
            thresholds.hopSlowMilliseconds = parsed
        }
        if let value = entries["sustain"]?.value, let parsed = reader.duration(value, "health.sustain", range: 0...3600)
        {
            thresholds.hysteresis.sustainSeconds = parsed
        }
        if let value = entries["recover"]?.value, let parsed = reader.duration(value, "health.recover", range: 0...3600)
        {
            thresholds.hysteresis.recoverSeconds = parsed
        }
        if let value = entries["logErrorsPerSecondDegraded"]?.value,
            let parsed = reader.number(value, "health.logErrorsPerSecondDegraded", range: 0.0001...1e9)
        {
            thresholds.logErrorsPerSecondDegraded = parsed
        }
        if let value = entries["logErrorsPerSecondDown"]?.value,
            let parsed = reader.number(value, "health.logErrorsPerSecondDown", range: 0.0001...1e9)
        {
            thresholds.logErrorsPerSecondDown = parsed
        }
        if let degraded = thresholds.logErrorsPerSecondDegraded, let down = thresholds.logErrorsPerSecondDown,
            down <= degraded
        {
            reader.error(node, "health.logErrorsPerSecondDown", "must be above logErrorsPerSecondDegraded")
        }
        if thresholds.errorRateDown <= thresholds.errorRateDegraded {
            reader.error(
                node, "health.errorRateDown",
                "must be above errorRateDegraded (\(Format.percent(thresholds.errorRateDown)) ≤ \(Format.percent(thresholds.errorRateDegraded)))"
            )
        }
        if thresholds.probeFailuresDown < thresholds.probeFailuresDegraded {
            reader.error(node, "health.probeFailuresDown", "must be at least probeFailuresDegraded")
        }
        return thresholds
    }

    /// Gives every postgres collector the `host:port` of every configured server, so a
    /// standby's sender address (or `primary_conninfo`) names the region it follows.
    static func resolvingDatabaseAddresses(_ collectors: [CollectorConfiguration]) -> [CollectorConfiguration] {
        var addresses: [String: String] = [:]
        for case .postgres(let settings) in collectors {
            addresses["\(settings.connection.host):\(settings.connection.port)"] = settings.mapping.region
        }
        return collectors.map { collector in
            guard case .postgres(var settings) = collector else { return collector }
            settings.mapping.regionsByAddress = addresses
            return .postgres(settings)
        }
    }

    private static func readCollectors(_ node: Node, topology: Topology, reader: YAMLReader) -> [CollectorConfiguration]
    {
        guard let items = reader.sequence(node, "collectors") else { return [] }
        if items.isEmpty { reader.error(node, "collectors", "list at least one collector") }
        var collectors: [CollectorConfiguration] = []
        var names: Set<String> = []
        var databaseRegions: [String: String] = [:]
        /// Listening addresses (`host:port`) by collector name.
        var listenAddresses: [String: String] = [:]
        for (index, item) in items.enumerated() {
            let path = "collectors[\(index)]"
            guard case .mapping(let mapping) = item else {
                reader.error(item, path, "expected a mapping with a 'kind', found \(reader.describe(item))")
                continue
            }
            guard let kindNode = mapping["kind"], let kind = reader.string(kindNode, "\(path).kind") else {
                if mapping["kind"] == nil {
                    reader.error(
                        item, "\(path).kind", "missing: one of \(CollectorConfiguration.kinds.joined(separator: ", "))")
                }
                continue
            }
            let collector: CollectorConfiguration?
            switch kind {
            case "simulator":
                collector = readSimulator(item, path: path, topology: topology, reader: reader)
            case "otlp":
                collector = readOTLP(item, path: path, reader: reader)
            case "postgres":
                collector = readPostgres(item, path: path, topology: topology, reader: reader)
            case "prometheus-scrape":
                collector = readScrape(item, path: path, topology: topology, reader: reader)
            case "promql":
                collector = readPromQL(item, path: path, topology: topology, reader: reader)
            case "http-probe":
                collector = readProbe(item, path: path, topology: topology, reader: reader)
            default:
                let suggestion =
                    YAMLReader.closest(kind, in: CollectorConfiguration.kinds).map { " (did you mean '\($0)'?)" } ?? ""
                reader.error(
                    kindNode, "\(path).kind",
                    "unknown collector kind \(YAMLReader.quote(kind))\(suggestion); known kinds: \(CollectorConfiguration.kinds.joined(separator: ", "))"
                )
                collector = nil
            }
            guard let collector else { continue }
            if names.contains(collector.name) {
                reader.error(
                    item, "\(path).name",
                    "duplicate collector name \(YAMLReader.quote(collector.name)); give each collector a unique name")
                continue
            }
            names.insert(collector.name)
            // Two listeners on one address: the second would retry binding forever.
            if case .otlp(let settings) = collector {
                // (Port 0 asks for any free port: never a clash.)
                var addresses: [(String, String)] = []
                if settings.httpEnabled, settings.port != 0 { addresses.append((settings.listenAddress, "listen")) }
                if let grpc = settings.grpc, grpc.port != 0 { addresses.append((grpc.address, "grpcListen")) }
                if addresses.count == 2, addresses[0].0 == addresses[1].0 {
                    reader.error(
                        item, "\(path).grpcListen",
                        "OTLP/HTTP and OTLP/gRPC cannot share \(addresses[0].0); give grpcListen another port")
                    continue
                }
                if let (address, key) = addresses.first(where: { listenAddresses[$0.0] != nil }) {
                    reader.error(
                        item, "\(path).\(key)",
                        "\(address) is already a listener of \(YAMLReader.quote(listenAddresses[address] ?? "")); give each listener its own port (grpcListen: off turns gRPC off)"
                    )
                    continue
                }
                for (address, _) in addresses { listenAddresses[address] = collector.name }
            }
            // A region's role, timeline and positions come from one server.
            if case .postgres(let settings) = collector {
                if let other = databaseRegions[settings.mapping.region] {
                    reader.error(
                        item, "\(path).region",
                        "region \(YAMLReader.quote(settings.mapping.region)) already has a postgres collector (\(YAMLReader.quote(other))); watch one server per region (its primary or its standby)"
                    )
                    continue
                }
                databaseRegions[settings.mapping.region] = collector.name
            }
            collectors.append(collector)
        }
        return collectors
    }

    private static func readSimulator(
        _ node: Node, path: String, topology: Topology, reader: YAMLReader
    ) -> CollectorConfiguration? {
        guard let entries = reader.mapping(node, path, allowedKeys: simulatorKeys) else { return nil }
        var settings = SimulatorSettings()
        if let value = entries["name"]?.value, let name = reader.string(value, "\(path).name") { settings.name = name }
        if let value = entries["interval"]?.value,
            let seconds = reader.duration(value, "\(path).interval", range: 0.05...3600)
        {
            settings.intervalSeconds = seconds
        }
        if let value = entries["seed"]?.value, let seed = reader.unsignedInteger(value, "\(path).seed") {
            settings.seed = seed
        }
        if let value = entries["scriptedIncident"]?.value, let flag = reader.boolean(value, "\(path).scriptedIncident")
        {
            settings.scriptedIncident = flag
        }
        if let value = entries["incidentEvery"]?.value,
            let seconds = reader.duration(value, "\(path).incidentEvery", range: 200...(7 * 86_400))
        {
            settings.incidentRepeatSeconds = seconds
        }
        if let value = entries["requestsPerSecond"]?.value,
            let rate = reader.number(value, "\(path).requestsPerSecond", range: 0...10_000_000)
        {
            settings.totalRequestsPerSecond = rate
        }
        if let value = entries["tracesPerSecond"]?.value,
            let rate = reader.number(value, "\(path).tracesPerSecond", range: 0...10_000)
        {
            settings.tracesPerSecond = rate
        }
        if let value = entries["versions"]?.value {
            settings.versions = readVersions(value, path: "\(path).versions", topology: topology, reader: reader)
        }
        return .simulator(settings)
    }

    /// The limits every listener applies (`ListenerLimits`), from a listener's entries.
    static func readListenerLimits(
        _ entries: [String: (key: Node, value: Node)], path: String, reader: YAMLReader,
        into limits: inout ListenerLimits
    ) {
        if let value = entries["maxConnections"]?.value,
            let count = reader.integer(value, "\(path).maxConnections", range: 1...1_000_000)
        {
            limits.maxConnections = count
        }
        if let value = entries["headerTimeout"]?.value,
            let seconds = reader.duration(value, "\(path).headerTimeout", range: 0.1...3600)
        {
            limits.headerTimeoutSeconds = seconds
        }
        if let value = entries["idleTimeout"]?.value,
            let seconds = reader.duration(value, "\(path).idleTimeout", range: 0.1...86_400)
        {
            limits.idleTimeoutSeconds = seconds
        }
        if let value = entries["minBodyRate"]?.value,
            let bytes = reader.byteSize(value, "\(path).minBodyRate", range: 1...(1 << 30))
        {
            limits.minimumBodyBytesPerSecond = Double(bytes)
        }
        if let value = entries["maxInFlight"]?.value,
            let bytes = reader.byteSize(value, "\(path).maxInFlight", range: 1024...(1 << 34))
        {
            limits.maxInFlightBodyBytes = bytes
        }
    }

    /// `grpcCertificate` and `grpcKey`: PEM files that turn TLS on for the gRPC listener; both or
    /// neither, and each must be a readable file.
    private static func readGRPCTLS(
        _ entries: [String: (key: Node, value: Node)], node: Node, path: String, reader: YAMLReader,
        into settings: inout OTLPReceiverSettings
    ) {
        let certificate = entries["grpcCertificate"]?.value
        let key = entries["grpcKey"]?.value
        guard certificate != nil || key != nil else { return }
        guard let certificate, let key else {
            reader.error(node, "\(path).grpcCertificate", "give both grpcCertificate and grpcKey (PEM files) for TLS")
            return
        }
        guard let certificatePath = reader.string(certificate, "\(path).grpcCertificate"),
            let keyPath = reader.string(key, "\(path).grpcKey")
        else { return }
        var readable = true
        for (value, file, name) in [(certificate, certificatePath, "grpcCertificate"), (key, keyPath, "grpcKey")]
        where !FileManager.default.isReadableFile(atPath: file) {
            reader.error(value, "\(path).\(name)", "cannot read the file \(YAMLReader.quote(file))")
            readable = false
        }
        guard readable else { return }
        if settings.grpc == nil {
            reader.error(certificate, "\(path).grpcCertificate", "TLS needs a gRPC listener (grpcListen is off)")
            return
        }
        settings.grpc?.tls = OTLPReceiverSettings.GRPCListen.TLSFiles(
            certificatePath: certificatePath, keyPath: keyPath)
    }

    private static func readOTLP(_ node: Node, path: String, reader: YAMLReader) -> CollectorConfiguration? {
        guard let entries = reader.mapping(node, path, allowedKeys: otlpKeys) else { return nil }
        var settings = OTLPReceiverSettings()
        settings.grpc = OTLPReceiverSettings.GRPCListen()
        if let value = entries["name"]?.value, let name = reader.string(value, "\(path).name") { settings.name = name }
        if let value = entries["grpcListen"]?.value, let text = reader.string(value, "\(path).grpcListen") {
            if text.lowercased() == "off" {
                settings.grpc = nil
            } else if let (host, port) = OTLPReceiverSettings.parseListenAddress(text) {
                settings.grpc = OTLPReceiverSettings.GRPCListen(host: host, port: port)
                if !["127.0.0.1", "::1", "localhost"].contains(host) {
                    reader.warning(
                        value, "\(path).grpcListen", "listening on \(host), not only on this machine: set a token")
                }
            } else {
                reader.error(
                    value, "\(path).grpcListen",
                    "\(YAMLReader.quote(text)) is not HOST:PORT or off (for example 127.0.0.1:4317 or [::1]:4317)")
            }
        }
        readGRPCTLS(entries, node: node, path: path, reader: reader, into: &settings)
        if let value = entries["listen"]?.value, let text = reader.string(value, "\(path).listen") {
            if let (host, port) = OTLPReceiverSettings.parseListenAddress(text) {
                settings.host = host
                settings.port = port
                if !["127.0.0.1", "::1", "localhost"].contains(host) {
                    reader.warning(
                        value, "\(path).listen", "listening on \(host), not only on this machine: set a token")
                }
            } else {
                reader.error(
                    value, "\(path).listen",
                    "\(YAMLReader.quote(text)) is not HOST:PORT (for example 127.0.0.1:4318 or [::1]:4318)")
            }
        }
        if let value = entries["maxBodySize"]?.value,
            let bytes = reader.byteSize(value, "\(path).maxBodySize", range: 1024...(1 << 30))
        {
            settings.maxBodyBytes = bytes
        }
        if let value = entries["metricSignals"]?.value {
            settings.metricMappings =
                readMetricSignals(value, path: "\(path).metricSignals", reader: reader)
                + OTLPMetricMapping.httpSemanticConventions
        }
        readListenerLimits(entries, path: path, reader: reader, into: &settings.limits)
        if entries["token"] != nil, entries["tokenEnv"] != nil {
            reader.error(node, "\(path).token", "give either token or tokenEnv, not both")
        } else if let value = entries["token"]?.value {
            settings.bearerToken = reader.string(value, "\(path).token")
        } else if let value = entries["tokenEnv"]?.value, let variable = reader.string(value, "\(path).tokenEnv") {
            if let token = reader.environment[variable], !token.isEmpty {
                settings.bearerToken = token
            } else {
                reader.unsetVariable(value, "\(path).tokenEnv", variable)
            }
        }
        if let value = entries["regionFrom"]?.value, let items = reader.sequence(value, "\(path).regionFrom") {
            for (index, item) in items.enumerated() {
                let rulePath = "\(path).regionFrom[\(index)]"
                guard let rule = reader.mapping(item, rulePath, allowedKeys: ["attribute", "map"]) else { continue }
                guard let attributeNode = rule["attribute"]?.value,
                    let attribute = reader.string(attributeNode, "\(rulePath).attribute")
                else {
                    if rule["attribute"] == nil {
                        reader.error(
                            item, "\(rulePath).attribute", "missing: the resource attribute to read the region from")
                    }
                    continue
                }
                var mapping: [String: String] = [:]
                if let mapNode = rule["map"]?.value {
                    guard case .mapping(let pairs) = mapNode else {
                        reader.error(
                            mapNode, "\(rulePath).map",
                            "expected a mapping of attribute value to region, found \(reader.describe(mapNode))")
                        continue
                    }
                    for (from, to) in pairs {
                        guard let key = reader.string(from, "\(rulePath).map"),
                            let region = reader.string(to, "\(rulePath).map.\(key)")
                        else { continue }
                        mapping[key] = region
                    }
                }
                settings.attribution.rules.append(RegionAttribution.Rule(attribute: attribute, mapping: mapping))
            }
        }
        return .otlp(settings)
    }

    private static func readVersions(
        _ node: Node, path: String, topology: Topology, reader: YAMLReader
    ) -> [String: [String: String]] {
        guard case .mapping(let mapping) = node else {
            reader.error(node, path, "expected a mapping of region to services, found \(reader.describe(node))")
            return [:]
        }
        var result: [String: [String: String]] = [:]
        for (regionNode, servicesNode) in mapping {
            guard let region = reader.string(regionNode, path) else { continue }
            if !topology.regions.contains(where: { $0.name == region }) {
                reader.error(
                    regionNode, "\(path).\(region)", "region \(YAMLReader.quote(region)) is not in the regions list")
                continue
            }
            guard case .mapping(let services) = servicesNode else {
                reader.error(
                    servicesNode, "\(path).\(region)",
                    "expected a mapping of service to version, found \(reader.describe(servicesNode))")
                continue
            }
            var versions: [String: String] = [:]
            for (serviceNode, versionNode) in services {
                guard let service = reader.string(serviceNode, "\(path).\(region)"),
                    let version = reader.string(versionNode, "\(path).\(region).\(service)")
                else { continue }
                versions[service] = version
            }
            result[region] = versions
        }
        return result
    }
}
