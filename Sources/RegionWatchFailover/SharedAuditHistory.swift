import Foundation
import Logging
import PostgresNIO
import RegionWatchCollectors
import RegionWatchCore

/// The failover history shared by every operator: each audit record is also appended to a
/// PostgreSQL table (on the failover lock's server), and history, cool-down, the last failover
/// and interrupted attempts are read from it, so operator B sees what operator A did.
///
/// Schema (created on first use; rows can be inserted, never updated or deleted):
///
///     CREATE TABLE regionwatch_audit (
///         seq        bigserial PRIMARY KEY,     -- order of appends
///         attempt_id text NOT NULL,             -- AuditEntry.id
///         type       text NOT NULL,             -- confirmed, step-started, …, finished, acknowledged
///         at         timestamptz NOT NULL,      -- AuditEntry.at
///         operator   text,                      -- user@host
///         entry      jsonb NOT NULL             -- the AuditEntry as in the JSON Lines file
///     );
public final class SharedAuditHistory: Sendable {
    public let dsn: PostgresDSN
    /// The table's name.
    public static let table = "regionwatch_audit"
    private var table: String { Self.table }
    private let logger = Logger(label: "regionwatch.audit")

    public init(dsn: PostgresDSN) {
        self.dsn = dsn
    }

    /// Statements that create the table and its append-only guard when missing.
    var schema: [String] {
        [
            """
            CREATE TABLE IF NOT EXISTS \(table) (
                seq bigserial PRIMARY KEY, attempt_id text NOT NULL, type text NOT NULL,
                at timestamptz NOT NULL, operator text, entry jsonb NOT NULL)
            """,
            """
            CREATE OR REPLACE FUNCTION \(table)_append_only() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION '\(table) is append-only'; END $$
            """,
            """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '\(table)_append_only') THEN
                    CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON \(table)
                        FOR EACH STATEMENT EXECUTE FUNCTION \(table)_append_only();
                END IF;
            END $$
            """,
        ]
    }

    private func withConnection<Value>(_ work: (PostgresConnection) async throws -> Value) async throws -> Value {
        var configuration = PostgresConnection.Configuration(
            host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password, database: dsn.database,
            tls: try dsn.tls())
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", "regionwatch audit")]
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 4, logger: logger)
        do {
            // Never wait for a synchronous standby that may be the server being failed over.
            try await connection.query("SET synchronous_commit = local", logger: logger)
            // Created once: later sessions (other operators' roles, a read-only default) only
            // insert and read.
            var missing = false
            let exists: PostgresQuery = "SELECT to_regclass('regionwatch_audit') IS NULL"
            for try await value in try await connection.query(exists, logger: logger).decode(Bool.self) {
                missing = value
            }
            if missing {
                for statement in schema {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            let value = try await work(connection)
            try? await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Appends `entry`; returns once the server has committed it.
    public func append(_ entry: AuditEntry) async throws {
        let json = String(decoding: try AuditLog.encode(entry), as: UTF8.self)
        do {
            try await withConnection { connection in
                let insert: PostgresQuery = """
                    INSERT INTO regionwatch_audit (attempt_id, type, at, operator, entry)
                    VALUES (\(entry.id), \(entry.type), to_timestamp(\(entry.atEpochSeconds)), \(entry.operatorName), \(json)::jsonb)
                    """
                try await connection.query(insert, logger: logger)
            }
        } catch {
            throw AuditLogError("shared history at \(dsn.displayAddress): \(Self.describe(error))")
        }
    }

    /// Every record, in the order they were appended.
    public func read() async throws -> AuditHistory {
        AuditLog.parse(try await lines())
    }

    /// Every record as a JSON line, in the order they were appended (`audit --json`).
    public func lines() async throws -> Data {
        do {
            return try await withConnection { connection in
                var lines = Data()
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT entry::text FROM \(table) ORDER BY seq"), logger: logger)
                for try await text in rows.decode(String.self) {
                    lines.append(contentsOf: Data(text.utf8))
                    lines.append(UInt8(ascii: "\n"))
                }
                return lines
            }
        } catch {
            throw AuditLogError("shared history at \(dsn.displayAddress): \(Self.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? AuditLogError { return error.description }
        return PostgresSource.describe(error).message
    }
}
