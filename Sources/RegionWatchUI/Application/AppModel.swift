import RegionWatchCore
import RegionWatchTerminal

/// What the screen shows: the live state, or a snapshot frozen by pause. Pause is a choice of
/// display source, never a second copy of the truth: the live state keeps collecting, the
/// failover dialog and plan always come from it, and the time-travel sources ("at a past
/// time", "replay") will be further cases.
public enum DisplaySource: Sendable {
    case live
    /// A snapshot taken when the operator paused.
    case frozen(DashboardState)

    /// Whether the display is frozen.
    public var isFrozen: Bool {
        if case .frozen = self { true } else { false }
    }
}

/// Everything the application loop knows, as one value: the domain state (always live), the
/// view state, the theme and what is displayed. Changed only by `update(_:)`.
public struct AppModel: Sendable {
    /// The live domain state: every collected event lands here, paused or not.
    public private(set) var state: DashboardState
    public private(set) var view: ViewState
    public private(set) var theme: Theme
    public private(set) var display = DisplaySource.live
    /// Whether something on screen changed since the last frame.
    public private(set) var needsRender = true
    /// The objective the demo's injected lag exceeds (chaos `I`).
    public let rpoSeconds: Double

    public init(state: DashboardState, view: ViewState, theme: Theme) {
        self.state = state
        self.view = view
        self.theme = theme
        rpoSeconds = state.topology.objectives.rpoSeconds
    }

    /// What the screen shows: the display source's state, with the live failover (pause never
    /// hides or freezes a dialog or a running attempt).
    public var displayed: DashboardState {
        switch display {
        case .live: state
        case .frozen(let snapshot): snapshot.showingFailover(of: state)
        }
    }

    /// The frame for a terminal of `size`.
    public func frame(size: TerminalSize) -> Frame {
        switch display {
        case .live: DashboardView.render(state: state, view: view, size: size, theme: theme)
        case .frozen: DashboardView.render(state: displayed, view: view, size: size, theme: theme, live: state)
        }
    }

    /// Marks the current model as drawn on a terminal of `size` (keys then act on the layout
    /// the operator sees: the compact one has no replication pane to focus).
    public mutating func rendered(size: TerminalSize) {
        view.layout = LayoutMode(size: size)
        needsRender = false
    }

    /// Applies one message and returns what the runtime must carry out. Pure: no I/O, no
    /// clock; the results of commands come back as further messages.
    public mutating func update(_ message: AppMessage) -> [AppCommand] {
        switch message {
        case .key(let key):
            needsRender = true
            // Failover keys and the dialog judge the live state even while paused: the kind of
            // move and its target depend on what is true now, never on a frozen picture.
            return perform(view.handle(key, state: judgesLiveState(key) ? state : displayed))
        case .collected(let events):
            guard !events.isEmpty else { return [] }
            state.apply(contentsOf: events)
            if events.contains(where: \.isFailoverProgress) || events.contains(where: \.isFailoverHistory) {
                needsRender = true
            }
            var commands = publishingAttempt()
            let reservations = events.ingestReservations
            if !reservations.isEmpty { commands.insert(.releaseIngest(batches: reservations), at: 0) }
            return commands
        case .tick(let now, let bus):
            state.apply(.busStatistics(bus))
            state.apply(.tick(now))
            needsRender = true
            return publishingAttempt()
        case .resize:
            needsRender = true
            return [.redraw]
        case .themeLoaded(let loaded):
            theme = loaded
            view.themeName = loaded.name
            view.show(StatusMessage("theme \(loaded.name)"))
            needsRender = true
            return [.setBackground(loaded.background), .redraw]
        case .notify(let message):
            view.show(message)
            needsRender = true
            return []
        }
    }

    /// Whether `key` acts on failover (F, B, D, C, U, or anything while the dialog is open).
    private func judgesLiveState(_ key: Key) -> Bool {
        guard state.failover.machine.state == .steady, view.commandLine == nil, view.traceList.filterInput == nil else {
            return true
        }
        let failoverActions: [UIAction] = [
            .beginFailover, .beginFailback, .beginDrill, .resumeUnresolved, .rollBackUnresolved,
        ]
        return KeyMap.action(for: key, in: view.screen.keyContext, isDemo: view.isDemo).map(failoverActions.contains)
            ?? false
    }

    /// Turns the view's effects into commands; pause changes the display source here.
    private mutating func perform(_ effects: [UIEffect]) -> [AppCommand] {
        effects.compactMap { effect -> AppCommand? in
            switch effect {
            case .quit: return .quit
            case .redraw: return .redraw
            case .failover(let intent): return .failover(intent, seeing: state)
            case .switchTheme(let name): return .loadTheme(name)
            case .chaos(let request):
                return .chaos(request, lagSeconds: max(45, rpoSeconds * 1.5))
            case .pauseChanged(let isPaused):
                display = isPaused ? .frozen(state) : .live
                return nil
            }
        }
    }

    /// While an attempt is open, steps that wait for a condition and the gates look at the
    /// state as it is now; an attempt awaiting confirmation has its gates re-evaluated.
    private func publishingAttempt() -> [AppCommand] {
        let machineState = state.failover.machine.state
        guard machineState != .steady, !machineState.isFinal else { return [] }
        return [.publishToFailover(state.snapshotWithoutTraces(), recheckGates: machineState == .awaitingConfirmation)]
    }
}

/// Everything that can change the model: keys, collected events, ticks, resizes and the
/// results of commands. Failover progress arrives among the collected events, in the order
/// the coordinator published it relative to the audit history.
public enum AppMessage: Sendable {
    case key(Key)
    /// Events drained from the bus, applied as one batch.
    case collected([DashboardEvent])
    /// The refresh clock: time moves on (freshness, staleness) and the bus's counters.
    case tick(Timestamp, BusStatistics)
    case resize(TerminalSize)
    /// A theme `:theme` asked for, loaded.
    case themeLoaded(Theme)
    /// A command's result for the footer (a theme that failed to load, chaos without a
    /// simulator).
    case notify(StatusMessage)
}

/// What the runtime carries out for the model; results come back as `AppMessage`s.
public enum AppCommand: Sendable {
    case quit
    /// Repaint everything (Ctrl-L, resize, theme change).
    case redraw
    /// Give the terminal the background the theme is designed for.
    case setBackground(TerminalBackground)
    /// Hand an operator's intent to the failover driver; `seeing` is the live state (never a
    /// frozen one: the gates judge what is true now).
    case failover(FailoverIntent, seeing: DashboardState)
    /// Let a running attempt's steps and gates see the state as it is now.
    case publishToFailover(DashboardState, recheckGates: Bool)
    case loadTheme(String)
    case chaos(ChaosRequest, lagSeconds: Double)
    /// Span batches applied: give their ingest reservations back to the receivers' gate, one
    /// per batch (their span counts).
    case releaseIngest(batches: [Int])
}
