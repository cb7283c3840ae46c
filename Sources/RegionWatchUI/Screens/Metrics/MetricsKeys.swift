import RegionWatchCore
import RegionWatchTerminal

/// The metrics screen's keys: select a series (its chart shows below) and the `/` filter.
enum MetricsKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.character("/")], "/", .openFilter, "filter: words in region, service, metric or attributes (Esc clears)",
            .metrics, hints: KeyHint.on([.metrics], "/", "filter"))
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        let model = MetricListModel(state: state, list: view.metricList)
        guard let current = model.selectedIndex else { return }
        view.metricList.selected = model.rows[moved(current, by: delta, upTo: model.rows.count - 1)].key
    }

    static func back(in view: inout ViewState) -> Bool {
        guard !view.metricList.filterText.isEmpty else { return false }
        view.metricList.filterText = ""
        view.message = StatusMessage("filter cleared")
        return true
    }

    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        guard action == .openFilter else { return nil }
        view.metricList.filterInput = CommandLineInput(text: view.metricList.filterText)
        return []
    }

    static func handleFilterKey(_ key: Key, in view: inout ViewState) -> [UIEffect] {
        FilterLine.handle(key, input: &view.metricList.filterInput, message: &view.message) { text in
            view.metricList.filterText = text
            return StatusMessage(text.isEmpty ? "filter cleared" : "filter: \(text)")
        }
        return []
    }
}

/// The series the metrics screen lists: by region, service, metric and attributes, those
/// containing every filter word.
struct MetricListModel {
    let rows: [MetricCatalog.Series]
    let selectedIndex: Int?

    init(state: DashboardState, list: MetricListState) {
        let words = list.filterText.lowercased().split(separator: " ").map(String.init)
        rows = state.metrics.sortedSeries.filter { series in
            let text = [series.latest.region, series.latest.service, series.latest.metric, series.latest.attributes]
                .joined(separator: " ").lowercased()
            return words.allSatisfy { text.contains($0) }
        }
        if rows.isEmpty {
            selectedIndex = nil
        } else if let selected = list.selected, let index = rows.firstIndex(where: { $0.key == selected }) {
            selectedIndex = index
        } else {
            selectedIndex = 0
        }
    }

    var selected: MetricCatalog.Series? { selectedIndex.map { rows[$0] } }
}
