/// How bad a configuration problem is.
public enum DiagnosticSeverity: String, Sendable, Equatable {
    /// The file cannot be used.
    case error
    /// The file works, but probably not as intended.
    case warning
}

/// One problem in a configuration or theme file, with its place.
public struct Diagnostic: Equatable, Sendable, CustomStringConvertible {
    public var severity: DiagnosticSeverity
    public var file: String
    /// 1-based line, or `nil` when the problem is about the file as a whole.
    public var line: Int?
    public var column: Int?
    /// Dotted key path, for example `regions[1].role`.
    public var path: String
    public var message: String

    public init(severity: DiagnosticSeverity, file: String, line: Int?, column: Int?, path: String, message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `file:line:column: error: path: message`, the form editors and CI understand.
    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        let subject = path.isEmpty ? "" : "\(path): "
        return "\(location): \(severity.rawValue): \(subject)\(message)"
    }
}

/// Thrown when a file has at least one error; carries every diagnostic found.
public struct DiagnosticsError: Error, Equatable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// What an environment variable the configuration names, but that is not set, is.
public enum UnsetVariables: Sendable, Equatable {
    /// An error: the configuration is about to run, and what needs the variable would fail.
    case areErrors
    /// A warning: the configuration is checked without its secrets (`check-config` without
    /// `--strict`), or a command reads only parts that do not need them (`audit`).
    case areWarnings
}
