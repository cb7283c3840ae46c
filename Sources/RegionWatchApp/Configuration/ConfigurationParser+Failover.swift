import RegionWatchCollectors
import RegionWatchCore
import Yams
import RegionWatchFailover

/// The `failover:` section: plan steps, cool-down, lock, audit log, read-only.
extension ConfigurationParser {
    static let failoverKeys = ["plan", "coolDown", "lock", "lockDsn", "lockDsnEnv", "auditLog", "audit", "readOnly"]
    static let stepKeys = [
        "name", "kind", "timeout", "onFailure", "drill", "command", "method", "url", "headers", "body", "expectStatus",
        "dsn", "dsnEnv", "dsnByRegion", "condition", "change", "undo",
    ]

    static func readFailover(_ node: Node, topology: Topology, reader: YAMLReader) -> FailoverSettings {
        var settings = FailoverSettings()
        guard let entries = reader.mapping(node, "failover", allowedKeys: failoverKeys) else { return settings }
        if let value = entries["coolDown"]?.value,
            let seconds = reader.duration(value, "failover.coolDown", range: 0...(7 * 86_400))
        {
            settings.coolDownSeconds = seconds
        }
        if let value = entries["auditLog"]?.value { settings.auditLogPath = reader.string(value, "failover.auditLog") }
        if let value = entries["readOnly"]?.value, let flag = reader.boolean(value, "failover.readOnly") {
            settings.isReadOnly = flag
        }
        if let value = entries["lock"]?.value, let kind = reader.string(value, "failover.lock") {
            switch kind {
            case "file":
                settings.lock = .file
            case "postgres":
                if entries["lockDsn"] == nil, entries["lockDsnEnv"] == nil {
                    reader.error(value, "failover.lock", "a postgres lock needs lockDsn or lockDsnEnv")
                } else if let text = readSecret(
                    entries, inline: "lockDsn", environment: "lockDsnEnv", node: node, path: "failover", reader: reader)
                {
                    do {
                        settings.lock = .postgres(try PostgresDSN(parsing: text))
                    } catch {
                        reader.error(
                            entries["lockDsn"]?.value ?? entries["lockDsnEnv"]?.value, "failover.lockDsn",
                            "invalid DSN: \(error)")
                    }
                }
            default:
                reader.error(value, "failover.lock", "\(YAMLReader.quote(kind)) is not file or postgres")
            }
        }
        // Operators who share a lock share the history: the lock's server holds it too.
        let audit = entries["audit"].flatMap { reader.string($0.value, "failover.audit") }
        switch (audit, settings.lock) {
        case (nil, .postgres(let dsn)), ("postgres", .postgres(let dsn)):
            settings.sharedHistory = dsn
        case ("postgres", .file):
            reader.error(
                entries["audit"]?.value, "failover.audit",
                "a shared history lives on the lock's server: set lock: postgres with lockDsn or lockDsnEnv")
        case (nil, .file), ("file", _):
            break
        case (let other?, _):
            reader.error(
                entries["audit"]?.value, "failover.audit", "\(YAMLReader.quote(other)) is not file or postgres")
        }
        if let value = entries["plan"]?.value, let items = reader.sequence(value, "failover.plan") {
            for (index, item) in items.enumerated() {
                if let step = readStep(item, path: "failover.plan[\(index)]", topology: topology, reader: reader) {
                    settings.plan.append(step)
                }
            }
        }
        return settings
    }

    private static func readStep(
        _ node: Node, path: String, topology: Topology, reader: YAMLReader
    ) -> FailoverPlanStep? {
        guard let entries = reader.mapping(node, path, allowedKeys: stepKeys) else { return nil }
        guard let kindNode = entries["kind"]?.value, let kind = reader.string(kindNode, "\(path).kind") else {
            reader.error(
                node, "\(path).kind",
                "missing: one of exec, http, postgres-promote, postgres-fence, wait-for, simulated")
            return nil
        }
        var timeout = 60.0
        if let value = entries["timeout"]?.value,
            let seconds = reader.duration(value, "\(path).timeout", range: 0.1...86_400)
        {
            timeout = seconds
        }
        var onFailure = FailoverStepFailurePolicy.abort
        if let value = entries["onFailure"]?.value, let policy = reader.string(value, "\(path).onFailure") {
            if let parsed = FailoverStepFailurePolicy(rawValue: policy) {
                onFailure = parsed
            } else {
                reader.error(value, "\(path).onFailure", "\(YAMLReader.quote(policy)) is not abort or continue")
            }
        }
        let drill = entries["drill"].flatMap { reader.boolean($0.value, "\(path).drill") } ?? false
        let action: FailoverStepAction
        switch kind {
        case "exec":
            guard let commandNode = entries["command"]?.value else {
                reader.error(
                    node, "\(path).command",
                    "missing: the program and its arguments as a list, for example [/usr/local/bin/dns-switch, --to, \"{to}\"] (never run through a shell)"
                )
                return nil
            }
            guard let parts = reader.sequence(commandNode, "\(path).command") else { return nil }
            let words = parts.enumerated().compactMap { reader.string($1, "\(path).command[\($0)]", allowEmpty: true) }
            guard let program = words.first, !program.isEmpty else {
                reader.error(commandNode, "\(path).command", "the first item must be the program")
                return nil
            }
            action = .exec(program: program, arguments: Array(words.dropFirst()))
        case "http":
            guard let urlNode = entries["url"]?.value, let url = reader.string(urlNode, "\(path).url") else {
                reader.error(node, "\(path).url", "missing: the URL to call")
                return nil
            }
            let method = entries["method"].flatMap { reader.string($0.value, "\(path).method") }?.uppercased() ?? "POST"
            if !["GET", "POST", "HEAD"].contains(method) {
                reader.error(
                    entries["method"]?.value, "\(path).method", "\(YAMLReader.quote(method)) is not GET, POST or HEAD")
            }
            var statuses: Set<Int> = Set(200...299)
            if let value = entries["expectStatus"]?.value {
                let items: [Node] = if case .sequence(let sequence) = value { Array(sequence) } else { [value] }
                statuses = Set(items.compactMap { reader.integer($0, "\(path).expectStatus", range: 100...599) })
            }
            action = .http(
                method: method, url: url, headers: readHeaders(entries, path: path, reader: reader),
                body: entries["body"].flatMap { reader.string($0.value, "\(path).body", allowEmpty: true) },
                expectStatus: statuses)
        case "postgres-promote", "postgres-fence", "postgres-unfence":
            var dsns: [String: String] = [:]
            if let value = entries["dsnByRegion"]?.value {
                guard case .mapping(let pairs) = value else {
                    reader.error(value, "\(path).dsnByRegion", "expected a mapping of region to DSN")
                    return nil
                }
                for (key, dsnNode) in pairs {
                    guard let region = readRegion(key, "\(path).dsnByRegion", topology: topology, reader: reader),
                        let dsn = reader.string(dsnNode, "\(path).dsnByRegion.\(region)")
                    else { continue }
                    dsns[region] = expandEnvironment(
                        dsn, reader: reader, node: dsnNode, path: "\(path).dsnByRegion.\(region)")
                }
            }
            if let dsn = readSecret(
                entries, inline: "dsn", environment: "dsnEnv", node: node, path: path, reader: reader)
            {
                dsns[""] = dsn
            }
            if dsns.isEmpty {
                reader.error(node, "\(path).dsn", "missing: give dsn, dsnEnv or dsnByRegion")
                return nil
            }
            for (region, dsn) in dsns {
                do { _ = try PostgresDSN(parsing: dsn) } catch {
                    reader.error(
                        node, "\(path).\(region.isEmpty ? "dsn" : "dsnByRegion.\(region)")", "invalid DSN: \(error)")
                }
            }
            action =
                switch kind {
                case "postgres-promote": .postgresPromote(dsns: dsns)
                case "postgres-fence": .postgresFence(dsns: dsns)
                default: .postgresUnfence(dsns: dsns)
                }
        case "wait-for":
            guard let value = entries["condition"]?.value, let text = reader.string(value, "\(path).condition") else {
                reader.error(
                    node, "\(path).condition", "missing: one of target-caught-up, target-is-primary, target-healthy")
                return nil
            }
            guard let condition = FailoverCondition(rawValue: text) else {
                reader.error(
                    value, "\(path).condition",
                    "\(YAMLReader.quote(text)) is not one of target-caught-up, target-is-primary, target-healthy")
                return nil
            }
            action = .waitFor(condition)
        case "simulated":
            let text = entries["change"].flatMap { reader.string($0.value, "\(path).change") } ?? "verify"
            guard let change = SimulatedFailoverChange(rawValue: text) else {
                reader.error(
                    entries["change"]?.value, "\(path).change",
                    "\(YAMLReader.quote(text)) is not one of fence, promote, shift-traffic, verify, unfence, unshift-traffic"
                )
                return nil
            }
            action = .simulated(change)
        default:
            reader.error(
                kindNode, "\(path).kind",
                "unknown step kind \(YAMLReader.quote(kind)); one of exec, http, postgres-promote, postgres-fence, postgres-unfence, wait-for, simulated"
            )
            return nil
        }
        let name = entries["name"].flatMap { reader.string($0.value, "\(path).name") } ?? kind
        // `undo:` is a step of its own (exec, http, postgres-unfence…) that a roll back runs.
        let undo = entries["undo"].flatMap {
            readStep($0.value, path: "\(path).undo", topology: topology, reader: reader)?.action
        }
        return FailoverPlanStep(
            name: name, action: action, timeoutSeconds: timeout, onFailure: onFailure,
            isDrillSafe: drill || kind == "simulated", undo: undo)
    }

    /// `${NAME}` in a DSN comes from the environment, so passwords stay out of the file.
    private static func expandEnvironment(_ text: String, reader: YAMLReader, node: Node, path: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                result += rest[start.lowerBound...]
                return result
            }
            let name = String(rest[start.upperBound..<end])
            if let value = reader.environment[name] {
                result += value
            } else {
                reader.unsetVariable(node, path, name)
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
