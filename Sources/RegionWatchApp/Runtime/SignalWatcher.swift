import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into a flag the run loop checks, so the program always
/// leaves through its own path (restoring the terminal) instead of dying inside curses.
/// Installed before curses starts, so curses does not install its own handlers.
public final class SignalWatcher: @unchecked Sendable {
    private let received = Atomic<Int32>(0)
    /// Touched only by `start` and `stop`, from the thread that owns the run loop.
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "regionwatch.signals")

    /// Signals handled.
    public static let handledSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    public init() {}

    /// Starts watching; `onSignal` runs on a private queue.
    public func start(onSignal: @escaping @Sendable () -> Void) {
        signal(SIGPIPE, SIG_IGN)
        var created: [DispatchSourceSignal] = []
        for number in Self.handledSignals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                received.store(number, ordering: .relaxed)
                onSignal()
            }
            source.resume()
            created.append(source)
        }
        sources = created
    }

    /// The last signal received, or `nil`.
    public var receivedSignal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Stops watching and restores default dispositions.
    public func stop() {
        for source in sources { source.cancel() }
        sources = []
        for number in Self.handledSignals { signal(number, SIG_DFL) }
    }
}
