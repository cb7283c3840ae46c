import RegionWatchCore
import RegionWatchTerminal

extension ViewState {
    /// Rows a page key moves.
    static let pageSize = 10

    /// Handles one key press against `state` and returns what the run loop must do.
    public mutating func handle(_ key: Key, state: DashboardState) -> [UIEffect] {
        if key == .resize { return [.redraw] }
        if commandLine != nil { return handleCommandLineKey(key, state: state) }
        if traceList.filterInput != nil { return TracesKeys.handleFilterKey(key, in: &self) }
        if logList.filterInput != nil { return LogsKeys.handleFilterKey(key, in: &self) }
        if metricList.filterInput != nil { return MetricsKeys.handleFilterKey(key, in: &self) }
        message = nil
        let acknowledging = pendingAcknowledgement
        pendingAcknowledgement = nil
        if isHelpVisible { return handleHelpKey(key) }
        if state.failover.machine.state != .steady { return handleFailoverKey(key, state: state) }
        guard let action = KeyMap.action(for: key, in: screen.keyContext, isDemo: isDemo) else {
            if KeyMap.isDemoKey(key), !isDemo {
                message = StatusMessage(
                    "chaos keys work only in the demo (the simulator is not running)", isError: true)
            }
            if acknowledging != nil { message = StatusMessage("not acknowledged") }
            return []
        }
        if action == .acknowledgeInterrupted, let id = acknowledging,
            let interrupted = state.failover.history.interrupted.first(where: { $0.id == id })
        {
            message = StatusMessage(
                "acknowledged the interrupted \(interrupted.kind) \(interrupted.from) → \(interrupted.to); it stays in the audit log"
            )
            return [.failover(.acknowledgeInterrupted(id: id))]
        }
        if acknowledging != nil, action != .acknowledgeInterrupted { message = StatusMessage("not acknowledged") }
        return perform(action, state: state)
    }

    /// Carries out `action` on the current screen: the screen's own keys first (next to its
    /// view, `ScreenKeys`), then what every screen shares.
    public mutating func perform(_ action: UIAction, state: DashboardState) -> [UIEffect] {
        let keys = screen.keys
        if let effects = keys.perform(action, in: &self, state: state) { return effects }
        switch action {
        case .moveUp: keys.move(by: -1, in: &self, state: state)
        case .moveDown: keys.move(by: 1, in: &self, state: state)
        case .pageUp: keys.move(by: -Self.pageSize, in: &self, state: state)
        case .pageDown: keys.move(by: Self.pageSize, in: &self, state: state)
        case .first: keys.move(by: -Int.max / 2, in: &self, state: state)
        case .last: keys.move(by: Int.max / 2, in: &self, state: state)
        case .nextPane, .previousPane:
            keys.switchPane(forward: action == .nextPane, in: &self)
        case .open:
            keys.open(in: &self, state: state)
        case .back:
            if !keys.back(in: &self), screens.count > 1 { screens.removeLast() }
        case .showTraces:
            push(.traces)
        case .showLatencyMatrix:
            push(.latencyMatrix)
        case .showLogs:
            // From a screen without logs of its own: all logs, not the last region's or span's.
            if logList.isContextFilter { logList = LogListState() }
            push(.logs)
        case .showMetrics:
            push(.metrics)
        case .cycleLevel,
            .cycleSort, .openFilter, .collapse, .expand, .toggleCollapse, .toggleColoring, .acknowledgeInterrupted:
            // Screen actions: their screens handle them above; elsewhere they do nothing.
            break
        case .toggleHelp:
            isHelpVisible = true
            helpScroll = 0
        case .togglePause:
            isPaused.toggle()
            message = StatusMessage(isPaused ? "display paused: collection continues; p resumes" : "display resumed")
            return [.pauseChanged(isPaused)]
        case .openCommandLine:
            commandLine = CommandLineInput()
        case .redraw:
            return [.redraw]
        case .quit:
            if screens.count > 1 {
                screens.removeLast()
                return []
            }
            return [.quit]
        case .beginFailover, .beginFailback, .beginDrill:
            return beginFailover(action, state: state)
        case .resumeUnresolved, .rollBackUnresolved:
            return continueUnresolved(resume: action == .resumeUnresolved, state: state)
        case .showAudit:
            auditScroll = 0
            push(.audit)
        case .chaosTakeDown, .chaosInjectLag, .chaosRecover:
            guard let region = selectedRegionName(in: state) else { return [] }
            let kind: ChaosRequest.Kind =
                action == .chaosTakeDown ? .takeDown : (action == .chaosInjectLag ? .injectLag : .recover)
            return [.chaos(ChaosRequest(kind: kind, region: region))]
        case .switchField, .confirm, .cancel, .force, .deleteBackward, .clearLine, .deleteWord, .complete,
            .historyPrevious,
            .historyNext, .closeHelp:
            // Bound only in the modal contexts, which handle them before a screen sees a key.
            break
        }
        return []
    }

    /// C, U: resume or roll back the attempt that stopped half-way.
    mutating func continueUnresolved(resume: Bool, state: DashboardState) -> [UIEffect] {
        if state.failover.isReadOnly {
            message = StatusMessage("read-only mode: failover, failback and drills are disabled", isError: true)
            return []
        }
        guard state.unresolvedFailover != nil else {
            message = StatusMessage("no failover stopped half-way: nothing to \(resume ? "resume" : "roll back")")
            return []
        }
        failoverInput = FailoverDialogInput()
        return [.failover(resume ? .resume() : .rollBack())]
    }

    /// F, B, D: refused at once in read-only mode; otherwise the driver evaluates the gates.
    private mutating func beginFailover(_ action: UIAction, state: DashboardState) -> [UIEffect] {
        if state.failover.isReadOnly {
            message = StatusMessage("read-only mode: failover, failback and drills are disabled", isError: true)
            return []
        }
        let kind: FailoverKind
        let target: String?
        switch action {
        case .beginFailback:
            kind = .failback
            target = state.topology.regions.first { $0.role == .primary }?.name
        case .beginDrill:
            kind = .drill
            target = selectedRegionName(in: state)
        default:
            target = selectedRegionName(in: state)
            kind = FailoverGates.kind(from: FailoverGates.currentPrimary(in: state), in: state)
        }
        guard let target else { return [] }
        if let problem = FailoverGates.targetProblem(kind: kind, target: target, in: state) {
            let valid = problem.validTargets.isEmpty ? "none" : problem.validTargets.joined(separator: ", ")
            message = StatusMessage(
                "\(problem.description): select the region to promote (valid now: \(valid))", isError: true)
            return []
        }
        failoverInput = FailoverDialogInput()
        return [.failover(.begin(kind: kind, target: target))]
    }

    /// The key context in effect: a modal one (typed line, help, failover dialog) while it is
    /// open, else the screen's.
    public func activeKeyContext(in state: DashboardState) -> KeyContext {
        if commandLine != nil || filterInput != nil { return .typedLine }
        if isHelpVisible { return .help }
        let machine = state.failover.machine.state
        if machine == .refused { return .refusal }
        if machine.isFinal { return .finishedAttempt }
        if machine != .steady { return .failoverDialog }
        return screen.keyContext
    }

    /// The region the chaos and open keys act on: the detail screen's region, else the
    /// selected row.
    public func selectedRegionName(in state: DashboardState) -> String? {
        if case .regionDetail(let region) = screen { return region }
        return state.regions.indices.contains(selectedRegion) ? state.regions[selectedRegion].name : nil
    }

    /// Shows a message in the footer until the next key.
    public mutating func show(_ message: StatusMessage) {
        self.message = message
    }

    // MARK: Opening

    /// Opens the waterfall of `trace` with a fresh selection, keeping the colouring the
    /// operator chose.
    mutating func openWaterfall(_ trace: TraceID) {
        let coloring = waterfall.coloring
        waterfall = WaterfallState()
        waterfall.coloring = coloring
        push(.waterfall(trace: trace))
    }

    /// Opens the logs screen showing `query` (a span's or a trace's logs), following the newest.
    mutating func openLogs(_ query: LogQuery, describedAs text: String) {
        logList.filter = query
        logList.filterText = text
        logList.selected = nil
        logList.isContextFilter = true
        push(.logs)
    }

    // MARK: Overlays and typed input

    private mutating func handleHelpKey(_ key: Key) -> [UIEffect] {
        switch KeyMap.action(for: key, in: .help, isDemo: false) {
        case .closeHelp: isHelpVisible = false
        case .moveDown: helpScroll += 1
        case .moveUp: helpScroll = max(0, helpScroll - 1)
        case .pageDown: helpScroll += Self.pageSize
        case .pageUp: helpScroll = max(0, helpScroll - Self.pageSize)
        default: break
        }
        return []
    }

    private mutating func handleCommandLineKey(_ key: Key, state: DashboardState) -> [UIEffect] {
        guard var input = commandLine else { return [] }
        switch KeyMap.action(for: key, in: .typedLine, isDemo: false) {
        case .cancel:
            commandLine = nil
            return []
        case .confirm:
            commandLine = nil
            let text = input.text.trimmingCharacters(in: " ")
            guard !text.isEmpty else { return [] }
            commandHistory.append(text)
            if commandHistory.count > 50 { commandHistory.removeFirst() }
            return execute(text, state: state)
        case .deleteBackward where input.text.isEmpty:
            commandLine = nil
            return []
        case .complete:
            input.text = CommandParser.complete(input.text, regions: state.regions.map(\.name), themes: availableThemes)
        case .historyPrevious:
            guard !commandHistory.isEmpty else { break }
            let position = max(0, (input.historyPosition ?? commandHistory.count) - 1)
            input.historyPosition = position
            input.text = commandHistory[position]
        case .historyNext:
            guard let position = input.historyPosition else { break }
            if position + 1 < commandHistory.count {
                input.historyPosition = position + 1
                input.text = commandHistory[position + 1]
            } else {
                input.historyPosition = nil
                input.text = ""
            }
        default:
            input.text = LineEditor.edit(input.text, with: key) ?? input.text
        }
        commandLine = input
        return []
    }

    /// Runs a command line (without the `:`).
    public mutating func execute(_ text: String, state: DashboardState) -> [UIEffect] {
        switch CommandParser.parse(text) {
        case .failure(let error):
            message = StatusMessage(error.description, isError: true)
            return []
        case .success(let command):
            switch command {
            case .quit:
                return [.quit]
            case .help:
                isHelpVisible = true
                helpScroll = 0
            case .overview:
                screens = [.overview]
            case .traces:
                push(.traces)
            case .matrix:
                push(.latencyMatrix)
            case .pause, .resume:
                let pause = command == .pause
                guard pause != isPaused else { return [] }
                return perform(.togglePause, state: state)
            case .theme(let name):
                return [.switchTheme(name)]
            case .trace(let prefix):
                let lowered = prefix.lowercased()
                let matches = state.traces.summaries().filter { $0.traceID.hex.hasPrefix(lowered) }
                guard matches.count == 1 else {
                    message = StatusMessage(
                        matches.isEmpty
                            ? "no kept trace starts with '\(prefix)'"
                            : "\(matches.count) traces start with '\(prefix)'; type more", isError: true)
                    return []
                }
                openWaterfall(matches[0].traceID)
            case .region(let query):
                let index: Int
                switch Self.findRegion(query, in: state.regions.map(\.name)) {
                case .one(let found):
                    index = found
                case .none:
                    message = StatusMessage("no region matches '\(query)'", isError: true)
                    return []
                case .several(let names):
                    message = StatusMessage(
                        "'\(query)' matches \(names.joined(separator: ", ")); type more", isError: true)
                    return []
                }
                selectedRegion = index
                focusedPane = .regions
                screens = [.overview, .regionDetail(region: state.regions[index].name)]
                detailScroll = 0
                detailPane = .facts
            }
            return []
        }
    }

    /// Index of the region matching `query`: exact name, else the only prefix or substring match.
    /// What `:region QUERY` names: a region, none, or several (to list).
    enum RegionMatch: Equatable {
        case one(Int)
        case none
        case several([String])
    }

    /// The region `query` names: an exact name, else the one name it starts, else the one name
    /// containing it (case-insensitive); several candidates are listed, never guessed.
    static func findRegion(_ query: String, in names: [String]) -> RegionMatch {
        let lowered = query.lowercased()
        if let exact = names.firstIndex(where: { $0.lowercased() == lowered }) { return .one(exact) }
        let prefixed = names.indices.filter { names[$0].lowercased().hasPrefix(lowered) }
        if prefixed.count == 1 { return .one(prefixed[0]) }
        if prefixed.count > 1 { return .several(prefixed.map { names[$0] }) }
        let containing = names.indices.filter { names[$0].lowercased().contains(lowered) }
        switch containing.count {
        case 0: return .none
        case 1: return .one(containing[0])
        default: return .several(containing.map { names[$0] })
        }
    }
}

/// Editing keys shared by every typed line (command line, filter, the failover dialog's
/// fields), bound in the key map's `typedLine` context; other printable characters are typed.
enum LineEditor {
    static let maximumLength = 200

    /// The text after `key`, or `nil` when the key does not edit.
    static func edit(_ text: String, with key: Key, maximumLength: Int = Self.maximumLength) -> String? {
        switch KeyMap.action(for: key, in: .typedLine, isDemo: false) {
        case .deleteBackward:
            return text.isEmpty ? text : String(text.dropLast())
        case .clearLine:
            return ""
        case .deleteWord:
            var trimmed = text
            while trimmed.last == " " { trimmed.removeLast() }
            while let last = trimmed.last, last != " " { trimmed.removeLast() }
            return trimmed
        case nil:
            guard case .character(let character) = key, !character.isNewline else { return nil }
            return text.count < maximumLength ? text + String(character) : text
        default:
            return nil
        }
    }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return String(text)
    }
}
