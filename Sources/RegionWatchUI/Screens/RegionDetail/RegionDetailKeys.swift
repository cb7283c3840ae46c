import RegionWatchCore

/// The region detail's keys: the arrows scroll the facts, or, once Tab focused them, select
/// among the region's error traces, which Enter opens; L shows the region's logs.
enum RegionDetailKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.tab], "Tab", .nextPane, "focus the error traces (Enter opens one)", .regionDetail,
            hints: KeyHint.on([.regionDetail], "Tab", "error traces"))
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        guard case .regionDetail(let region) = view.screen else { return }
        if view.detailPane == .errorTraces {
            let count = RegionErrorTraces.traces(in: state, region: region).count
            view.selectedErrorTrace = moved(view.selectedErrorTrace, by: delta, upTo: count - 1)
        } else {
            view.detailScroll = moved(view.detailScroll, by: delta, upTo: 500)
        }
    }

    static func switchPane(forward: Bool, in view: inout ViewState) {
        view.detailPane = view.detailPane == .facts ? .errorTraces : .facts
    }

    static func open(in view: inout ViewState, state: DashboardState) {
        guard case .regionDetail(let region) = view.screen else { return }
        let traces = RegionErrorTraces.traces(in: state, region: region)
        guard view.detailPane == .errorTraces, traces.indices.contains(view.selectedErrorTrace) else {
            view.message = StatusMessage(
                traces.isEmpty ? "no error traces for \(region) yet" : "Tab focuses the error traces; Enter opens one")
            return
        }
        view.openWaterfall(traces[view.selectedErrorTrace].traceID)
    }

    /// L: the region's logs.
    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        guard action == .showLogs, case .regionDetail(let region) = view.screen else { return nil }
        view.openLogs(LogQuery(region: region), describedAs: "region=\(region)")
        return []
    }
}
