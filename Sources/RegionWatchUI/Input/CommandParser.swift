/// A command typed after `:`.
public enum Command: Equatable, Sendable {
    case region(String)
    case theme(String)
    case trace(String)
    case traces
    case matrix
    case quit
    case help
    case overview
    case pause
    case resume
}

/// Why a command line could not be understood.
public struct CommandError: Error, Equatable, CustomStringConvertible {
    public var description: String
}

/// Parses the `:` command line.
public enum CommandParser {
    /// Command words, for completion and help.
    public static let words = [
        "region", "trace", "traces", "matrix", "theme", "overview", "help", "pause", "resume", "quit", "q",
    ]

    /// Parses `text` (without the leading `:`).
    public static func parse(_ text: String) -> Result<Command, CommandError> {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let word = parts.first?.lowercased() else { return .failure(CommandError(description: "empty command")) }
        let argument = parts.dropFirst().joined(separator: " ")
        switch word {
        case "region", "r":
            guard !argument.isEmpty else { return .failure(CommandError(description: "usage: :region NAME")) }
            return .success(.region(argument))
        case "theme":
            guard !argument.isEmpty else { return .failure(CommandError(description: "usage: :theme NAME")) }
            return .success(.theme(argument))
        case "trace":
            guard !argument.isEmpty else {
                return .failure(CommandError(description: "usage: :trace ID (or its first hex digits)"))
            }
            return .success(.trace(argument))
        case "traces", "t":
            return .success(.traces)
        case "matrix", "latency", "m":
            return .success(.matrix)
        case "q", "quit", "q!", "qa":
            return .success(.quit)
        case "help", "h":
            return .success(.help)
        case "overview", "o", "home":
            return .success(.overview)
        case "pause":
            return .success(.pause)
        case "resume":
            return .success(.resume)
        default:
            return .failure(CommandError(description: "unknown command '\(word)' (try :help)"))
        }
    }

    /// Completes the command line `text` with `regions` and `themes` as arguments; returns the
    /// completed text, or `text` unchanged when nothing (or more than one thing) matches.
    public static func complete(_ text: String, regions: [String], themes: [String]) -> String {
        let endsWithSpace = text.hasSuffix(" ")
        var parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if parts.isEmpty { return text }
        if parts.count == 1, !endsWithSpace {
            let matches = words.filter { $0.hasPrefix(parts[0].lowercased()) }
            return matches.count == 1 ? matches[0] + " " : commonPrefix(matches, fallback: text)
        }
        let candidates: [String]
        switch parts[0].lowercased() {
        case "region", "r": candidates = regions
        case "theme": candidates = themes
        default: return text
        }
        let prefix = endsWithSpace ? "" : (parts.count > 1 ? parts.removeLast() : "")
        let matches = candidates.filter { $0.lowercased().hasPrefix(prefix.lowercased()) }
        guard !matches.isEmpty else { return text }
        let completed = matches.count == 1 ? matches[0] : commonPrefix(matches, fallback: prefix)
        return parts.joined(separator: " ") + " " + completed
    }

    private static func commonPrefix(_ values: [String], fallback: String) -> String {
        guard var prefix = values.first else { return fallback }
        for value in values.dropFirst() {
            while !value.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix.count > fallback.count ? prefix : fallback
    }
}
