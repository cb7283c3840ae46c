import Foundation
import RegionWatchCollectors
import RegionWatchCore
import Yams

/// The real collectors' entries: `postgres`, `prometheus-scrape`, `promql`, `http-probe`.
extension ConfigurationParser {
    static let commonPollingKeys = ["kind", "name", "interval", "timeout"]
    static let postgresKeys =
        commonPollingKeys + ["region", "dsn", "dsnEnv", "standbys", "hosts", "upstream", "heartbeat"]
    static let scrapeKeys =
        commonPollingKeys + ["url", "region", "regionLabel", "signals", "headers", "tokenEnv", "replicationFrom"]
    static let promqlKeys =
        commonPollingKeys + ["url", "region", "regionLabel", "queries", "headers", "tokenEnv", "replicationFrom"]
    static let probeKeys =
        commonPollingKeys + [
            "targets", "region", "url", "method", "expectStatus", "bodyContains", "tlsVerify", "headers", "tokenEnv",
        ]

    /// Interval and timeout (defaults 5 s and 2 s); the timeout must be shorter than the interval.
    static func readTiming(
        _ entries: [String: (key: Node, value: Node)], node: Node, path: String, reader: YAMLReader
    ) -> (interval: Double, timeout: Double) {
        var interval = 5.0
        var timeout = 2.0
        if let value = entries["interval"]?.value,
            let seconds = reader.duration(value, "\(path).interval", range: 0.1...86_400)
        {
            interval = seconds
        }
        if let value = entries["timeout"]?.value,
            let seconds = reader.duration(value, "\(path).timeout", range: 0.05...3600)
        {
            timeout = seconds
        }
        if entries["timeout"] == nil { timeout = min(timeout, interval * 0.8) }
        if timeout >= interval {
            reader.error(
                entries["timeout"]?.value ?? node, "\(path).timeout",
                "must be shorter than the interval (\(Format.duration(timeout)) ≥ \(Format.duration(interval)))")
        }
        return (interval, timeout)
    }

    /// A region name that must be in the configuration.
    static func readRegion(_ node: Node, _ path: String, topology: Topology, reader: YAMLReader) -> String? {
        guard let region = reader.string(node, path) else { return nil }
        guard topology.regions.contains(where: { $0.name == region }) else {
            let suggestion =
                YAMLReader.closest(region, in: topology.regions.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            reader.error(node, path, "region \(YAMLReader.quote(region)) is not in the regions list\(suggestion)")
            return nil
        }
        return region
    }

    /// A secret given inline or through an environment variable named in the configuration.
    static func readSecret(
        _ entries: [String: (key: Node, value: Node)], inline: String, environment: String, node: Node, path: String,
        reader: YAMLReader
    ) -> String? {
        if entries[inline] != nil, entries[environment] != nil {
            reader.error(node, "\(path).\(inline)", "give either \(inline) or \(environment), not both")
            return nil
        }
        if let value = entries[inline]?.value { return reader.string(value, "\(path).\(inline)") }
        if let value = entries[environment]?.value, let variable = reader.string(value, "\(path).\(environment)") {
            guard let secret = reader.environment[variable], !secret.isEmpty else {
                reader.unsetVariable(value, "\(path).\(environment)", variable)
                return nil
            }
            return secret
        }
        return nil
    }

    static func readURL(_ node: Node, _ path: String, reader: YAMLReader) -> HTTPTarget? {
        guard let text = reader.string(node, path) else { return nil }
        do {
            return try HTTPTarget(parsing: text)
        } catch {
            reader.error(node, path, error.description)
            return nil
        }
    }

    /// `headers:` plus `tokenEnv:` (a bearer token from the environment).
    static func readHeaders(
        _ entries: [String: (key: Node, value: Node)], path: String, reader: YAMLReader
    ) -> [String: String] {
        var headers: [String: String] = [:]
        if let node = entries["headers"]?.value {
            if case .mapping(let pairs) = node {
                for (key, value) in pairs {
                    guard let name = reader.string(key, "\(path).headers"),
                        let text = reader.string(value, "\(path).headers.\(name)")
                    else { continue }
                    headers[name] = text
                }
            } else {
                reader.error(
                    node, "\(path).headers",
                    "expected a mapping of header name to value, found \(reader.describe(node))")
            }
        }
        if let node = entries["tokenEnv"]?.value, let variable = reader.string(node, "\(path).tokenEnv") {
            if let token = reader.environment[variable], !token.isEmpty {
                headers["Authorization"] = "Bearer \(token)"
            } else {
                reader.unsetVariable(node, "\(path).tokenEnv", variable)
            }
        }
        return headers
    }

    /// A mapping of strings to regions (`standbys:`, `hosts:`).
    static func readRegionMap(_ node: Node, _ path: String, topology: Topology, reader: YAMLReader) -> [String: String]
    {
        guard case .mapping(let pairs) = node else {
            reader.error(node, path, "expected a mapping to region names, found \(reader.describe(node))")
            return [:]
        }
        var result: [String: String] = [:]
        for (key, value) in pairs {
            guard let name = reader.string(key, path),
                let region = readRegion(value, "\(path).\(name)", topology: topology, reader: reader)
            else { continue }
            result[name] = region
        }
        return result
    }

    static func readPostgres(
        _ node: Node, path: String, topology: Topology, reader: YAMLReader
    ) -> CollectorConfiguration? {
        guard let entries = reader.mapping(node, path, allowedKeys: postgresKeys) else { return nil }
        let timing = readTiming(entries, node: node, path: path, reader: reader)
        guard let regionNode = entries["region"]?.value else {
            reader.error(node, "\(path).region", "missing: the region this PostgreSQL server is in")
            return nil
        }
        guard let region = readRegion(regionNode, "\(path).region", topology: topology, reader: reader) else {
            return nil
        }
        if entries["dsn"] == nil, entries["dsnEnv"] == nil {
            reader.error(
                node, "\(path).dsn",
                "missing: give dsn (postgres://user@host:port/db) or dsnEnv (an environment variable holding it)")
            return nil
        }
        guard
            let dsnText = readSecret(
                entries, inline: "dsn", environment: "dsnEnv", node: node, path: path, reader: reader)
        else { return nil }
        let dsn: PostgresDSN
        do {
            dsn = try PostgresDSN(parsing: dsnText)
        } catch {
            reader.error(
                entries["dsn"]?.value ?? entries["dsnEnv"]?.value,
                "\(path).\(entries["dsn"] != nil ? "dsn" : "dsnEnv")", "invalid DSN: \(error)")
            return nil
        }
        if entries["dsn"] != nil, dsn.password != nil {
            reader.warning(entries["dsn"]?.value, "\(path).dsn", "the password is in the file: prefer dsnEnv")
        }
        var mapping = PostgresTopologyMapping(region: region, knownRegions: Set(topology.regions.map(\.name)))
        if let value = entries["standbys"]?.value {
            mapping.standbysByApplicationName = readRegionMap(
                value, "\(path).standbys", topology: topology, reader: reader)
        }
        if let value = entries["hosts"]?.value {
            mapping.standbysByHost = readRegionMap(value, "\(path).hosts", topology: topology, reader: reader)
        }
        if let value = entries["upstream"]?.value {
            mapping.upstream = readRegion(value, "\(path).upstream", topology: topology, reader: reader)
        } else if let primary = topology.regions.first(where: { $0.role == .primary })?.name, primary != region {
            mapping.upstream = primary
        }
        let name = entries["name"].flatMap { reader.string($0.value, "\(path).name") } ?? "postgres-\(region)"
        let heartbeat = entries["heartbeat"].flatMap { reader.boolean($0.value, "\(path).heartbeat") } ?? false
        return .postgres(
            PostgresSettings(
                name: name, connection: dsn, mapping: mapping, intervalSeconds: timing.interval,
                timeoutSeconds: timing.timeout,
                writesHeartbeat: heartbeat, heartbeatWriter: "\(ProcessInfo.processInfo.hostName)/\(name)"
            ))
    }

    static func readScrape(
        _ node: Node, path: String, topology: Topology, reader: YAMLReader
    ) -> CollectorConfiguration? {
        guard let entries = reader.mapping(node, path, allowedKeys: scrapeKeys),
            let source = readMetricsSource(
                entries, node: node, path: path, topology: topology, reader: reader, defaultName: "scrape",
                example: "the exposition endpoint, for example http://127.0.0.1:9187/metrics")
        else { return nil }
        var settings = PrometheusScrapeSettings(endpoint: source)
        guard let signalsNode = entries["signals"]?.value else {
            reader.error(
                node, "\(path).signals",
                "missing: map signals to metrics, for example 'signals: { replicationLagSeconds: pg_replication_lag_seconds }'"
            )
            return nil
        }
        guard case .mapping(let pairs) = signalsNode else {
            reader.error(
                signalsNode, "\(path).signals",
                "expected a mapping of signal to metric, found \(reader.describe(signalsNode))")
            return nil
        }
        for (key, value) in pairs {
            guard let signal = readSignalName(key, "\(path).signals", reader: reader) else { continue }
            let signalPath = "\(path).signals.\(signal.rawValue)"
            if case .mapping = value {
                guard let spec = reader.mapping(value, signalPath, allowedKeys: ["metric", "denominator", "scale"])
                else { continue }
                guard let metricNode = spec["metric"]?.value,
                    let metric = readMetricName(metricNode, "\(signalPath).metric", reader: reader)
                else {
                    if spec["metric"] == nil {
                        reader.error(value, "\(signalPath).metric", "missing: the metric family")
                    }
                    continue
                }
                let denominator = spec["denominator"].flatMap {
                    readMetricName($0.value, "\(signalPath).denominator", reader: reader)
                }
                let scale = spec["scale"].flatMap {
                    reader.number($0.value, "\(signalPath).scale", range: 1e-12...1e12)
                }
                settings.signals.append(
                    ScrapedSignal(signal: signal, metric: metric, denominator: denominator, scale: scale))
            } else if let metric = readMetricName(value, signalPath, reader: reader) {
                settings.signals.append(ScrapedSignal(signal: signal, metric: metric))
            }
        }
        return .prometheusScrape(settings)
    }

    static func readPromQL(
        _ node: Node, path: String, topology: Topology, reader: YAMLReader
    ) -> CollectorConfiguration? {
        guard let entries = reader.mapping(node, path, allowedKeys: promqlKeys),
            let source = readMetricsSource(
                entries, node: node, path: path, topology: topology, reader: reader, defaultName: "promql",
                example: "the API's base URL, for example http://127.0.0.1:9090")
        else { return nil }
        var settings = PromQLSettings(endpoint: source)
        guard let queriesNode = entries["queries"]?.value else {
            reader.error(
                node, "\(path).queries",
                "missing: one PromQL expression per signal, for example 'queries: { errorRate: ... }'")
            return nil
        }
        guard case .mapping(let pairs) = queriesNode else {
            reader.error(
                queriesNode, "\(path).queries",
                "expected a mapping of signal to PromQL expression, found \(reader.describe(queriesNode))")
            return nil
        }
        for (key, value) in pairs {
            guard let signal = readSignalName(key, "\(path).queries", reader: reader),
                let expression = reader.string(value, "\(path).queries.\(signal.rawValue)")
            else { continue }
            settings.queries.append((signal, expression))
        }
        return .promql(settings)
    }

    static func readProbe(_ node: Node, path: String, topology: Topology, reader: YAMLReader) -> CollectorConfiguration?
    {
        guard let entries = reader.mapping(node, path, allowedKeys: probeKeys) else { return nil }
        let timing = readTiming(entries, node: node, path: path, reader: reader)
        var targets: [HTTPProbeSettings.Target] = []
        if let targetsNode = entries["targets"]?.value {
            if entries["url"] != nil || entries["region"] != nil {
                reader.error(node, "\(path).targets", "give either targets or region and url, not both")
            }
            for (index, item) in (reader.sequence(targetsNode, "\(path).targets") ?? []).enumerated() {
                let itemPath = "\(path).targets[\(index)]"
                guard let target = reader.mapping(item, itemPath, allowedKeys: ["region", "url"]) else { continue }
                guard let regionNode = target["region"]?.value, let urlNode = target["url"]?.value else {
                    reader.error(item, itemPath, "needs region and url")
                    continue
                }
                if let region = readRegion(regionNode, "\(itemPath).region", topology: topology, reader: reader),
                    let url = readURL(urlNode, "\(itemPath).url", reader: reader)
                {
                    targets.append(.init(region: region, target: url))
                }
            }
        } else if let regionNode = entries["region"]?.value, let urlNode = entries["url"]?.value {
            if let region = readRegion(regionNode, "\(path).region", topology: topology, reader: reader),
                let url = readURL(urlNode, "\(path).url", reader: reader)
            {
                targets.append(.init(region: region, target: url))
            }
        } else {
            reader.error(node, "\(path).targets", "missing: give targets (a list of region and url) or region and url")
            return nil
        }
        var settings = HTTPProbeSettings(
            name: "probe", targets: targets, intervalSeconds: timing.interval, timeoutSeconds: timing.timeout)
        settings.name =
            entries["name"].flatMap { reader.string($0.value, "\(path).name") }
            ?? "http-probe-\(targets.map(\.region).joined(separator: "-"))"
        if let value = entries["method"]?.value, let method = reader.string(value, "\(path).method") {
            switch method.uppercased() {
            case "GET": settings.method = .get
            case "HEAD": settings.method = .head
            default: reader.error(value, "\(path).method", "\(YAMLReader.quote(method)) is not GET or HEAD")
            }
        }
        if let value = entries["expectStatus"]?.value {
            let items: [Node] = if case .sequence(let sequence) = value { Array(sequence) } else { [value] }
            var statuses: Set<Int> = []
            for item in items {
                if let code = reader.integer(item, "\(path).expectStatus", range: 100...599) { statuses.insert(code) }
            }
            if !statuses.isEmpty { settings.expectedStatus = statuses }
        }
        if let value = entries["bodyContains"]?.value {
            settings.bodyContains = reader.string(value, "\(path).bodyContains")
            if settings.method == .head {
                reader.error(value, "\(path).bodyContains", "a HEAD request has no body to check")
            }
        }
        if let value = entries["tlsVerify"]?.value, let flag = reader.boolean(value, "\(path).tlsVerify") {
            settings.verifiesCertificates = flag
        }
        settings.headers = readHeaders(entries, path: path, reader: reader)
        return .httpProbe(settings)
    }

    /// What `prometheus-scrape` and `promql` entries share: URL, name, timing, region mapping,
    /// headers and the replication upstream.
    private static func readMetricsSource(
        _ entries: [String: (key: Node, value: Node)], node: Node, path: String, topology: Topology, reader: YAMLReader,
        defaultName: String, example: String
    ) -> MetricsEndpoint? {
        let timing = readTiming(entries, node: node, path: path, reader: reader)
        guard let urlNode = entries["url"]?.value else {
            reader.error(node, "\(path).url", "missing: \(example)")
            return nil
        }
        guard let target = readURL(urlNode, "\(path).url", reader: reader) else { return nil }
        var source = MetricsEndpoint(
            name: "\(defaultName)-\(target.host):\(target.port)", target: target, intervalSeconds: timing.interval,
            timeoutSeconds: timing.timeout)
        if let value = entries["name"]?.value, let name = reader.string(value, "\(path).name") { source.name = name }
        if let value = entries["region"]?.value {
            source.fixedRegion = readRegion(value, "\(path).region", topology: topology, reader: reader)
        }
        if let value = entries["regionLabel"]?.value, let label = reader.string(value, "\(path).regionLabel") {
            source.regionLabel = label
        }
        source.headers = readHeaders(entries, path: path, reader: reader)
        source.replicationUpstream = readUpstream(entries, path: path, topology: topology, reader: reader)
        source.regions = source.fixedRegion.map { [$0] } ?? topology.regions.map(\.name)
        return source
    }

    private static func readUpstream(
        _ entries: [String: (key: Node, value: Node)], path: String, topology: Topology, reader: YAMLReader
    ) -> String? {
        if let value = entries["replicationFrom"]?.value {
            return readRegion(value, "\(path).replicationFrom", topology: topology, reader: reader)
        }
        return topology.regions.first { $0.role == .primary }?.name
    }

    static func readSignalName(_ node: Node, _ path: String, reader: YAMLReader) -> MetricSignal? {
        guard let name = reader.string(node, path) else { return nil }
        guard let signal = MetricSignal(rawValue: name) else {
            let names = MetricSignal.allCases.map(\.rawValue)
            let suggestion = YAMLReader.closest(name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
            reader.error(
                node, "\(path).\(name)",
                "unknown signal \(YAMLReader.quote(name))\(suggestion); known: \(names.joined(separator: ", "))")
            return nil
        }
        return signal
    }

    private static func readMetricName(_ node: Node, _ path: String, reader: YAMLReader) -> String? {
        guard let name = reader.string(node, path) else { return nil }
        let isValid =
            name.first.map { $0.isLetter || $0 == "_" || $0 == ":" } ?? false
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
        guard isValid else {
            reader.error(node, path, "\(YAMLReader.quote(name)) is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
            return nil
        }
        return name
    }

    /// `metricSignals` of an `otlp` collector: signal → OTLP metric name, or
    /// `{ metric, where, errorWhen, scale }`; matchers are attribute → value, `*` or a status
    /// class such as `5xx`. Configured mappings come before the HTTP semantic conventions.
    static func readMetricSignals(_ node: Node, path: String, reader: YAMLReader) -> [OTLPMetricMapping] {
        guard case .mapping(let pairs) = node else {
            reader.error(node, path, "expected a mapping of signal to OTLP metric, found \(reader.describe(node))")
            return []
        }
        func matchers(_ node: Node, _ path: String) -> [AttributeMatcher]? {
            guard case .mapping(let entries) = node else {
                reader.error(node, path, "expected attribute: value pairs, found \(reader.describe(node))")
                return nil
            }
            var result: [AttributeMatcher] = []
            for (key, value) in entries {
                guard let name = reader.string(key, path), let pattern = reader.string(value, "\(path).\(name)") else {
                    return nil
                }
                result.append(AttributeMatcher(key: name, pattern: pattern))
            }
            return result
        }
        var mappings: [OTLPMetricMapping] = []
        for (key, value) in pairs {
            guard let signal = readSignalName(key, path, reader: reader) else { continue }
            let signalPath = "\(path).\(signal.rawValue)"
            if [.replicationLagSeconds, .replicationLagBytes, .up].contains(signal) {
                reader.error(
                    key, signalPath,
                    "\(signal.rawValue) cannot come from OTLP metrics (use a postgres, scrape or promql collector)")
                continue
            }
            guard case .mapping = value else {
                if let metric = reader.string(value, signalPath), !metric.isEmpty {
                    mappings.append(OTLPMetricMapping(signal: signal, metric: metric))
                }
                continue
            }
            guard let spec = reader.mapping(value, signalPath, allowedKeys: ["metric", "where", "errorWhen", "scale"])
            else { continue }
            guard let metricNode = spec["metric"]?.value, let metric = reader.string(metricNode, "\(signalPath).metric")
            else {
                if spec["metric"] == nil {
                    reader.error(value, "\(signalPath).metric", "missing: the OTLP metric name")
                }
                continue
            }
            var mapping = OTLPMetricMapping(signal: signal, metric: metric)
            if let node = spec["where"]?.value, let parsed = matchers(node, "\(signalPath).where") {
                mapping.matchers = parsed
            }
            if let node = spec["errorWhen"]?.value {
                guard signal == .errorRate else {
                    reader.error(node, "\(signalPath).errorWhen", "only errorRate counts errors")
                    continue
                }
                if let parsed = matchers(node, "\(signalPath).errorWhen") { mapping.errorWhen = [parsed] }
            } else if signal == .errorRate {
                reader.error(
                    value, "\(signalPath).errorWhen",
                    "missing: which series are errors, for example 'errorWhen: { http.response.status_code: 5xx }'")
                continue
            }
            if let node = spec["scale"]?.value {
                mapping.scale = reader.number(node, "\(signalPath).scale", range: 1e-12...1e12)
            }
            mappings.append(mapping)
        }
        return mappings
    }
}
