import RegionWatchCore

/// The traces screen's rows: the store's traces, filtered and sorted as the view asks. Rows are
/// light entries; summaries (with their strings) are built only for rows that show.
struct TraceListModel {
    let rows: [TraceListEntry]
    /// Position of the selected trace (the first row when the selection is gone).
    let selectedIndex: Int?

    init(state: DashboardState, list: TraceListState) {
        rows = list.sort.sorted(state.traces.listing(matching: list.filter))
        if rows.isEmpty {
            selectedIndex = nil
        } else if let selected = list.selected, let index = rows.firstIndex(where: { $0.traceID == selected }) {
            selectedIndex = index
        } else {
            selectedIndex = 0
        }
    }

    var selected: TraceListEntry? { selectedIndex.map { rows[$0] } }
}

/// The waterfall of one trace: its tree and which nodes show.
struct WaterfallModel {
    let snapshot: TraceSnapshot
    let tree: TraceTree
    /// Node indices shown, in order.
    let visible: [Int]
    /// Position in `visible` of the selected span.
    let selectedRow: Int

    init?(state: DashboardState, trace: TraceID, waterfall: WaterfallState) {
        guard let snapshot = state.traces.trace(trace) else { return nil }
        self.snapshot = snapshot
        let tree = TraceTree(spans: snapshot.spans)
        let visible = tree.visibleNodes(collapsed: waterfall.collapsed)
        self.tree = tree
        self.visible = visible
        if let selected = waterfall.selected,
            let row = visible.firstIndex(where: { tree.nodes[$0].span.spanID == selected })
        {
            selectedRow = row
        } else {
            selectedRow = 0
        }
    }

    var selectedNode: TraceTree.Node? {
        visible.indices.contains(selectedRow) ? tree.nodes[visible[selectedRow]] : nil
    }
}

/// Recent error traces that touch a region, newest first.
enum RegionErrorTraces {
    static let limit = 8

    static func traces(in state: DashboardState, region: String) -> [TraceSummary] {
        var query = TraceQuery()
        query.region = region
        query.errorsOnly = true
        return TraceSortOrder.time.sorted(state.traces.listing(matching: query)).prefix(limit).compactMap {
            state.traces.summary(of: $0.traceID)
        }
    }
}
