import Foundation
import Logging
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI
import RegionWatchFailover

/// Why the dashboard stopped.
public enum SessionEnd: Equatable, Sendable {
    case quit
    case signal(Int32)
    case inputClosed

    /// The process exit status: 0 for a normal quit or closed input, 128+N for signal N.
    public var exitStatus: Int32 {
        switch self {
        case .quit, .inputClosed: 0
        case .signal(let number): 128 + number
        }
    }
}

/// The interactive dashboard on ncurses: one thread owns the terminal and waits for input,
/// wake-ups or the next refresh; everything it receives goes to the application loop
/// (`AppRuntime`) as messages, which redraws only when something changed.
public final class DashboardSession {
    public struct Options: Sendable {
        public var configuration: RegionWatchConfiguration
        public var theme: Theme
        public var themeCatalog: ThemeCatalog
        public var refreshSeconds: Double
        /// Monotonic seconds at process start, for the time-to-first-frame log line.
        public var startedAt: Double
        /// Crash on purpose after the first frame, so tests can prove a crash restores the
        /// terminal (set by `REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME=1`).
        public var crashesAfterFirstFrame = false
        /// How failover steps are paced (in-process session tests run simulated steps at once).
        public var stepPacing = StepRunner.Pacing.realistic

        public init(
            configuration: RegionWatchConfiguration, theme: Theme, themeCatalog: ThemeCatalog, refreshSeconds: Double,
            startedAt: Double
        ) {
            self.configuration = configuration
            self.theme = theme
            self.themeCatalog = themeCatalog
            self.refreshSeconds = refreshSeconds
            self.startedAt = startedAt
        }
    }

    /// Most events buffered for the screen before the oldest are dropped (and counted).
    public static let busCapacity = 50_000
    /// Waiting events that wake the loop before the next refresh although none is urgent.
    static let wakePending = 1_000
    /// Most events applied between two looks at the keyboard.
    static let drainBatch = 20_000

    private let options: Options
    private let logger: Logger
    private let clock: WallClock

    public init(options: Options, logger: Logger, clock: WallClock = SystemWallClock()) {
        self.options = options
        self.logger = logger
        self.clock = clock
    }

    /// Runs until the operator quits, a signal arrives or the input closes. The terminal is
    /// restored on every path out.
    public func run() throws -> SessionEnd {
        let waiter = InputWaiter()
        let signals = SignalWatcher()
        signals.start { waiter.wake() }
        defer { signals.stop() }

        let pipeline = CollectionPipeline(configuration: options.configuration, clock: clock, logger: logger)
        // Samples wait for the refresh that draws them; only what cannot wait wakes the loop.
        let subscription = pipeline.subscribeAsConsumer(
            capacity: Self.busCapacity, wake: .urgent(pendingLimit: Self.wakePending, where: \.cannotWaitForRefresh)
        ) { waiter.wake() }
        pipeline.start()
        defer { pipeline.cancel() }

        let terminal = try NcursesTerminal(allowColor: !options.themeCatalog.isNoColorRequested)
        defer { terminal.shutdown() }
        logger.info(
            "terminal started",
            metadata: [
                "size": "\(terminal.size)", "colors": "\(terminal.terminalColorCapability)",
                "theme": "\(options.theme.name)", "mainThread": "\(Thread.isMainThread)",
            ])

        let runtime = Self.runtime(
            options: options, pipeline: pipeline, backend: terminal, clock: clock, logger: logger)
        var nextRefresh = alignedRefresh(after: clock.now())
        while true {
            if runtime.renderIfNeeded() { firstFrameDrawn(count: runtime.framesRendered) }
            let outcome = waiter.wait(
                timeout: subscription.wantsDrain ? 0 : max(0, nextRefresh.seconds(since: clock.now())))
            if let number = signals.receivedSignal {
                logger.info("exiting on signal \(number)")
                return .signal(number)
            }
            if outcome.contains(.inputClosed) {
                logger.info("exiting: standard input closed")
                return .inputClosed
            }
            if outcome.contains(.input) {
                let keys = terminal.readKeys(limit: 256)
                if keys.isEmpty, waiter.inputIsAtEndOfFile() {
                    logger.info("exiting: standard input reached end of file")
                    return .inputClosed
                }
                for key in keys {
                    runtime.send(key == .resize ? .resize(terminal.size) : .key(key))
                    if runtime.hasQuit {
                        logger.info("exiting: operator quit")
                        return .quit
                    }
                }
            }
            runtime.send(.collected(subscription.drain(limit: Self.drainBatch)))
            let now = clock.now()
            if now >= nextRefresh {
                let statistics = BusStatistics(
                    droppedEvents: subscription.droppedCount, publishedEvents: pipeline.bus.publishedCount)
                runtime.send(.tick(now, statistics))
                nextRefresh = alignedRefresh(after: now)
            }
        }
    }

    /// The application loop of a dashboard over `pipeline`, drawing on `backend`: the model
    /// starts from the configuration, and failover, themes and chaos go to live services.
    /// Shared by the ncurses session and the in-process session tests.
    static func runtime(
        options: Options, pipeline: CollectionPipeline, backend: TerminalBackend, clock: WallClock, logger: Logger
    ) -> AppRuntime {
        let configuration = options.configuration
        let initialState = DashboardState(
            topology: configuration.topology, now: clock.now(), traceLimits: configuration.traceLimits,
            logLimits: configuration.logLimits)
        let world = LiveFailoverWorld(pipeline: pipeline, initial: initialState)
        let failover = FailoverDriver(
            configuration: configuration, world: world, bus: pipeline.bus, clock: clock, logger: logger,
            pacing: options.stepPacing)
        failover.publishHistory()
        let view = ViewState(
            isDemo: configuration.isDemo, themeName: options.theme.name,
            availableThemes: options.themeCatalog.availableNames)
        let services = LiveAppServices(pipeline: pipeline, world: world, driver: failover, themes: options.themeCatalog)
        return AppRuntime(
            model: AppModel(state: initialState, view: view, theme: options.theme), backend: backend, services: services
        )
    }

    private func firstFrameDrawn(count: Int) {
        guard count == 1 else { return }
        let milliseconds = (MonotonicClock.seconds() - options.startedAt) * 1000
        logger.info(
            "first frame drawn", metadata: ["millisecondsSinceStart": "\(Format.fixed(milliseconds, decimals: 1))"])
        if options.crashesAfterFirstFrame {
            logger.critical("crashing on request (REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME)")
            fatalError("crash requested by REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME")
        }
    }

    /// The next refresh boundary after `now`, aligned to whole refresh periods of the wall
    /// clock so the header's seconds tick exactly once per second.
    private func alignedRefresh(after now: Timestamp) -> Timestamp {
        let period = options.refreshSeconds
        let next = ((now.secondsSinceEpoch / period).rounded(.down) + 1) * period
        return Timestamp(secondsSinceEpoch: next + 0.002)
    }
}
