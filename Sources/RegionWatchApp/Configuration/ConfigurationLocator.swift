import Foundation

/// Where regionwatch looks for its files, following the XDG base directory conventions.
public struct ConfigurationLocator: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// `$XDG_CONFIG_HOME/regionwatch`, else `~/.config/regionwatch`.
    public var configurationDirectory: String? {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") { return base + "/regionwatch" }
        return environment["HOME"].map { $0 + "/.config/regionwatch" }
    }

    /// `$XDG_STATE_HOME/regionwatch`, else `~/.local/state/regionwatch` (logs, audit log).
    public var stateDirectory: String? {
        if let base = environment["XDG_STATE_HOME"], base.hasPrefix("/") { return base + "/regionwatch" }
        return environment["HOME"].map { $0 + "/.local/state/regionwatch" }
    }

    /// The default configuration file, whether or not it exists.
    public var defaultConfigurationPath: String? {
        configurationDirectory.map { $0 + "/config.yaml" }
    }
}

/// Reads text files with clear errors and a size limit.
public enum TextFile {
    /// Largest configuration or theme file read.
    public static let maximumBytes = 4 * 1024 * 1024

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
        /// Set when the problem has a place in the file: `description` is then a diagnostic
        /// (`file:line:column: error: …`), printed as check-config prints every problem.
        public var isDiagnostic = false
    }

    /// The UTF-8 text of the file at `path`.
    public static func read(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReadError(description: "\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw ReadError(description: "\(path): is a directory, not a file") }
        // A FIFO or a device would block or never end: only regular files are read.
        var information = stat()
        guard stat(path, &information) == 0, information.st_mode & S_IFMT == S_IFREG else {
            throw ReadError(description: "\(path): not a regular file (a pipe, socket or device); refusing to read it")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReadError(description: "\(path): cannot open (permission denied?)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumBytes + 1)) ?? Data()
        guard data.count <= maximumBytes else {
            throw ReadError(description: "\(path): larger than \(maximumBytes / 1024 / 1024) MiB; refusing to read it")
        }
        if let (offset, byte) = firstNonTextByte(in: data) {
            let before = data.prefix(offset)
            let line = before.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
            let what = byte == 0 ? "a NUL byte" : "byte 0x\(String(byte, radix: 16, uppercase: true)), not UTF-8"
            throw ReadError(
                description:
                    "\(path):\(line):\(column): error: \(what): this is not a text file (a configuration is YAML text)",
                isDiagnostic: true)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The offset and value of the first byte that is not part of UTF-8 text (invalid UTF-8, or
    /// a NUL), or `nil` for text.
    static func firstNonTextByte(in data: Data) -> (Int, UInt8)? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = data.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 0 { return (offset, 0) }
                offset += encoded.count
            case .emptyInput:
                return nil
            case .error:
                return (offset, data[data.startIndex + offset])
            }
        }
    }
}
