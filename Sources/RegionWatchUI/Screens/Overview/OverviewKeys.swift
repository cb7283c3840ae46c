import RegionWatchCore

/// The overview's keys: a region is selected and opened; Tab moves between the regions,
/// replication and events panes, and the arrows then scroll the focused pane.
enum OverviewKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.enter, .right, .character("l")], "Enter", .open, "open the selected region", .overview,
            hints: KeyHint.on([.overview], "Enter", "open")),
        KeyBinding(
            [.tab], "Tab", .nextPane, "next pane: regions, replication, events", .overview,
            hints: KeyHint.on([.overview], "Tab", "pane")),
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        switch view.focusedPane {
        case .regions: view.selectedRegion = moved(view.selectedRegion, by: delta, upTo: state.regions.count - 1)
        case .replication: view.replicationScroll = moved(view.replicationScroll, by: delta, upTo: 500)
        case .events: view.eventsScroll = moved(view.eventsScroll, by: delta, upTo: 500)
        }
    }

    static func switchPane(forward: Bool, in view: inout ViewState) {
        // The compact layout has no replication panel: Tab never focuses what is not drawn.
        let panes: [OverviewPane] = view.layout == .compact ? [.regions, .events] : OverviewPane.allCases
        let current = panes.firstIndex(of: view.focusedPane) ?? 0
        view.focusedPane = panes[(current + (forward ? 1 : panes.count - 1)) % panes.count]
    }

    static func open(in view: inout ViewState, state: DashboardState) {
        guard view.focusedPane == .regions, state.regions.indices.contains(view.selectedRegion) else { return }
        view.push(.regionDetail(region: state.regions[view.selectedRegion].name))
        view.detailScroll = 0
        view.detailPane = .facts
        view.selectedErrorTrace = 0
    }
}
