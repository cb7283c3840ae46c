import RegionWatchCore

/// The waterfall's keys: select a span, fold and unfold subtrees, open a span's detail and
/// colour the bars by region or by service (the choice outlives the screen).
enum WaterfallKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.enter], "Enter", .open, "open the selected span's detail", .waterfall,
            hints: KeyHint.on([.waterfall], "Enter", "detail")),
        KeyBinding(
            [.left, .character("h")], "← h", .collapse, "collapse the span (or go to its parent)", .waterfall,
            hints: KeyHint.on([.waterfall], "← →", "fold")),
        KeyBinding([.right, .character("l")], "→ l", .expand, "expand the span", .waterfall),
        KeyBinding(
            [.character(" ")], "Space", .toggleCollapse, "collapse or expand the span", .waterfall,
            hints: KeyHint.on([.waterfall], "Space", "toggle")),
        KeyBinding(
            [.character("c")], "c", .toggleColoring, "colour bars by region or by service", .waterfall,
            hints: KeyHint.on([.waterfall], "c", "colour")),
        KeyBinding([.escape], "Esc", .back, "back", .waterfall, hints: KeyHint.on([.waterfall], "Esc", "back")),
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        guard let model = model(view, state), !model.visible.isEmpty else { return }
        let row = moved(model.selectedRow, by: delta, upTo: model.visible.count - 1)
        view.waterfall.selected = model.tree.nodes[model.visible[row]].span.spanID
    }

    static func open(in view: inout ViewState, state: DashboardState) {
        guard case .waterfall(let trace) = view.screen, let node = model(view, state)?.selectedNode else { return }
        view.push(.spanDetail(trace: trace, span: node.span.spanID))
        view.spanDetailScroll = 0
    }

    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        switch action {
        case .collapse, .expand, .toggleCollapse:
            fold(action, in: &view, state: state)
        case .toggleColoring:
            view.waterfall.coloring = view.waterfall.coloring == .region ? .service : .region
        case .showLogs:
            // L: the whole trace's logs.
            guard case .waterfall(let trace) = view.screen else { return nil }
            view.openLogs(LogQuery(traceID: trace), describedAs: "trace=\(trace.hex)")
        default:
            return nil
        }
        return []
    }

    private static func model(_ view: ViewState, _ state: DashboardState) -> WaterfallModel? {
        guard case .waterfall(let trace) = view.screen else { return nil }
        return WaterfallModel(state: state, trace: trace, waterfall: view.waterfall)
    }

    /// ← collapses the span, or selects its parent when there is nothing to collapse; → and
    /// Space expand (Space also collapses).
    private static func fold(_ action: UIAction, in view: inout ViewState, state: DashboardState) {
        guard let model = model(view, state), let node = model.selectedNode else { return }
        let id = node.span.spanID
        let isCollapsed = view.waterfall.collapsed.contains(id)
        switch action {
        case .expand:
            view.waterfall.collapsed.remove(id)
        case .toggleCollapse:
            if isCollapsed {
                view.waterfall.collapsed.remove(id)
            } else if !node.children.isEmpty {
                view.waterfall.collapsed.insert(id)
            }
        default:
            if !node.children.isEmpty, !isCollapsed {
                view.waterfall.collapsed.insert(id)
            } else if let parent = node.parent {
                view.waterfall.selected = model.tree.nodes[parent].span.spanID
            }
        }
    }
}
