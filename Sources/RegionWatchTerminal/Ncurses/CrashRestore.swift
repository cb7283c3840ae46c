import CNcurses
#if canImport(Glibc)
import Glibc
#endif

/// Restores the terminal when the process dies from a fatal signal (a Swift trap, a crash),
/// where no Swift cleanup runs: it puts back the saved terminal settings, leaves the alternate
/// screen, shows the cursor, then lets the signal take its course.
enum CrashRestore {
    private nonisolated(unsafe) static var savedSettings = termios()
    private nonisolated(unsafe) static var hasSavedSettings = false
    private nonisolated(unsafe) static var restoreBytes: UnsafeMutablePointer<UInt8>?
    private nonisolated(unsafe) static var restoreByteCount = 0
    private nonisolated(unsafe) static var previousActions: [Int32: sigaction] = [:]
    private static let fatalSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

    /// Saves the terminal settings before curses changes them.
    static func prepare() {
        hasSavedSettings = tcgetattr(STDIN_FILENO, &savedSettings) == 0
    }

    /// Installs the handlers; the escape sequences come from terminfo (after curses started).
    static func arm() {
        var sequence: [UInt8] = []
        for capability in ["rmcup", "cnorm", "sgr0"] {
            if let value = tigetstr(capability), Int(bitPattern: value) != -1 {
                sequence += Array(String(cString: value).utf8)
            }
        }
        sequence += Array("\r\n".utf8)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: sequence.count)
        buffer.initialize(from: sequence, count: sequence.count)
        restoreBytes = buffer
        restoreByteCount = sequence.count
        for signalNumber in fatalSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                CrashRestore.restoreAndReraise(signalNumber)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            var previous = sigaction()
            sigaction(signalNumber, &action, &previous)
            previousActions[signalNumber] = previous
        }
    }

    /// Puts back the previous handlers after a normal shutdown.
    static func disarm() {
        for (signalNumber, previous) in previousActions {
            var action = previous
            sigaction(signalNumber, &action, nil)
        }
        previousActions = [:]
    }

    /// Async-signal-safe: only tcsetattr, write, sigaction and raise.
    private static func restoreAndReraise(_ signalNumber: Int32) {
        if hasSavedSettings { tcsetattr(STDIN_FILENO, TCSANOW, &savedSettings) }
        if let restoreBytes { _ = write(STDOUT_FILENO, restoreBytes, restoreByteCount) }
        var action = previousActions[signalNumber] ?? sigaction()
        sigaction(signalNumber, &action, nil)
        raise(signalNumber)
    }
}
