import Foundation
import Logging
import PostgresNIO
import RegionWatchCollectors
import RegionWatchCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One failover at a time: held from confirmation to the end of the last step.
public protocol FailoverLock: Sendable {
    /// Takes the lock for `holder`, or returns who holds it.
    func acquire(holder: String) async -> FailoverLockOutcome
    func release() async
}

public enum FailoverLockOutcome: Sendable, Equatable {
    case acquired
    case heldBy(String)
    case unavailable(String)
}

/// A lock next to the audit log, held with `flock`: the kernel releases it when the process
/// dies, so a crash never leaves it stuck. The holder's name is written into the file.
public final class FileFailoverLock: FailoverLock {
    public let path: String
    private let descriptor = Mutex<Int32>(-1)

    public init(auditLogPath: String) {
        path = auditLogPath + ".lock"
    }

    public func acquire(holder: String) async -> FailoverLockOutcome {
        if descriptor.withLock({ $0 }) >= 0 { return .acquired }
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard opened >= 0 else { return .unavailable("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
            close(opened)
            return .heldBy(readHolder())
        }
        ftruncate(opened, 0)
        let text = Array((holder + "\n").utf8)
        _ = text.withUnsafeBytes { pwrite(opened, $0.baseAddress, $0.count, 0) }
        fsync(opened)
        descriptor.withLock { $0 = opened }
        return .acquired
    }

    public func release() async {
        let opened = descriptor.withLock { current -> Int32 in
            defer { current = -1 }
            return current
        }
        guard opened >= 0 else { return }
        ftruncate(opened, 0)
        flock(opened, LOCK_UN)
        close(opened)
    }

    private func readHolder() -> String {
        let text =
            (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return text.isEmpty ? "another regionwatch (\(path))" : text
    }
}

/// A PostgreSQL advisory lock, so operators on different machines exclude each other. Held on
/// a dedicated connection whose `application_name` names the holder; the server releases it
/// if that connection drops.
public final class PostgresFailoverLock: FailoverLock {
    public let dsn: PostgresDSN
    public let key: Int64
    private let connection = Mutex<PostgresConnection?>(nil)
    private let logger = Logger(label: "regionwatch.failover-lock")

    public init(dsn: PostgresDSN, key: Int64 = 0x7265_6777_6174_6368) {
        self.dsn = dsn
        self.key = key
    }

    private func connect(applicationName: String) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password, database: dsn.database,
            tls: try dsn.tls())
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", String(applicationName.prefix(63)))]
        return try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
    }

    public func acquire(holder: String) async -> FailoverLockOutcome {
        do {
            let opened = try await connect(applicationName: "regionwatch failover: \(holder)")
            var acquired = false
            for try await value in try await opened.query("SELECT pg_try_advisory_lock(\(key))", logger: logger).decode(
                Bool.self)
            { acquired = value }
            guard acquired else {
                let holderName = await holderName(using: opened)
                try? await opened.close()
                return .heldBy(holderName)
            }
            connection.withLock { $0 = opened }
            return .acquired
        } catch {
            return .unavailable("PostgreSQL lock at \(dsn.displayAddress): \(PostgresSource.describe(error).message)")
        }
    }

    private func holderName(using connection: PostgresConnection) async -> String {
        let query: PostgresQuery = """
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::int8 << 32) | l.objid::int8) = \(key) LIMIT 1
            """
        var name = "another regionwatch"
        if let rows = try? await connection.query(query, logger: logger).decode(String?.self) {
            do {
                for try await value in rows {
                    if let value, !value.isEmpty {
                        name = value.replacingOccurrences(of: "regionwatch failover: ", with: "")
                    }
                }
            } catch {}
        }
        return "\(name) (PostgreSQL advisory lock at \(dsn.displayAddress))"
    }

    public func release() async {
        let held = connection.withLock { current -> PostgresConnection? in
            defer { current = nil }
            return current
        }
        guard let held else { return }
        _ = try? await held.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
        try? await held.close()
    }
}
