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
    /// Write a heartbeat row every round while the server takes writes (`heartbeat: true`).
    public var writesHeartbeat: Bool
    /// Identifies this writer's row in the heartbeat table (`user@host/collector`).
    public var heartbeatWriter: String

    public init(
        name: String,
        connection: PostgresDSN,
        mapping: PostgresTopologyMapping,
        intervalSeconds: Double = 5,
        timeoutSeconds: Double = 2,
        writesHeartbeat: Bool = false,
        heartbeatWriter: String? = nil
    ) {
        self.name = name
        self.connection = connection
        self.mapping = mapping
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.writesHeartbeat = writesHeartbeat
        self.heartbeatWriter = heartbeatWriter ?? "regionwatch/\(name)"
    }
}

/// The heartbeat table (like pt-heartbeat): one row per writer, updated every round while the
/// server takes writes, read on the standbys. Created on first use.
enum PostgresHeartbeat {
    static let table = "regionwatch.heartbeat"
    static let create: PostgresQuery = """
        CREATE SCHEMA IF NOT EXISTS regionwatch;
        """
    static let createTable: PostgresQuery = """
        CREATE TABLE IF NOT EXISTS regionwatch.heartbeat (
            writer text PRIMARY KEY,
            written_at timestamptz NOT NULL,
            interval_seconds float8 NOT NULL,
            running_since timestamptz NOT NULL
        )
        """

    /// Upserts this writer's beat; a gap longer than 1.5 intervals restarts `running_since`.
    static func beat(writer: String, intervalSeconds: Double) -> PostgresQuery {
        """
        INSERT INTO regionwatch.heartbeat AS h (writer, written_at, interval_seconds, running_since)
        VALUES (\(writer), clock_timestamp(), \(intervalSeconds), clock_timestamp())
        ON CONFLICT (writer) DO UPDATE SET
            running_since = CASE WHEN h.written_at < excluded.written_at - make_interval(secs => 1.5 * excluded.interval_seconds)
                                 THEN excluded.written_at ELSE h.running_since END,
            written_at = excluded.written_at,
            interval_seconds = excluded.interval_seconds
        """
    }

    /// The newest beat of any writer, as ages on the server's clock, and its own timestamp.
    static let newest: PostgresQuery = """
        SELECT EXTRACT(EPOCH FROM clock_timestamp() - written_at)::float8, interval_seconds,
               EXTRACT(EPOCH FROM clock_timestamp() - running_since)::float8, EXTRACT(EPOCH FROM written_at)::float8
        FROM regionwatch.heartbeat ORDER BY written_at DESC LIMIT 1
        """
}

/// Watches one PostgreSQL server through postgres-nio: its role and timeline, and replication
/// from whichever end it is. Keeps one connection and reconnects when it breaks.
public final class PostgresSource: PollingSource {
    public let settings: PostgresSettings
    private let connection = Mutex<PostgresConnection?>(nil)
    /// Whether this connection has created the heartbeat table.
    private let heartbeatReady = Mutex(false)
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
            var problems: [String] = []
            let reading = try await read(connection, roundStarted: started, problems: &problems)
            var round = PostgresReplicationInterpreter.events(
                for: reading, mapping: settings.mapping, source: settings.name, at: now,
                roundMilliseconds: (MonotonicClock.seconds() - started) * 1000
            )
            round.errors += problems
            return round
        } catch {
            await drop()
            let description = Self.describe(error)
            return CollectionRound(
                events: PostgresReplicationInterpreter.unreachableEvents(
                    mapping: settings.mapping, source: settings.name, at: now, message: description.message,
                    isRefused: description.isRefused),
                errors: ["\(settings.connection.displayAddress): \(description.message)"]
            )
        }
    }

    public func timeoutEvents(at now: Timestamp) -> [DashboardEvent] {
        PostgresReplicationInterpreter.unreachableEvents(
            mapping: settings.mapping, source: settings.name, at: now,
            message: "no answer within \(Format.duration(settings.timeoutSeconds))", isRefused: false)
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
        heartbeatReady.withLock { $0 = false }
        try? await existing?.close()
    }

    /// One round of queries. Problems that leave the reading usable (a heartbeat that cannot be
    /// written, archiver statistics that cannot be read) are added to `problems`.
    func read(
        _ connection: PostgresConnection, roundStarted: Double, problems: inout [String]
    ) async throws -> PostgresReading {
        var isStandby = false
        var version: String?
        for try await (recovery, serverVersion) in try await connection.query(
            "SELECT pg_is_in_recovery(), split_part(current_setting('server_version'), ' ', 1)", logger: logger
        ).decode((Bool, String).self) {
            isStandby = recovery
            version = serverVersion
        }
        if isStandby {
            return .standby(
                try await readStandby(connection, version: version, roundStarted: roundStarted, problems: &problems))
        }
        return .primary(
            try await readPrimary(connection, version: version, roundStarted: roundStarted, problems: &problems))
    }

    private func readPrimary(
        _ connection: PostgresConnection, version: String?, roundStarted: Double, problems: inout [String]
    ) async throws -> PrimaryReading {
        // Fenced when read-only is the server's default (configuration file or ALTER SYSTEM, as
        // the fence step sets it), not merely this monitoring session's (a role setting).
        var isFenced = false
        let fence: PostgresQuery =
            "SELECT setting, source FROM pg_settings WHERE name = 'default_transaction_read_only'"
        for try await (setting, source) in try await connection.query(fence, logger: logger).decode(
            (String, String).self)
        {
            isFenced =
                setting == "on"
                && ["configuration file", "command line", "environment variable", "database"].contains(source)
        }
        var heartbeat: HeartbeatAges?
        if settings.writesHeartbeat, !isFenced {
            do {
                heartbeat = try await writeHeartbeat(connection)
            } catch {
                problems.append("heartbeat not written: \(Self.describe(error).message)")
            }
        }
        // The position is read after the heartbeat, so it includes the beat; the window brackets
        // the read. The write position, as standbys count it (the insert position runs ahead by
        // page headers even when nothing is written).
        let before = MonotonicClock.seconds() - roundStarted
        var reading = PrimaryReading(
            timeline: nil, version: version, currentLSN: WALPosition(offset: 0), standbys: [], isFenced: isFenced,
            heartbeat: heartbeat)
        let position: PostgresQuery = """
            SELECT pg_current_wal_lsn()::text, pg_walfile_name(pg_current_wal_lsn()), txid_snapshot_xmax(txid_current_snapshot())
            """
        for try await (lsn, walFile, next) in try await connection.query(position, logger: logger).decode(
            (String, String, Int64).self)
        {
            reading.currentLSN = WALPosition(text: lsn) ?? WALPosition(offset: 0)
            reading.timeline = Int(walFile.prefix(8), radix: 16)
            reading.nextTransaction = UInt64(max(0, next))
        }
        if isFenced {
            // Writes despite the fence show as changed table rows. The transaction id is no sign:
            // autovacuum's ANALYZE takes one on a fenced server and changes no table row.
            let rows: PostgresQuery = """
                SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int8 FROM pg_stat_user_tables
                WHERE schemaname NOT LIKE 'pg\\_temp%'
                """
            for try await (changes, ) in try await connection.query(rows, logger: logger).decode((Int64,).self) {
                reading.tableRowChanges = UInt64(max(0, changes))
            }
        }
        reading.readWindow = before...(MonotonicClock.seconds() - roundStarted)
        let standbys: PostgresQuery = """
            SELECT application_name, host(client_addr), state, flush_lsn::text, replay_lsn::text
            FROM pg_stat_replication
            """
        for try await row in try await connection.query(standbys, logger: logger).decode(
            (String?, String?, String?, String?, String?).self)
        {
            reading.standbys.append(
                StandbyRow(
                    applicationName: row.0, clientAddress: row.1, state: row.2,
                    flushLSN: row.3.flatMap { WALPosition(text: $0) },
                    replayLSN: row.4.flatMap { WALPosition(text: $0) }
                ))
        }
        do {
            reading.archiver = try await readArchiver(connection)
        } catch {
            problems.append("WAL archiving not read: \(Self.describe(error).message)")
        }
        if heartbeat == nil, !settings.writesHeartbeat || isFenced {
            reading.heartbeat = try? await readHeartbeat(connection)
        }
        return reading
    }

    private func writeHeartbeat(_ connection: PostgresConnection) async throws -> HeartbeatAges? {
        if !heartbeatReady.withLock({ $0 }) {
            // A beat never waits for a synchronous standby (one that is down would block it and
            // make the primary look unreachable), nor for longer than the round may take.
            try await connection.query("SET synchronous_commit = local", logger: logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: "SET statement_timeout = \(Int(settings.timeoutSeconds * 1000))"),
                logger: logger)
            try await connection.query(PostgresHeartbeat.create, logger: logger)
            try await connection.query(PostgresHeartbeat.createTable, logger: logger)
            heartbeatReady.withLock { $0 = true }
        }
        try await connection.query(
            PostgresHeartbeat.beat(writer: settings.heartbeatWriter, intervalSeconds: settings.intervalSeconds),
            logger: logger)
        return try await readHeartbeat(connection)
    }

    /// The newest beat, when the heartbeat table exists.
    private func readHeartbeat(_ connection: PostgresConnection) async throws -> HeartbeatAges? {
        var exists = false
        for try await (present, ) in try await connection.query(
            "SELECT to_regclass('regionwatch.heartbeat') IS NOT NULL", logger: logger
        ).decode((Bool,).self) {
            exists = present
        }
        guard exists else { return nil }
        var beat: HeartbeatAges?
        for try await (written, interval, running, stamp) in try await connection.query(
            PostgresHeartbeat.newest, logger: logger
        ).decode((Double, Double, Double, Double).self) {
            beat = HeartbeatAges(
                writtenAgeSeconds: written, intervalSeconds: interval, runningAgeSeconds: running, stamp: stamp)
        }
        return beat
    }

    private func readArchiver(_ connection: PostgresConnection) async throws -> ArchiverReading? {
        let query: PostgresQuery = """
            SELECT current_setting('archive_mode'), (SELECT setting::int8 FROM pg_settings WHERE name = 'wal_segment_size'),
                   archived_count, last_archived_wal, EXTRACT(EPOCH FROM clock_timestamp() - last_archived_time)::float8,
                   failed_count, last_failed_wal, EXTRACT(EPOCH FROM clock_timestamp() - last_failed_time)::float8
            FROM pg_stat_archiver
            """
        var reading: ArchiverReading?
        for try await row in try await connection.query(query, logger: logger).decode(
            (String, Int64, Int64, String?, Double?, Int64, String?, Double?).self)
        {
            reading = ArchiverReading(
                mode: row.0, archivedCount: Int(row.2), lastArchivedSegment: row.3, lastArchivedAgeSeconds: row.4,
                failedCount: Int(row.5), lastFailedSegment: row.6, lastFailedAgeSeconds: row.7,
                segmentSizeBytes: UInt64(max(1, row.1))
            )
        }
        return reading
    }

    private func readStandby(
        _ connection: PostgresConnection, version: String?, roundStarted: Double, problems: inout [String]
    ) async throws -> StandbyReading {
        var reading = StandbyReading(
            timeline: nil, version: version, isReplayPaused: false, receiveLSN: nil, replayLSN: nil, receiverStatus: nil
        )
        let query: PostgresQuery = """
            SELECT pg_is_wal_replay_paused(), pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,
                   EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp()))::float8,
                   (SELECT timeline_id FROM pg_control_checkpoint())::int8,
                   txid_snapshot_xmax(txid_current_snapshot())
            """
        var checkpointTimeline: Int?
        for try await row in try await connection.query(query, logger: logger).decode(
            (Bool, String?, String?, Double?, Int64?, Int64).self)
        {
            reading.isReplayPaused = row.0
            reading.receiveLSN = row.1.flatMap { WALPosition(text: $0) }
            reading.replayLSN = row.2.flatMap { WALPosition(text: $0) }
            reading.lastReplayedCommitAgeSeconds = row.3
            checkpointTimeline = row.4.map(Int.init)
            reading.nextTransaction = UInt64(max(0, row.5))
        }
        let receiver: PostgresQuery = """
            SELECT status, sender_host, sender_port::int8, latest_end_lsn::text,
                   EXTRACT(EPOCH FROM clock_timestamp() - latest_end_time)::float8, received_tli::int8,
                   EXTRACT(EPOCH FROM clock_timestamp() - last_msg_send_time)::float8
            FROM pg_stat_wal_receiver LIMIT 1
            """
        var receivedTimeline: Int?
        for try await row in try await connection.query(receiver, logger: logger).decode(
            (String?, String?, Int64?, String?, Double?, Int64?, Double?).self)
        {
            reading.receiverStatus = row.0
            reading.senderHost = row.1
            reading.senderPort = row.2.map(Int.init)
            reading.senderEndLSN = row.3.flatMap { WALPosition(text: $0) }
            reading.senderEndAgeSeconds = row.4
            receivedTimeline = row.5.map(Int.init)
            reading.lastMessageAgeSeconds = row.6
        }
        reading.receiverReadAfterSeconds = MonotonicClock.seconds() - roundStarted
        reading.timeline = receivedTimeline ?? checkpointTimeline
        // What it follows while disconnected; readable by superusers and pg_read_all_settings.
        if let conninfo = try? await setting("primary_conninfo", connection), !conninfo.isEmpty {
            let (host, port) = PostgresReplicationInterpreter.hostAndPort(inConnectionString: conninfo)
            reading.configuredSenderHost = host
            reading.configuredSenderPort = port
        }
        reading.heartbeat = try? await readHeartbeat(connection)
        return reading
    }

    private func setting(_ name: String, _ connection: PostgresConnection) async throws -> String? {
        var value: String?
        for try await (text, ) in try await connection.query("SELECT current_setting(\(name))", logger: logger).decode(
            (String,).self)
        {
            value = text
        }
        return value
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
            if let channelError = underlying as? ChannelError, case .connectTimeout = channelError {
                return ("connect timed out", false)
            }
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

    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String? = nil,
        tlsMode: TLSMode = .prefer
    ) {
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
                    guard parts.count == 2 else { throw PostgresDSNError("a query parameter has no value") }
                    fields[String(parts[0])] = Self.percentDecoded(parts[1])
                }
            }
        } else if text.contains("=") {
            fields = try Self.keywordPairs(text)
        } else {
            throw PostgresDSNError("expected postgres://user:password@host:port/database or key=value pairs")
        }
        let known: Set<String> = [
            "host", "port", "user", "password", "dbname", "sslmode", "application_name", "connect_timeout",
        ]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresDSNError(
                "an unknown parameter (known: host, port, user, password, dbname, sslmode, application_name, connect_timeout)"
            )
        }
        guard let host = fields["host"], !host.isEmpty else { throw PostgresDSNError("no host") }
        guard let user = fields["user"], !user.isEmpty else { throw PostgresDSNError("no user") }
        self.host = host
        self.user = user
        password = fields["password"]
        database = fields["dbname"]
        if let portText = fields["port"] {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw PostgresDSNError(
                    "the port is not a number 1–65535 (a password with / or @ must be percent-encoded)")
            }
            port = number
        } else {
            port = 5432
        }
        switch fields["sslmode"] ?? "prefer" {
        case "disable": tlsMode = .disable
        case "allow", "prefer": tlsMode = .prefer
        case "require", "verify-ca", "verify-full": tlsMode = .require
        case let other: throw PostgresDSNError("sslmode is not one of disable, prefer, require, verify-ca, verify-full")
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
                throw PostgresDSNError("a word is not key=value")
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
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
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
