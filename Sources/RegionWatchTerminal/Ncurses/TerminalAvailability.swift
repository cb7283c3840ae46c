import CNcurses
#if canImport(Glibc)
import Glibc
#endif

/// Why the full-screen UI cannot start on this terminal.
public enum TerminalUnavailable: Error, Equatable, CustomStringConvertible {
    case notATerminal(stream: String)
    case termUnset
    case unknownTerminal(String)
    case cannotAddressCursor(String)

    public var description: String {
        switch self {
        case .notATerminal(let stream):
            "\(stream) is not a terminal"
        case .termUnset:
            "TERM is not set"
        case .unknownTerminal(let term):
            "terminal type '\(term)' is unknown to terminfo"
        case .cannotAddressCursor(let term):
            "terminal type '\(term)' cannot move the cursor"
        }
    }
}

/// Checks, without writing anything to the terminal, that the full-screen UI can start.
public enum TerminalAvailability {
    /// `nil` when stdin and stdout are terminals and `TERM` names a terminal that can draw.
    public static func check(environment: [String: String]) -> TerminalUnavailable? {
        if isatty(STDIN_FILENO) == 0 { return .notATerminal(stream: "standard input") }
        if isatty(STDOUT_FILENO) == 0 { return .notATerminal(stream: "standard output") }
        guard let term = environment["TERM"], !term.isEmpty else { return .termUnset }
        var status: Int32 = 0
        // With a status pointer, setupterm reports problems instead of printing and exiting.
        guard setupterm(term, STDOUT_FILENO, &status) == OK, status == 1 else { return .unknownTerminal(term) }
        guard rw_has_string_capability("cup") != 0 else { return .cannotAddressCursor(term) }
        return nil
    }
}
