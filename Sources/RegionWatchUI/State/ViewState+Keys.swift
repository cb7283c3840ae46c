import RegionWatchCore
import RegionWatchTerminal

extension ViewState {
    /// Rows a page key moves.
    static let pageSize = 10

    /// Handles one key press against `state` and returns what the run loop must do.
    public mutating func handle(_ key: Key, state: DashboardState) -> [UIEffect] {
        if key == .resize { return [.redraw] }
        if commandLine != nil { return handleCommandLineKey(key, state: state) }
        message = nil
        if isHelpVisible { return handleHelpKey(key) }
        guard let action = KeyMap.action(for: key, isDemo: isDemo) else {
            if case .character(let character) = key, isDemo == false, ["X", "I", "R"].contains(character) {
                message = StatusMessage("chaos keys work only in the demo (the simulator is not running)", isError: true)
            }
            return []
        }
        return perform(action, state: state)
    }

    /// Carries out `action`.
    public mutating func perform(_ action: UIAction, state: DashboardState) -> [UIEffect] {
        let regionCount = state.regions.count
        switch action {
        case .moveUp: move(by: -1, regionCount: regionCount)
        case .moveDown: move(by: 1, regionCount: regionCount)
        case .pageUp: move(by: -Self.pageSize, regionCount: regionCount)
        case .pageDown: move(by: Self.pageSize, regionCount: regionCount)
        case .first: move(by: -Int.max / 2, regionCount: regionCount)
        case .last: move(by: Int.max / 2, regionCount: regionCount)
        case .nextPane, .previousPane:
            guard screen == .overview else { return [] }
            let panes = OverviewPane.allCases
            let current = panes.firstIndex(of: focusedPane) ?? 0
            let step = action == .nextPane ? 1 : panes.count - 1
            focusedPane = panes[(current + step) % panes.count]
        case .open:
            guard screen == .overview, focusedPane == .regions, state.regions.indices.contains(selectedRegion) else { return [] }
            screens.append(.regionDetail(region: state.regions[selectedRegion].name))
            detailScroll = 0
        case .back:
            if screens.count > 1 { screens.removeLast() }
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
        case .chaosTakeDown, .chaosInjectLag, .chaosRecover:
            guard let region = selectedRegionName(in: state) else { return [] }
            let kind: ChaosRequest.Kind = action == .chaosTakeDown ? .takeDown : (action == .chaosInjectLag ? .injectLag : .recover)
            return [.chaos(ChaosRequest(kind: kind, region: region))]
        }
        return []
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

    private mutating func move(by delta: Int, regionCount: Int) {
        func clamp(_ value: Int, _ upper: Int) -> Int { max(0, min(max(0, upper), value)) }
        switch screen {
        case .regionDetail:
            detailScroll = clamp(detailScroll.addingReportingOverflow(delta).partialValue, 500)
        case .overview:
            switch focusedPane {
            case .regions: selectedRegion = clamp(selectedRegion.addingReportingOverflow(delta).partialValue, regionCount - 1)
            case .replication: replicationScroll = clamp(replicationScroll.addingReportingOverflow(delta).partialValue, 500)
            case .events: eventsScroll = clamp(eventsScroll.addingReportingOverflow(delta).partialValue, 500)
            }
        }
    }

    private mutating func handleHelpKey(_ key: Key) -> [UIEffect] {
        switch key {
        case .escape, .character("?"), .character("q"), .enter:
            isHelpVisible = false
        case .down, .character("j"): helpScroll += 1
        case .up, .character("k"): helpScroll = max(0, helpScroll - 1)
        case .pageDown: helpScroll += Self.pageSize
        case .pageUp: helpScroll = max(0, helpScroll - Self.pageSize)
        default: break
        }
        return []
    }

    private mutating func handleCommandLineKey(_ key: Key, state: DashboardState) -> [UIEffect] {
        guard var input = commandLine else { return [] }
        switch key {
        case .escape:
            commandLine = nil
            return []
        case .enter:
            commandLine = nil
            let text = input.text.trimmingCharacters(in: " ")
            guard !text.isEmpty else { return [] }
            commandHistory.append(text)
            if commandHistory.count > 50 { commandHistory.removeFirst() }
            return execute(text, state: state)
        case .backspace:
            if input.text.isEmpty {
                commandLine = nil
                return []
            }
            input.text.removeLast()
        case .tab:
            input.text = CommandParser.complete(input.text, regions: state.regions.map(\.name), themes: availableThemes)
        case .up:
            guard !commandHistory.isEmpty else { break }
            let position = max(0, (input.historyPosition ?? commandHistory.count) - 1)
            input.historyPosition = position
            input.text = commandHistory[position]
        case .down:
            guard let position = input.historyPosition else { break }
            if position + 1 < commandHistory.count {
                input.historyPosition = position + 1
                input.text = commandHistory[position + 1]
            } else {
                input.historyPosition = nil
                input.text = ""
            }
        case .control("u"):
            input.text = ""
        case .character(let character):
            if input.text.count < 200 { input.text.append(character) }
        default:
            break
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
            case .pause, .resume:
                let pause = command == .pause
                guard pause != isPaused else { return [] }
                return perform(.togglePause, state: state)
            case .theme(let name):
                return [.switchTheme(name)]
            case .region(let query):
                guard let index = Self.findRegion(query, in: state.regions.map(\.name)) else {
                    message = StatusMessage("no region matches '\(query)'", isError: true)
                    return []
                }
                selectedRegion = index
                focusedPane = .regions
                screens = [.overview, .regionDetail(region: state.regions[index].name)]
                detailScroll = 0
            }
            return []
        }
    }

    /// Index of the region matching `query`: exact name, else the only prefix or substring match.
    static func findRegion(_ query: String, in names: [String]) -> Int? {
        let lowered = query.lowercased()
        if let exact = names.firstIndex(where: { $0.lowercased() == lowered }) { return exact }
        let prefixed = names.indices.filter { names[$0].lowercased().hasPrefix(lowered) }
        if prefixed.count == 1 { return prefixed[0] }
        let containing = names.indices.filter { names[$0].lowercased().contains(lowered) }
        return containing.count == 1 ? containing[0] : nil
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
