#if canImport(Glibc)
import Glibc
#endif

/// What woke the run loop.
public struct WaitOutcome: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Standard input has bytes (or end of file) to read.
    public static let input = WaitOutcome(rawValue: 1 << 0)
    /// `wake()` was called (new events, a signal).
    public static let woken = WaitOutcome(rawValue: 1 << 1)
    /// Standard input hung up or failed: the terminal is gone.
    public static let inputClosed = WaitOutcome(rawValue: 1 << 2)
}

/// Blocks the UI thread until input arrives, another thread calls `wake()`, or a timeout
/// passes; costs nothing while idle (no busy polling).
public final class InputWaiter: @unchecked Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32
    private let inputDescriptor: Int32

    public init(inputDescriptor: Int32 = STDIN_FILENO) {
        var ends: [Int32] = [0, 0]
        if pipe(&ends) != 0 { fatalError("pipe() failed: \(errno)") }
        readEnd = ends[0]
        writeEnd = ends[1]
        for descriptor in ends {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        self.inputDescriptor = inputDescriptor
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Wakes a waiting `wait`. Safe from any thread; never blocks.
    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Waits up to `timeout` seconds. An interrupted wait (a signal such as SIGWINCH) returns
    /// `.input` so the caller reads keys, where curses reports the resize.
    public func wait(timeout: Double) -> WaitOutcome {
        var descriptors = [
            pollfd(fd: inputDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0),
        ]
        let milliseconds = Int32(max(0, min(timeout, 3600)) * 1000)
        let result = poll(&descriptors, 2, milliseconds)
        if result < 0 { return errno == EINTR ? .input : [] }
        var outcome: WaitOutcome = []
        let inputEvents = Int32(descriptors[0].revents)
        if inputEvents & (Int32(POLLHUP) | Int32(POLLERR) | Int32(POLLNVAL)) != 0 { outcome.insert(.inputClosed) }
        if inputEvents & Int32(POLLIN) != 0 { outcome.insert(.input) }
        if Int32(descriptors[1].revents) & Int32(POLLIN) != 0 {
            outcome.insert(.woken)
            var sink = [UInt8](repeating: 0, count: 64)
            while read(readEnd, &sink, sink.count) > 0 {}
        }
        return outcome
    }

    /// Whether standard input is at end of file: readable but with no bytes pending.
    public func inputIsAtEndOfFile() -> Bool {
        var pending: Int32 = 0
        if ioctl(inputDescriptor, UInt(FIONREAD), &pending) != 0 { return true }
        guard pending == 0 else { return false }
        var descriptor = pollfd(fd: inputDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 1
    }
}
