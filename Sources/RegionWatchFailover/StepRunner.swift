import Foundation
import Logging
import PostgresNIO
import RegionWatchCollectors
import RegionWatchCore
#if canImport(Glibc)
import Glibc
#endif

/// Who and what a step acts on.
public struct StepContext: Sendable, Equatable {
    public var kind: FailoverKind
    public var from: String
    public var to: String
    public var reason: String

    public init(kind: FailoverKind, from: String, to: String, reason: String) {
        self.kind = kind
        self.from = from
        self.to = to
        self.reason = reason
    }

    func substitute(_ text: String) -> String {
        FailoverPlaceholders.substitute(text, from: from, to: to, reason: reason, kind: kind)
    }
}

/// What steps may look at and change: the collected state, and the demo's simulator.
public protocol FailoverWorld: Sendable {
    /// The dashboard state as of now.
    func currentState() -> DashboardState
    /// Applies a simulated change; `false` when no simulator runs.
    func simulate(_ change: SimulatedFailoverChange, from: String, to: String) -> Bool
    /// A drill's rehearsal of a simulated change on a copy of the simulation: what it would do
    /// (empty when it would do nothing), `nil` when no simulator runs. Changes nothing.
    func rehearse(_ change: SimulatedFailoverChange, from: String, to: String) -> String?
}

/// Runs one plan step and says how it ended, with its captured output (bounded).
public struct StepRunner: Sendable {
    public let world: FailoverWorld
    let fetcher: HTTPFetcher
    /// Output kept per step, in bytes (the end is kept: errors come last).
    static let outputLimit = 16_384

    /// How long the demo's simulated steps take, and how often `wait-for` looks again.
    public struct Pacing: Sendable {
        /// Simulated steps take a moment, as real ones do, so progress can be followed.
        public var simulatedSteps: Bool
        public var pollSeconds: Double

        public static let realistic = Pacing(simulatedSteps: true, pollSeconds: 0.2)
        /// No pauses (tests that run thousands of attempts).
        public static let immediate = Pacing(simulatedSteps: false, pollSeconds: 0.001)
    }

    let pacing: Pacing

    public init(world: FailoverWorld, fetcher: HTTPFetcher = HTTPFetcher(), pacing: Pacing = .realistic) {
        self.world = world
        self.fetcher = fetcher
        self.pacing = pacing
    }

    public func run(_ step: FailoverPlanStep, context: StepContext) async -> (FailoverStepOutcome, String) {
        switch step.action {
        case .exec(let program, let arguments):
            return await Self.exec(
                program, arguments.map(context.substitute), context: context, timeout: step.timeoutSeconds)
        case .http(let method, let url, let headers, let body, let expectStatus):
            return await http(
                method: method, url: context.substitute(url), headers: headers.mapValues(context.substitute),
                body: body.map(context.substitute), expectStatus: expectStatus, timeout: step.timeoutSeconds)
        case .postgresPromote(let dsns):
            guard let dsn = dsns[context.to] ?? dsns[""] else {
                return (.failed, "no DSN for \(context.to) in this step")
            }
            return await PostgresSteps.promote(dsn: dsn, timeout: step.timeoutSeconds)
        case .postgresFence(let dsns):
            guard let dsn = dsns[context.from] ?? dsns[""] else {
                return (.failed, "no DSN for \(context.from) in this step")
            }
            return await PostgresSteps.fence(dsn: dsn, timeout: step.timeoutSeconds)
        case .postgresUnfence(let dsns):
            guard let dsn = dsns[context.from] ?? dsns[""] else {
                return (.failed, "no DSN for \(context.from) in this step")
            }
            return await PostgresSteps.unfence(dsn: dsn, timeout: step.timeoutSeconds)
        case .waitFor(let condition):
            return await waitFor(condition, context: context, timeout: step.timeoutSeconds)
        case .simulated(let change) where context.kind == .drill:
            // A drill changes nothing real: the step is rehearsed on a copy of the simulation.
            guard let rehearsal = world.rehearse(change, from: context.from, to: context.to) else {
                return (.failed, "no simulator runs: simulated steps are for the demo")
            }
            guard !rehearsal.isEmpty else {
                return (.failed, "rehearsal of \(change.rawValue) \(context.from) → \(context.to) would change nothing")
            }
            return (.succeeded, "rehearsed on a copy of the simulation, nothing changed: \(rehearsal)")
        case .simulated(let change):
            guard world.simulate(change, from: context.from, to: context.to) else {
                return (.failed, "no simulator runs: simulated steps are for the demo")
            }
            // The demo's steps take a moment, as real ones do, so progress can be followed.
            let seconds = min(step.timeoutSeconds / 2, change == .promote ? 2.0 : 1.0)
            if pacing.simulatedSteps {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            } else {
                await Task.yield()
            }
            return (.succeeded, "simulated \(change.rawValue): \(context.from) → \(context.to)")
        }
    }

    // MARK: exec

    /// Runs a program directly (never through a shell) with the failover in its environment,
    /// capturing standard output and error; killed at the timeout.
    static func exec(
        _ program: String, _ arguments: [String], context: StepContext, timeout: Double
    ) async -> (FailoverStepOutcome, String) {
        let capture = NSTemporaryDirectory() + "regionwatch-step-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let output = open(capture, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            unlink(capture)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["REGIONWATCH_FROM"] = context.from
        environment["REGIONWATCH_TO"] = context.to
        environment["REGIONWATCH_REASON"] = context.reason
        environment["REGIONWATCH_KIND"] = context.kind.rawValue
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var argv = ([program] + arguments).map { strdup($0) } + [nil]
        var envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned =
            program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, &argv, &envp)
            : posix_spawnp(&pid, program, &actions, &attributes, &argv, &envp)
        close(output)
        close(input)
        guard spawned == 0 else { return (.failed, "cannot run \(program): \(String(cString: strerror(spawned)))") }
        let deadline = MonotonicClock.seconds() + timeout
        var status: Int32 = 0
        var timedOut = false
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if MonotonicClock.seconds() >= deadline || Task.isCancelled {
                timedOut = true
                kill(-pid, SIGTERM)
                try? await Task.sleep(for: .milliseconds(500))
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let captured = bounded((try? Data(contentsOf: URL(fileURLWithPath: capture))) ?? Data())
        if timedOut { return (.timedOut, captured + "\n[killed after \(Format.duration(timeout))]") }
        let exited = (status & 0x7F) == 0
        let code = exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code == 0 ? .succeeded : .failed, captured + (code == 0 ? "" : "\n[exit status \(code)]"))
    }

    static func bounded(_ data: Data) -> String {
        let text = String(decoding: data.suffix(outputLimit), as: UTF8.self)
        return data.count > outputLimit ? "[… \(data.count - outputLimit) bytes cut]\n" + text : text
    }

    // MARK: http

    func http(
        method: String, url: String, headers: [String: String], body: String?, expectStatus: Set<Int>, timeout: Double
    ) async -> (FailoverStepOutcome, String) {
        let target: HTTPTarget
        do {
            target = try HTTPTarget(parsing: url)
        } catch {
            return (.failed, error.description)
        }
        let fetchMethod: HTTPFetchRequest.Method =
            method.uppercased() == "GET" ? .get : (method.uppercased() == "HEAD" ? .head : .post)
        let request = HTTPFetchRequest(
            method: fetchMethod, target: target, headers: headers.sorted { $0.key < $1.key },
            body: Array((body ?? "").utf8), timeoutSeconds: timeout, maxBodyBytes: 1 << 20)
        do {
            let response = try await fetcher.fetch(request)
            let text = Self.bounded(Data(response.body))
            let outcome: FailoverStepOutcome = expectStatus.contains(response.status) ? .succeeded : .failed
            return (outcome, "HTTP \(response.status)\(text.isEmpty ? "" : "\n" + text)")
        } catch .timedOut {
            return (.timedOut, "no response within \(Format.duration(timeout))")
        } catch {
            return (.failed, error.description)
        }
    }

    // MARK: wait-for

    func waitFor(
        _ condition: FailoverCondition, context: StepContext, timeout: Double
    ) async -> (FailoverStepOutcome, String) {
        let deadline = MonotonicClock.seconds() + timeout
        var last = ""
        while MonotonicClock.seconds() < deadline, !Task.isCancelled {
            let state = world.currentState()
            let (holds, description) = Self.check(condition, target: context.to, in: state)
            last = description
            if holds { return (.succeeded, description) }
            try? await Task.sleep(for: .milliseconds(Int(pacing.pollSeconds * 1000)))
        }
        return (.timedOut, "still not \(condition.rawValue) after \(Format.duration(timeout)): \(last)")
    }

    static func check(_ condition: FailoverCondition, target: String, in state: DashboardState) -> (Bool, String) {
        guard let region = state.region(named: target) else { return (false, "\(target) is not configured") }
        switch condition {
        case .targetCaughtUp:
            if region.role == .primary { return (true, "\(target) is primary") }
            // Caught up: it has received everything the primary wrote (promotion replays the rest).
            let loss = state.dataLoss(promoting: target)
            guard let known = loss.known else { return (false, "data loss of \(target) unknown") }
            let caughtUp = loss.unknownAfter == nil && known.certainlyWithin(0.5) && (loss.knownBytes ?? 0) == 0
            return (caughtUp, "not received: \(loss.text(at: state.now))")
        case .targetIsPrimary:
            return (region.role == .primary, "\(target) is \(region.roleDescription)")
        case .targetHealthy:
            return (region.health == .ok, "\(target) is \(region.health.label)")
        }
    }
}

/// The built-in PostgreSQL steps.
enum PostgresSteps {
    static let logger = Logger(label: "regionwatch.failover")

    static func connect(_ dsnText: String, timeout: Double) async throws -> PostgresConnection {
        let dsn = try PostgresDSN(parsing: dsnText)
        var configuration = PostgresConnection.Configuration(
            host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password, database: dsn.database,
            tls: try dsn.tls())
        configuration.options.connectTimeout = .milliseconds(Int64(min(timeout, 10) * 1000))
        configuration.options.additionalStartupParameters = [("application_name", "regionwatch failover")]
        return try await PostgresConnection.connect(configuration: configuration, id: 3, logger: logger)
    }

    static func describe(_ error: Error) -> String {
        if let dsnError = error as? PostgresDSNError { return "invalid DSN: \(dsnError)" }
        return PostgresSource.describe(error).message
    }

    /// `pg_promote(wait => true)`, then verify the server left recovery and takes writes.
    static func promote(dsn: String, timeout: Double) async -> (FailoverStepOutcome, String) {
        var log: [String] = []
        do {
            let connection = try await connect(dsn, timeout: timeout)
            defer { Task { try? await connection.close() } }
            var inRecovery = true
            for try await value in try await connection.query("SELECT pg_is_in_recovery()", logger: logger).decode(
                Bool.self)
            { inRecovery = value }
            if inRecovery {
                let waitSeconds = Int32(max(1, min(3600, Int(timeout))))
                var promoted = false
                for try await value in try await connection.query(
                    "SELECT pg_promote(true, \(waitSeconds))", logger: logger
                ).decode(Bool.self) { promoted = value }
                log.append("pg_promote(wait => true): \(promoted)")
                guard promoted else {
                    return (
                        .failed,
                        (log + ["the server did not finish promotion within \(waitSeconds)s"]).joined(separator: "\n")
                    )
                }
            } else {
                log.append("already out of recovery: nothing to promote")
            }
            for try await value in try await connection.query("SELECT pg_is_in_recovery()", logger: logger).decode(
                Bool.self)
            { inRecovery = value }
            log.append("pg_is_in_recovery(): \(inRecovery)")
            guard !inRecovery else { return (.failed, log.joined(separator: "\n")) }
            var transaction: Int64 = 0
            for try await value in try await connection.query("SELECT txid_current()", logger: logger).decode(
                Int64.self)
            { transaction = value }
            log.append("write check: txid_current() = \(transaction)")
            return (.succeeded, log.joined(separator: "\n"))
        } catch {
            return (.failed, (log + [describe(error)]).joined(separator: "\n"))
        }
    }

    /// Lifts a fence (a roll back): `ALTER SYSTEM RESET default_transaction_read_only`,
    /// reloaded, then verifies a write transaction is possible again.
    static func unfence(dsn: String, timeout: Double) async -> (FailoverStepOutcome, String) {
        var log: [String] = []
        do {
            let connection = try await connect(dsn, timeout: timeout)
            defer { Task { try? await connection.close() } }
            _ = try await connection.query("ALTER SYSTEM RESET default_transaction_read_only", logger: logger)
            log.append("ALTER SYSTEM RESET default_transaction_read_only")
            _ = try await connection.query("SELECT pg_reload_conf()", logger: logger)
            log.append("pg_reload_conf()")
            // A new session reads the reloaded default: check there that writes are allowed.
            let check = try await connect(dsn, timeout: timeout)
            defer { Task { try? await check.close() } }
            var readOnly = "on"
            for try await value in try await check.query(
                "SELECT current_setting('default_transaction_read_only')", logger: logger
            ).decode(String.self) { readOnly = value }
            log.append("default_transaction_read_only = \(readOnly)")
            return (readOnly == "off" ? .succeeded : .failed, log.joined(separator: "\n"))
        } catch {
            return (.failed, (log + [describe(error)]).joined(separator: "\n"))
        }
    }

    /// Makes the old primary refuse writes (`default_transaction_read_only`, reloaded) and ends
    /// its open client sessions. An unreachable old primary cannot take writes either: recorded.
    static func fence(dsn: String, timeout: Double) async -> (FailoverStepOutcome, String) {
        let connection: PostgresConnection
        do {
            connection = try await connect(dsn, timeout: timeout)
        } catch {
            let description = describe(error)
            if PostgresSource.describe(error).isRefused || description.contains("timed out")
                || description.contains("cannot connect")
            {
                return (.warning, "not fenced: unreachable (\(description)); it may take writes if it comes back")
            }
            return (.failed, description)
        }
        defer { Task { try? await connection.close() } }
        var log: [String] = []
        do {
            var inRecovery = false
            for try await value in try await connection.query("SELECT pg_is_in_recovery()", logger: logger).decode(
                Bool.self)
            { inRecovery = value }
            if inRecovery { return (.succeeded, "already a standby: takes no writes") }
            _ = try await connection.query("ALTER SYSTEM SET default_transaction_read_only = on", logger: logger)
            log.append("ALTER SYSTEM SET default_transaction_read_only = on")
            _ = try await connection.query("SELECT pg_reload_conf()", logger: logger)
            log.append("pg_reload_conf()")
            var ended = 0
            // Client sessions end, except regionwatch's own (a lock or history held there).
            let terminate: PostgresQuery = """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name NOT LIKE 'regionwatch%'
                """
            for try await value in try await connection.query(terminate, logger: logger).decode(Int64.self) {
                ended = Int(value)
            }
            log.append("ended \(ended) client session\(ended == 1 ? "" : "s")")
            return (.succeeded, log.joined(separator: "\n"))
        } catch {
            return (.failed, (log + [describe(error)]).joined(separator: "\n"))
        }
    }
}
