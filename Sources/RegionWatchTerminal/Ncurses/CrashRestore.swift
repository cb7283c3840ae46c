import CNcurses
#if canImport(Glibc)
import Glibc
#endif

/// Restores the terminal when the process dies from a fatal signal (a Swift trap, a crash),
/// where no Swift cleanup runs: it puts back the saved terminal settings, leaves the alternate
/// screen and keypad mode, shows the cursor, then lets the signal take its course.
enum CrashRestore {
    private nonisolated(unsafe) static var savedSettings = termios()
    private nonisolated(unsafe) static var hasSavedSettings = false
    private nonisolated(unsafe) static var restoreBytes: UnsafeMutablePointer<UInt8>?
    private nonisolated(unsafe) static var restoreByteCount = 0
    /// Previous handlers, indexed by signal number: a plain array the handler can read without
    /// allocating or hashing.
    private nonisolated(unsafe) static var previousActions: UnsafeMutablePointer<sigaction> = {
        let table = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        table.initialize(repeating: sigaction(), count: 65)
        return table
    }()
    private nonisolated(unsafe) static var isArmed = false
    private static let fatalSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

    /// Saves the terminal settings before curses changes them.
    static func prepare() {
        hasSavedSettings = tcgetattr(STDIN_FILENO, &savedSettings) == 0
    }

    /// Installs the handlers; the escape sequences come from terminfo (after curses started).
    static func arm() {
        var sequence: [UInt8] = []
        // Leave the alternate screen, keypad transmit mode (else the shell's arrow keys send
        // application sequences), show the cursor, plain attributes.
        for capability in ["rmcup", "rmkx", "cnorm", "sgr0"] {
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
            sigaction(signalNumber, &action, previousActions + Int(signalNumber))
        }
        isArmed = true
    }

    /// Puts back the previous handlers after a normal shutdown.
    static func disarm() {
        guard isArmed else { return }
        isArmed = false
        for signalNumber in fatalSignals {
            sigaction(signalNumber, previousActions + Int(signalNumber), nil)
        }
    }

    /// Async-signal-safe: only tcsetattr, write, sigaction and raise.
    private static func restoreAndReraise(_ signalNumber: Int32) {
        if hasSavedSettings { tcsetattr(STDIN_FILENO, TCSANOW, &savedSettings) }
        if let restoreBytes { _ = write(STDOUT_FILENO, restoreBytes, restoreByteCount) }
        sigaction(signalNumber, previousActions + Int(signalNumber), nil)
        raise(signalNumber)
    }
}
