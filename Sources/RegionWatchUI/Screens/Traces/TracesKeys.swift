import RegionWatchCore
import RegionWatchTerminal

/// The trace list's keys: select and open a trace, sort, and the `/` filter (typed on a line
/// of its own; Esc on the list clears an applied filter before it closes the screen).
enum TracesKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.enter], "Enter", .open, "open the selected trace's waterfall", .traces,
            hints: KeyHint.on([.traces], "Enter", "waterfall")),
        KeyBinding(
            [.character("s")], "s", .cycleSort, "sort by time, duration, errors", .traces,
            hints: KeyHint.on([.traces], "s", "sort")),
        KeyBinding(
            [.character("/")], "/", .openFilter, "filter: words, region=, service=, error, >500ms, <2s (Esc clears)",
            .traces, hints: KeyHint.on([.traces], "/", "filter")),
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        let model = TraceListModel(state: state, list: view.traceList)
        guard let current = model.selectedIndex else { return }
        view.traceList.selected = model.rows[moved(current, by: delta, upTo: model.rows.count - 1)].traceID
    }

    static func open(in view: inout ViewState, state: DashboardState) {
        guard let trace = TraceListModel(state: state, list: view.traceList).selected else { return }
        view.traceList.selected = trace.traceID
        view.openWaterfall(trace.traceID)
    }

    static func back(in view: inout ViewState) -> Bool {
        guard !view.traceList.filterText.isEmpty else { return false }
        view.traceList.filterText = ""
        view.traceList.filter = TraceQuery()
        view.message = StatusMessage("filter cleared")
        return true
    }

    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        switch action {
        case .cycleSort:
            view.traceList.sort = view.traceList.sort.next
            view.message = StatusMessage("traces sorted by \(view.traceList.sort.rawValue)")
        case .openFilter:
            view.traceList.filterInput = CommandLineInput(text: view.traceList.filterText)
        default:
            return nil
        }
        return []
    }

    /// A key while the filter line is open (the typed-line context).
    static func handleFilterKey(_ key: Key, in view: inout ViewState) -> [UIEffect] {
        FilterLine.handle(key, input: &view.traceList.filterInput, message: &view.message) { text in
            switch TraceQuery.parse(text) {
            case .success(let query):
                view.traceList.filterText = text
                view.traceList.filter = query
                return StatusMessage(query.isEmpty ? "filter cleared" : "filter: \(text)")
            case .failure(let error):
                return StatusMessage(error.description, isError: true)
            }
        }
        return []
    }
}
