import Foundation
import Logging
import RegionWatchCore
import Synchronization

/// A swift-log handler that appends lines to a file. regionwatch never logs to the terminal
/// while the UI runs.
public struct FileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: LogFileSink

    public init(label: String, sink: LogFileSink, level: Logger.Level = .info) {
        self.label = label
        self.sink = sink
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let context =
            merged.isEmpty
            ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let timestamp = SystemWallClock().now().iso8601
        sink.write("\(timestamp) \(event.level.rawValue.uppercased()) \(label): \(event.message)\(context)\n")
    }
}

/// An open log file shared by every logger. Writes are serialised; failures are counted, never
/// shown on the terminal.
public final class LogFileSink: Sendable {
    private let handle: Mutex<FileHandle?>
    /// Where the log goes.
    public let path: String
    private let failures = Atomic<Int>(0)

    /// Opens (creating directories as needed) `path` for appending.
    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TextFile.ReadError(description: "\(path): cannot create the log file")
            }
        }
        guard let fileHandle = FileHandle(forWritingAtPath: path) else {
            throw TextFile.ReadError(description: "\(path): cannot open the log file for writing")
        }
        fileHandle.seekToEndOfFile()
        handle = Mutex(fileHandle)
    }

    private init(discardingInto path: String) {
        self.path = path
        handle = Mutex(nil)
    }

    /// A sink that discards everything (when no log file can be opened).
    public static func discarding() -> LogFileSink {
        LogFileSink(discardingInto: "/dev/null")
    }

    func write(_ line: String) {
        let data = Data(line.utf8)
        handle.withLock { handle in
            guard let handle else { return }
            do {
                try handle.write(contentsOf: data)
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
    }

    /// Lines that could not be written.
    public var failureCount: Int { failures.load(ordering: .relaxed) }
}
