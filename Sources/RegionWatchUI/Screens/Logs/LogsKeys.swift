import RegionWatchCore
import RegionWatchTerminal

/// The logs screen's keys: select a record (the list follows the newest until a row is
/// picked; End follows again), open its trace, the minimum level, and the `/` filter.
enum LogsKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.enter], "Enter", .open, "open the selected record's trace (its waterfall)", .logs,
            hints: KeyHint.on([.logs], "Enter", "trace")),
        KeyBinding(
            [.character("v")], "v", .cycleLevel, "minimum level: all, debug, info, warn, error, fatal", .logs,
            hints: KeyHint.on([.logs], "v", "level")),
        KeyBinding(
            [.character("/")], "/", .openFilter,
            "filter: words, region=, service=, trace=, span=, level= (Esc clears)", .logs,
            hints: KeyHint.on([.logs], "/", "filter")),
        KeyBinding(
            [.end], "End", .last, "follow the newest record", .logs, hints: KeyHint.on([.logs], "End", "follow")),
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        let model = LogListModel(state: state, list: view.logList)
        guard let current = model.selectedIndex else { return }
        let target = moved(current, by: delta, upTo: model.rows.count - 1)
        // Down past the newest (or End) follows again.
        view.logList.selected = target == model.rows.count - 1 && delta > 0 ? nil : model.rows[target].sequence
    }

    static func open(in view: inout ViewState, state: DashboardState) {
        let model = LogListModel(state: state, list: view.logList)
        guard let record = model.selected else { return }
        guard let trace = record.traceID else {
            view.message = StatusMessage("this record carries no trace id")
            return
        }
        view.logList.selected = record.sequence
        guard state.traces.summary(of: trace) != nil else {
            view.message = StatusMessage("trace \(trace.hex) is not kept (not received, or evicted)", isError: true)
            return
        }
        view.openWaterfall(trace)
    }

    static func back(in view: inout ViewState) -> Bool {
        guard !view.logList.filterText.isEmpty else { return false }
        view.logList.filterText = ""
        view.logList.filter = LogQuery()
        view.message = StatusMessage("filter cleared")
        return true
    }

    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        switch action {
        case .cycleLevel:
            let levels: [LogSeverity?] = [nil] + LogSeverity.allCases.dropFirst().map { $0 }
            let index = levels.firstIndex(of: view.logList.minimumSeverity) ?? 0
            view.logList.minimumSeverity = levels[(index + 1) % levels.count]
            view.message = StatusMessage(
                "level: \(view.logList.minimumSeverity.map { "\($0.name) and above" } ?? "all")")
        case .openFilter:
            view.logList.filterInput = CommandLineInput(text: view.logList.filterText)
        default:
            return nil
        }
        return []
    }

    /// A key while the filter line is open.
    static func handleFilterKey(_ key: Key, in view: inout ViewState) -> [UIEffect] {
        FilterLine.handle(key, input: &view.logList.filterInput, message: &view.message) { text in
            switch LogQuery.parse(text) {
            case .success(let query):
                view.logList.filterText = text
                view.logList.filter = query
                view.logList.selected = nil
                view.logList.isContextFilter = false
                return StatusMessage(text.isEmpty ? "filter cleared" : "filter: \(text)")
            case .failure(let error):
                return StatusMessage(error.description, isError: true)
            }
        }
        return []
    }
}

/// The records the logs screen shows: the newest `window` matching ones, oldest first.
struct LogListModel {
    let rows: [LogView]
    let selectedIndex: Int?
    /// Whether the store was read to the end for them (a filter matching little over a large
    /// store stops early).
    let isComplete: Bool
    static let window = 1000

    init(state: DashboardState, list: LogListState) {
        // A picked record stays on screen however many arrive after it: the rows are anchored
        // on it (half before, half after) until it is evicted.
        if let selected = list.selected {
            let older = state.logs.newest(matching: list.query, limit: Self.window / 2, olderThan: selected &+ 1)
            if let last = older.records.first, last.sequence == selected {
                let newer = state.logs.newer(matching: list.query, than: selected, limit: Self.window / 2)
                rows = older.records.reversed() + newer
                isComplete = older.complete
                selectedIndex = older.records.count - 1
                return
            }
        }
        let result = state.logs.newest(matching: list.query, limit: Self.window)
        rows = result.records.reversed()
        isComplete = result.complete
        selectedIndex = rows.isEmpty ? nil : rows.count - 1
    }

    var selected: LogView? { selectedIndex.map { rows[$0] } }
}
