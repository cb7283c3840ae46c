import RegionWatchCore
import RegionWatchTerminal

extension ViewState {
    /// Rows a page key moves.
    static let pageSize = 10

    /// Handles one key press against `state` and returns what the run loop must do.
    public mutating func handle(_ key: Key, state: DashboardState) -> [UIEffect] {
        if key == .resize { return [.redraw] }
        if commandLine != nil { return handleCommandLineKey(key, state: state) }
        if traceList.filterInput != nil { return handleFilterKey(key) }
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

    /// Carries out `action` on the current screen.
    public mutating func perform(_ action: UIAction, state: DashboardState) -> [UIEffect] {
        switch action {
        case .moveUp: move(by: -1, state: state)
        case .moveDown: move(by: 1, state: state)
        case .pageUp: move(by: -Self.pageSize, state: state)
        case .pageDown: move(by: Self.pageSize, state: state)
        case .first: move(by: -Int.max / 2, state: state)
        case .last: move(by: Int.max / 2, state: state)
        case .nextPane, .previousPane:
            switchPane(forward: action == .nextPane)
        case .open:
            open(state: state)
        case .back:
            back()
        case .showTraces:
            push(.traces)
        case .showLatencyMatrix:
            push(.latencyMatrix)
        case .cycleSort:
            traceList.sort = traceList.sort.next
            message = StatusMessage("traces sorted by \(traceList.sort.rawValue)")
        case .openFilter:
            traceList.filterInput = CommandLineInput(text: traceList.filterText)
        case .collapse, .expand, .toggleCollapse:
            fold(action, state: state)
        case .toggleColoring:
            waterfall.coloring = waterfall.coloring == .region ? .service : .region
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
        case .acknowledgeInterrupted:
            guard let interrupted = state.failover.history.interrupted.first else {
                message = StatusMessage("no interrupted failover to acknowledge")
                return []
            }
            pendingAcknowledgement = interrupted.id
            message = StatusMessage(
                "acknowledge the interrupted \(interrupted.kind) \(interrupted.from) → \(interrupted.to) (confirmed by \(interrupted.operatorName))? A again confirms, any other key cancels",
                isError: true)
            return []
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
    private mutating func continueUnresolved(resume: Bool, state: DashboardState) -> [UIEffect] {
        if state.failover.isReadOnly {
            message = StatusMessage("read-only mode: failover, failback and drills are disabled", isError: true)
            return []
        }
        guard state.unresolvedFailover != nil else {
            message = StatusMessage("no failover stopped half-way: nothing to \(resume ? "resume" : "roll back")")
            return []
        }
        failoverInput = FailoverDialogInput()
        return [.failover(resume ? .resume : .rollBack)]
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

    /// Keys while an attempt is shown, from the dialog's key contexts: typing the
    /// confirmation, forcing a refusal, closing a finished attempt, Esc.
    private mutating func handleFailoverKey(_ key: Key, state: DashboardState) -> [UIEffect] {
        let machine = state.failover.machine.state
        if machine == .refused, let attempt = state.failover.machine.attempt {
            let refusing = attempt.gates.filter { !$0.allows }
            let forceable = refusing.filter(\.gate.isForceable).map(\.gate)
            if let reason = failoverInput.forceReason {
                switch KeyMap.action(for: key, in: .typedLine, isDemo: false) {
                case .cancel:
                    failoverInput.forceReason = nil
                case .confirm:
                    let trimmed = reason.trimmed()
                    guard !trimmed.isEmpty else { return [] }
                    failoverInput = FailoverDialogInput()
                    let forced = Dictionary(uniqueKeysWithValues: forceable.map { ($0, trimmed) })
                    return [
                        .failover(.begin(kind: attempt.request.kind, target: attempt.request.to, forcedGates: forced))
                    ]
                default:
                    failoverInput.forceReason = LineEditor.edit(reason, with: key, maximumLength: 500) ?? reason
                }
                return []
            }
            if KeyMap.action(for: key, in: .refusal, isDemo: false) == .force {
                if !forceable.isEmpty, forceable.count == refusing.count {
                    failoverInput.forceReason = ""
                } else {
                    let unforceable = refusing.filter { !$0.gate.isForceable }.map(\.gate.rawValue)
                    message = StatusMessage(
                        unforceable.isEmpty
                            ? "nothing to force: no gate refused (\(state.failover.progress.problem ?? "the attempt could not start"))"
                            : "\(unforceable.joined(separator: ", ")) cannot be forced",
                        isError: true)
                }
                return []
            }
        }
        if machine.isFinal {
            switch KeyMap.action(for: key, in: .finishedAttempt, isDemo: false) {
            case .confirm:
                failoverInput = FailoverDialogInput()
                return [.failover(.acknowledge)]
            case .resumeUnresolved, .rollBackUnresolved:
                return continueUnresolved(resume: key == .character("C"), state: state)
            default:
                return []
            }
        }
        let action = KeyMap.action(for: key, in: .failoverDialog, isDemo: false)
        guard machine == .awaitingConfirmation else {
            return action == .cancel ? [.failover(.abort)] : []
        }
        switch action {
        case .cancel:
            return [.failover(.abort)]
        case .switchField:
            failoverInput.field = failoverInput.field == .target ? .reason : .target
        case .confirm:
            if failoverInput.field == .target {
                failoverInput.field = .reason
            } else {
                return [.failover(.confirm(typedTarget: failoverInput.target, reason: failoverInput.reason))]
            }
        default:
            if failoverInput.field == .target {
                failoverInput.target =
                    LineEditor.edit(failoverInput.target, with: key, maximumLength: 64) ?? failoverInput.target
            } else {
                failoverInput.reason =
                    LineEditor.edit(failoverInput.reason, with: key, maximumLength: 500) ?? failoverInput.reason
            }
        }
        return []
    }

    /// The key context in effect: a modal one (typed line, help, failover dialog) while it is
    /// open, else the screen's.
    public func activeKeyContext(in state: DashboardState) -> KeyContext {
        if commandLine != nil || traceList.filterInput != nil { return .typedLine }
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

    // MARK: Moving

    private mutating func move(by delta: Int, state: DashboardState) {
        func clamp(_ value: Int, _ upper: Int) -> Int { max(0, min(max(0, upper), value)) }
        func step(_ value: Int) -> Int { value.addingReportingOverflow(delta).partialValue }
        switch screen {
        case .regionDetail(let region):
            if detailPane == .errorTraces {
                selectedErrorTrace = clamp(
                    step(selectedErrorTrace), RegionErrorTraces.traces(in: state, region: region).count - 1)
            } else {
                detailScroll = clamp(step(detailScroll), 500)
            }
        case .overview:
            switch focusedPane {
            case .regions: selectedRegion = clamp(step(selectedRegion), state.regions.count - 1)
            case .replication: replicationScroll = clamp(step(replicationScroll), 500)
            case .events: eventsScroll = clamp(step(eventsScroll), 500)
            }
        case .traces:
            let model = TraceListModel(state: state, list: traceList)
            guard let current = model.selectedIndex else { return }
            traceList.selected = model.rows[clamp(step(current), model.rows.count - 1)].traceID
        case .waterfall(let trace):
            guard let model = WaterfallModel(state: state, trace: trace, waterfall: waterfall), !model.visible.isEmpty
            else { return }
            let row = clamp(step(model.selectedRow), model.visible.count - 1)
            waterfall.selected = model.tree.nodes[model.visible[row]].span.spanID
        case .spanDetail:
            spanDetailScroll = clamp(step(spanDetailScroll), 10_000)
        case .latencyMatrix:
            break
        case .audit:
            auditScroll = clamp(step(auditScroll), 10_000)
        }
    }

    private mutating func switchPane(forward: Bool) {
        switch screen {
        case .overview:
            let panes = OverviewPane.allCases
            let current = panes.firstIndex(of: focusedPane) ?? 0
            focusedPane = panes[(current + (forward ? 1 : panes.count - 1)) % panes.count]
        case .regionDetail:
            detailPane = detailPane == .facts ? .errorTraces : .facts
        default:
            break
        }
    }

    // MARK: Opening and going back

    private mutating func open(state: DashboardState) {
        switch screen {
        case .overview:
            guard focusedPane == .regions, state.regions.indices.contains(selectedRegion) else { return }
            push(.regionDetail(region: state.regions[selectedRegion].name))
            detailScroll = 0
            detailPane = .facts
            selectedErrorTrace = 0
        case .regionDetail(let region):
            let traces = RegionErrorTraces.traces(in: state, region: region)
            guard detailPane == .errorTraces, traces.indices.contains(selectedErrorTrace) else {
                if traces.isEmpty {
                    message = StatusMessage("no error traces for \(region) yet")
                } else {
                    message = StatusMessage("Tab focuses the error traces; Enter opens one")
                }
                return
            }
            openWaterfall(traces[selectedErrorTrace].traceID)
        case .traces:
            guard let trace = TraceListModel(state: state, list: traceList).selected else { return }
            traceList.selected = trace.traceID
            openWaterfall(trace.traceID)
        case .waterfall(let trace):
            guard let node = WaterfallModel(state: state, trace: trace, waterfall: waterfall)?.selectedNode else {
                return
            }
            push(.spanDetail(trace: trace, span: node.span.spanID))
            spanDetailScroll = 0
        case .spanDetail, .latencyMatrix, .audit:
            break
        }
    }

    /// Opens the waterfall of `trace` with a fresh selection, keeping the colouring the
    /// operator chose.
    mutating func openWaterfall(_ trace: TraceID) {
        let coloring = waterfall.coloring
        waterfall = WaterfallState()
        waterfall.coloring = coloring
        push(.waterfall(trace: trace))
    }

    private mutating func back() {
        if screen == .traces, !traceList.filterText.isEmpty {
            traceList.filterText = ""
            traceList.filter = TraceQuery()
            message = StatusMessage("filter cleared")
            return
        }
        if screens.count > 1 { screens.removeLast() }
    }

    // MARK: Folding

    private mutating func fold(_ action: UIAction, state: DashboardState) {
        guard case .waterfall(let trace) = screen,
            let model = WaterfallModel(state: state, trace: trace, waterfall: waterfall),
            let node = model.selectedNode
        else { return }
        let id = node.span.spanID
        let isCollapsed = waterfall.collapsed.contains(id)
        switch action {
        case .expand:
            waterfall.collapsed.remove(id)
        case .toggleCollapse:
            if isCollapsed {
                waterfall.collapsed.remove(id)
            } else if !node.children.isEmpty {
                waterfall.collapsed.insert(id)
            }
        default:
            if !node.children.isEmpty, !isCollapsed {
                waterfall.collapsed.insert(id)
            } else if let parent = node.parent {
                waterfall.selected = model.tree.nodes[parent].span.spanID
            }
        }
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

    private mutating func handleFilterKey(_ key: Key) -> [UIEffect] {
        guard var input = traceList.filterInput else { return [] }
        switch KeyMap.action(for: key, in: .typedLine, isDemo: false) {
        case .cancel:
            traceList.filterInput = nil
            return []
        case .confirm:
            traceList.filterInput = nil
            switch TraceQuery.parse(input.text) {
            case .success(let query):
                traceList.filterText = input.text.trimmingCharacters(in: " ")
                traceList.filter = query
                message = StatusMessage(query.isEmpty ? "filter cleared" : "filter: \(traceList.filterText)")
            case .failure(let error):
                message = StatusMessage(error.description, isError: true)
            }
            return []
        default:
            input.text = LineEditor.edit(input.text, with: key) ?? input.text
            traceList.filterInput = input
            return []
        }
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
