import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RegionWatchCore
import Synchronization

/// Configuration of a `postgres` collector: one PostgreSQL server.
public struct PostgresSettings: Equatable, Sendable {
    public var name: String
    public var connection: PostgresDSN
    public var mapping: PostgresTopologyMapping
    public var intervalSeconds: Double
    public var timeoutSeconds: Double

    public init(name: String, connection: PostgresDSN, mapping: PostgresTopologyMapping, intervalSeconds: Double = 5, timeoutSeconds: Double = 2) {
        self.name = name
        self.connection = connection
        self.mapping = mapping
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Watches one PostgreSQL server through postgres-nio: its role and timeline, and replication
/// from whichever end it is. Keeps one connection and reconnects when it breaks.
public final class PostgresSource: PollingSource {
    public let settings: PostgresSettings
    private let connection = Mutex<PostgresConnection?>(nil)
    private let history = Mutex(WALPositionHistory())
    private let logger = Logger(label: "regionwatch.postgres")

    public init(settings: PostgresSettings) {
        self.settings = settings
    }

    public var name: String { settings.name }
    public var kind: String { "postgres" }
    public var regions: [String] { [settings.mapping.region] + settings.mapping.expectedStandbys }
    public var intervalSeconds: Double { settings.intervalSeconds }
    public var timeoutSeconds: Double { settings.timeoutSeconds }
    public var secrets: [String] { [settings.connection.password].compactMap { $0 } }

    public func collect(at now: Timestamp) async -> CollectionRound {
        let started = MonotonicClock.seconds()
        do {
            let connection = try await connected()
            let reading = try await Self.read(connection, logger: logger)
            if case .primary(let primary) = reading {
                history.withLock { $0.record(lsn: primary.currentLSN, at: now) }
            }
            let history = history.withLock { $0 }
            return PostgresReplicationInterpreter.events(
                for: reading, mapping: settings.mapping, history: history, source: settings.name, at: now,
                roundMilliseconds: (MonotonicClock.seconds() - started) * 1000
            )
        } catch {
            await drop()
            let description = Self.describe(error)
            return CollectionRound(
                events: PostgresReplicationInterpreter.unreachableEvents(mapping: settings.mapping, source: settings.name, at: now, message: description.message, isRefused: description.isRefused),
                errors: ["\(settings.connection.displayAddress): \(description.message)"]
            )
        }
    }

    public func timeoutEvents(at now: Timestamp) -> [DashboardEvent] {
        PostgresReplicationInterpreter.unreachableEvents(mapping: settings.mapping, source: settings.name, at: now, message: "no answer within \(Format.duration(settings.timeoutSeconds))", isRefused: false)
    }

    public func shutdown() async { await drop() }

    private func connected() async throws -> PostgresConnection {
        if let existing = connection.withLock({ $0 }), !existing.isClosed { return existing }
        var configuration = PostgresConnection.Configuration(
            host: settings.connection.host, port: settings.connection.port,
            username: settings.connection.user, password: settings.connection.password,
            database: settings.connection.database, tls: try settings.connection.tls()
        )
        configuration.options.connectTimeout = .milliseconds(Int64(settings.timeoutSeconds * 1000))
        configuration.options.additionalStartupParameters = [("application_name", "regionwatch")]
        let created = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        connection.withLock { $0 = created }
        return created
    }

    private func drop() async {
        let existing = connection.withLock { current -> PostgresConnection? in
            defer { current = nil }
            return current
        }
        try? await existing?.close()
    }

    static func read(_ connection: PostgresConnection, logger: Logger) async throws -> PostgresReading {
        var isStandby = false
        var timeline: Int?
        for try await (recovery, line) in try await connection.query("SELECT pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint())::int8", logger: logger).decode((Bool, Int64?).self) {
            isStandby = recovery
            timeline = line.map(Int.init)
        }
        if isStandby {
            var reading = StandbyReading(timeline: timeline, isReplayPaused: false, receivedNotReplayedBytes: nil, secondsSinceLastReplayedTransaction: nil, receiverStatus: nil)
            let query: PostgresQuery = """
                SELECT pg_is_wal_replay_paused(),
                       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8,
                       EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8,
                       (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
                       (SELECT sender_host FROM pg_stat_wal_receiver LIMIT 1),
                       pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text
                """
            for try await row in try await connection.query(query, logger: logger).decode((Bool, Double?, Double?, String?, String?, String?, String?).self) {
                reading.isReplayPaused = row.0
                reading.receivedNotReplayedBytes = row.1
                reading.secondsSinceLastReplayedTransaction = row.2
                reading.receiverStatus = row.3
                reading.senderHost = row.4
                reading.receiveLSN = row.5
                reading.replayLSN = row.6
            }
            return .standby(reading)
        }
        var primary = PrimaryReading(timeline: timeline, currentLSN: 0, standbys: [])
        for try await (lsn, readOnly) in try await connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8, current_setting('default_transaction_read_only')", logger: logger).decode((Double, String).self) {
            primary.currentLSN = lsn
            primary.isFenced = readOnly == "on"
        }
        let standbys: PostgresQuery = """
            SELECT application_name, host(client_addr), state,
                   EXTRACT(EPOCH FROM write_lag)::float8, EXTRACT(EPOCH FROM flush_lag)::float8, EXTRACT(EPOCH FROM replay_lag)::float8,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8, pg_wal_lsn_diff(replay_lsn, '0/0')::float8
            FROM pg_stat_replication
            """
        for try await row in try await connection.query(standbys, logger: logger).decode((String?, String?, String?, Double?, Double?, Double?, Double?, Double?).self) {
            primary.standbys.append(StandbyRow(
                applicationName: row.0, clientAddress: row.1, state: row.2,
                writeLagSeconds: row.3, flushLagSeconds: row.4, replayLagSeconds: row.5,
                replayBytesBehind: row.6, replayLSN: row.7
            ))
        }
        return .primary(primary)
    }

    /// An operator's description of a postgres-nio error (its own description hides details
    /// on purpose; passwords never appear in what it reports here).
    public static func describe(_ error: Error) -> (message: String, isRefused: Bool) {
        guard let error = error as? PSQLError else {
            let text = "\(error)"
            return (text, text.contains("refused"))
        }
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return ("server error: \(message)\(state)", false)
        }
        if let underlying = error.underlying {
            let text = "\(underlying)"
            if text.contains("refused") || text.contains("errno: 111") { return ("connection refused", true) }
            if let channelError = underlying as? ChannelError, case .connectTimeout = channelError { return ("connect timed out", false) }
            return (text, false)
        }
        switch error.code {
        case .serverClosedConnection: return ("the server closed the connection", false)
        case .connectionError: return ("cannot connect", false)
        case .sslUnsupported: return ("the server does not support TLS (sslmode=require)", false)
        default: return ("\(error.code)", false)
        }
    }
}

/// Where and how to connect, from a DSN (`postgres://user:pass@host:5432/db?sslmode=disable` or
/// `host=… port=… user=… password=… dbname=… sslmode=…`).
public struct PostgresDSN: Equatable, Sendable {
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String?
    public var tlsMode: TLSMode

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String? = nil, tlsMode: TLSMode = .prefer) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
    }

    /// `host:port/database`, without credentials.
    public var displayAddress: String { "\(host):\(port)/\(database ?? user)" }

    /// Parses a DSN; errors never repeat the password.
    public init(parsing text: String) throws(PostgresDSNError) {
        var fields: [String: String] = [:]
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            let rest = text.drop { $0 != "/" }.dropFirst(2)
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            var authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let credentials = authority[..<at]
                if let colon = credentials.firstIndex(of: ":") {
                    fields["user"] = Self.percentDecoded(credentials[..<colon])
                    fields["password"] = Self.percentDecoded(credentials[credentials.index(after: colon)...])
                } else {
                    fields["user"] = Self.percentDecoded(credentials)
                }
                authority = authority[authority.index(after: at)...]
            }
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                fields["host"] = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") { fields["port"] = String(after.dropFirst()) }
            } else if let colon = authority.lastIndex(of: ":") {
                fields["host"] = String(authority[..<colon])
                fields["port"] = String(authority[authority.index(after: colon)...])
            } else if !authority.isEmpty {
                fields["host"] = String(authority)
            }
            var tail = rest[authorityEnd...]
            if tail.hasPrefix("/") {
                let end = tail.firstIndex(of: "?") ?? tail.endIndex
                let name = tail[tail.index(after: tail.startIndex)..<end]
                if !name.isEmpty { fields["dbname"] = Self.percentDecoded(name) }
                tail = tail[end...]
            }
            if tail.hasPrefix("?") {
                for pair in tail.dropFirst().split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { throw PostgresDSNError("query parameter '\(parts.first ?? "")' has no value") }
                    fields[String(parts[0])] = Self.percentDecoded(parts[1])
                }
            }
        } else if text.contains("=") {
            fields = try Self.keywordPairs(text)
        } else {
            throw PostgresDSNError("expected postgres://user:password@host:port/database or key=value pairs")
        }
        let known: Set<String> = ["host", "port", "user", "password", "dbname", "sslmode", "application_name", "connect_timeout"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresDSNError("unknown parameter '\(unknown)'")
        }
        guard let host = fields["host"], !host.isEmpty else { throw PostgresDSNError("no host") }
        guard let user = fields["user"], !user.isEmpty else { throw PostgresDSNError("no user") }
        self.host = host
        self.user = user
        password = fields["password"]
        database = fields["dbname"]
        if let portText = fields["port"] {
            guard let number = Int(portText), (1...65535).contains(number) else { throw PostgresDSNError("port '\(portText)' is not 1–65535") }
            port = number
        } else {
            port = 5432
        }
        switch fields["sslmode"] ?? "prefer" {
        case "disable": tlsMode = .disable
        case "allow", "prefer": tlsMode = .prefer
        case "require", "verify-ca", "verify-full": tlsMode = .require
        case let other: throw PostgresDSNError("sslmode '\(other)' is not one of disable, prefer, require, verify-ca, verify-full")
        }
    }

    public func tls() throws -> PostgresConnection.Configuration.TLS {
        switch tlsMode {
        case .disable:
            return .disable
        case .prefer:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return .prefer(try NIOSSLContext(configuration: configuration))
        case .require:
            return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// `key=value key='quoted value'` (libpq's keyword form; `\\'` escapes a quote).
    private static func keywordPairs(_ text: String) throws(PostgresDSNError) -> [String: String] {
        var fields: [String: String] = [:]
        var characters = Substring(text)
        while true {
            characters = characters.drop { $0 == " " || $0 == "\t" }
            guard !characters.isEmpty else { return fields }
            guard let equals = characters.firstIndex(of: "="), !characters[..<equals].contains(" ") else {
                throw PostgresDSNError("'\(characters.prefix { $0 != " " })' is not key=value")
            }
            let key = String(characters[..<equals])
            characters = characters[characters.index(after: equals)...]
            var value = ""
            if characters.first == "'" {
                characters = characters.dropFirst()
                var closed = false
                while let character = characters.first {
                    characters = characters.dropFirst()
                    if character == "\\", let next = characters.first {
                        value.append(next)
                        characters = characters.dropFirst()
                    } else if character == "'" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw PostgresDSNError("the value of '\(key)' is not closed with '") }
            } else {
                let end = characters.firstIndex { $0 == " " || $0 == "\t" } ?? characters.endIndex
                value = String(characters[..<end])
                characters = characters[end...]
            }
            fields[key] = value
        }
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A DSN that cannot be used; never contains the password.
public struct PostgresDSNError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
