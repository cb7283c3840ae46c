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

/// The interactive dashboard: one thread owns the terminal, waits for input, wake-ups or the
/// next refresh, applies events, and redraws only when something changed.
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

        public init(configuration: RegionWatchConfiguration, theme: Theme, themeCatalog: ThemeCatalog, refreshSeconds: Double, startedAt: Double) {
            self.configuration = configuration
            self.theme = theme
            self.themeCatalog = themeCatalog
            self.refreshSeconds = refreshSeconds
            self.startedAt = startedAt
        }
    }

    /// Most events buffered for the screen before the oldest are dropped (and counted).
    public static let busCapacity = 50_000
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

        let pipeline = CollectionPipeline(configuration: options.configuration, clock: clock)
        let subscription = pipeline.bus.subscribe(capacity: Self.busCapacity) { waiter.wake() }
        pipeline.start()
        defer { pipeline.cancel() }

        let terminal = try NcursesTerminal(allowColor: !options.themeCatalog.isNoColorRequested)
        defer { terminal.shutdown() }
        logger.info("terminal started", metadata: ["size": "\(terminal.size)", "colors": "\(terminal.terminalColorCapability)", "theme": "\(options.theme.name)"])

        let initialState = DashboardState(topology: options.configuration.topology, now: clock.now(), traceLimits: options.configuration.traceLimits)
        let world = LiveFailoverWorld(pipeline: pipeline, initial: initialState)
        let failover = FailoverDriver(configuration: options.configuration, world: world, bus: pipeline.bus, clock: clock, logger: logger)
        failover.publishHistory()

        var loop = LoopState(
            state: initialState,
            view: ViewState(isDemo: options.configuration.isDemo, themeName: options.theme.name, availableThemes: options.themeCatalog.availableNames),
            theme: options.theme
        )
        terminal.background = loop.theme.background
        let renderer = TerminalRenderer(backend: terminal)
        var nextRefresh = alignedRefresh(after: clock.now())
        var needsRender = true

        while true {
            if needsRender {
                render(&loop, renderer: renderer, terminal: terminal)
                needsRender = false
            }
            let pending = subscription.pendingCount
            let outcome = waiter.wait(timeout: pending > 0 ? 0 : max(0, nextRefresh.seconds(since: clock.now())))
            if let number = signals.receivedSignal {
                logger.info("exiting on signal \(number)")
                return .signal(number)
            }
            if outcome.contains(.inputClosed) {
                logger.info("exiting: standard input closed")
                return .inputClosed
            }
            if outcome.contains(.input) {
                let keys = terminal.readKeys()
                if keys.isEmpty, waiter.inputIsAtEndOfFile() {
                    logger.info("exiting: standard input reached end of file")
                    return .inputClosed
                }
                for key in keys {
                    let displayed = loop.displayed
                    let effects = loop.view.handle(key, state: displayed)
                    if perform(effects, on: &loop, pipeline: pipeline, failover: failover, renderer: renderer, terminal: terminal) { return .quit }
                }
                if !keys.isEmpty { needsRender = true }
            }
            let events = subscription.drain(limit: Self.drainBatch)
            if !events.isEmpty {
                pipeline.apply(events, to: &loop.state)
                // Steps that wait for a condition look at what the screen shows.
                publishWhileAttempting(loop.state, to: world, failover: failover)
                needsRender = needsRender || events.contains { if case .failoverProgress = $0 { true } else { false } }
            }
            let now = clock.now()
            if now >= nextRefresh {
                loop.state.apply(.busStatistics(BusStatistics(droppedEvents: subscription.droppedCount, publishedEvents: pipeline.bus.publishedCount)))
                loop.state.apply(.tick(now))
                publishWhileAttempting(loop.state, to: world, failover: failover)
                nextRefresh = alignedRefresh(after: now)
                needsRender = true
            }
        }
    }

    /// Mutable pieces of the loop.
    private struct LoopState {
        var state: DashboardState
        var view: ViewState
        var theme: Theme
        /// The state shown while the display is paused.
        var frozen: DashboardState?
        var framesRendered = 0

        /// What the screen shows: the frozen state while paused, yet always the live failover
        /// (pause never hides or freezes a dialog or a running attempt).
        var displayed: DashboardState {
            frozen.map { $0.showingFailover(of: state) } ?? state
        }
    }

    /// While an attempt is open, steps that wait for a condition and the gates look at the
    /// state as it is now; an attempt awaiting confirmation has its gates re-evaluated.
    private func publishWhileAttempting(_ state: DashboardState, to world: LiveFailoverWorld, failover: FailoverDriver) {
        let machineState = state.failover.machine.state
        guard machineState != .steady, !machineState.isFinal else { return }
        world.publish(state.snapshotWithoutTraces())
        if machineState == .awaitingConfirmation { failover.recheck() }
    }

    private func render(_ loop: inout LoopState, renderer: TerminalRenderer, terminal: NcursesTerminal) {
        let frame = DashboardView.render(state: loop.displayed, view: loop.view, size: terminal.size, theme: loop.theme)
        renderer.present(frame)
        loop.framesRendered += 1
        if loop.framesRendered == 1 {
            let milliseconds = (MonotonicClock.seconds() - options.startedAt) * 1000
            logger.info("first frame drawn", metadata: ["millisecondsSinceStart": "\(Format.fixed(milliseconds, decimals: 1))"])
            if options.crashesAfterFirstFrame {
                logger.critical("crashing on request (REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME)")
                fatalError("crash requested by REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME")
            }
        }
    }

    /// Carries out view effects; returns `true` to quit.
    private func perform(_ effects: [UIEffect], on loop: inout LoopState, pipeline: CollectionPipeline, failover: FailoverDriver, renderer: TerminalRenderer, terminal: NcursesTerminal) -> Bool {
        for effect in effects {
            switch effect {
            case .failover(let intent):
                failover.handle(intent, seeing: loop.state)
            case .quit:
                logger.info("exiting: operator quit")
                return true
            case .redraw:
                renderer.invalidate()
            case .pauseChanged(let isPaused):
                loop.frozen = isPaused ? loop.state : nil
            case .switchTheme(let name):
                do {
                    loop.theme = try options.themeCatalog.load(name)
                    terminal.background = loop.theme.background
                    loop.view.themeName = loop.theme.name
                    loop.view.show(StatusMessage("theme \(loop.theme.name)"))
                    renderer.invalidate()
                } catch {
                    loop.view.show(StatusMessage("\(error)".split(separator: "\n").first.map(String.init) ?? "cannot load theme", isError: true))
                }
            case .chaos(let request):
                let kind: CollectionPipeline.ChaosKind = switch request.kind {
                case .takeDown: .takeDown
                case .injectLag: .injectLag
                case .recover: .recover
                }
                let lag = max(45, options.configuration.topology.objectives.rpoSeconds * 1.5)
                if pipeline.perform(chaos: kind, region: request.region, lagSeconds: lag) {
                    logger.info("demo chaos", metadata: ["kind": "\(kind)", "region": "\(request.region)"])
                } else {
                    loop.view.show(StatusMessage("chaos keys need the simulator", isError: true))
                }
            }
        }
        return false
    }

    /// The next refresh boundary after `now`, aligned to whole refresh periods of the wall
    /// clock so the header's seconds tick exactly once per second.
    private func alignedRefresh(after now: Timestamp) -> Timestamp {
        let period = options.refreshSeconds
        let next = ((now.secondsSinceEpoch / period).rounded(.down) + 1) * period
        return Timestamp(secondsSinceEpoch: next + 0.002)
    }
}
