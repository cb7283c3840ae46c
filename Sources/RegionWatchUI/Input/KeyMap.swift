import RegionWatchTerminal

/// What a key asks the view to do.
public enum UIAction: Equatable, Sendable {
    case moveUp, moveDown, pageUp, pageDown, first, last
    case open, back
    case nextPane, previousPane
    case toggleHelp, togglePause, openCommandLine, redraw, quit
    case showTraces, showLatencyMatrix
    case cycleSort, openFilter
    case collapse, expand, toggleCollapse, toggleColoring
    case chaosTakeDown, chaosInjectLag, chaosRecover
    case beginFailover, beginFailback, beginDrill, showAudit, acknowledgeInterrupted
    case resumeUnresolved, rollBackUnresolved
}

/// Where a binding applies. `global` bindings work on every screen unless a screen binds the
/// same key.
public enum KeyContext: String, CaseIterable, Sendable {
    case global = "Everywhere"
    case overview = "Overview"
    case regionDetail = "Region detail"
    case traces = "Traces"
    case waterfall = "Waterfall"
    case spanDetail = "Span detail"
    case latencyMatrix = "Latency matrix"
    case audit = "Audit log"
    case failoverDialog = "Failover dialog"
    case demo = "Demo only (chaos, simulator)"
}

/// One binding: keys, the action, and how help describes it.
public struct KeyBinding: Equatable, Sendable {
    public var keys: [Key]
    public var label: String
    public var action: UIAction
    public var description: String
    public var context: KeyContext

    public init(_ keys: [Key], _ label: String, _ action: UIAction, _ description: String, _ context: KeyContext) {
        self.keys = keys
        self.label = label
        self.action = action
        self.description = description
        self.context = context
    }
}

/// The key map: the single list that both dispatches keys and generates the help overlay,
/// so help always shows every key. Conventions follow k9s, htop and btop.
public enum KeyMap {
    public static let bindings: [KeyBinding] = [
        KeyBinding([.up, .character("k")], "↑ k", .moveUp, "move up / scroll up", .global),
        KeyBinding([.down, .character("j")], "↓ j", .moveDown, "move down / scroll down", .global),
        KeyBinding([.pageUp, .control("b")], "PgUp", .pageUp, "page up", .global),
        KeyBinding([.pageDown, .control("f")], "PgDn", .pageDown, "page down", .global),
        KeyBinding([.home, .character("g")], "g Home", .first, "first", .global),
        KeyBinding([.end, .character("G")], "G End", .last, "last", .global),
        KeyBinding([.tab], "Tab", .nextPane, "next pane", .global),
        KeyBinding([.backTab], "Shift-Tab", .previousPane, "previous pane", .global),
        KeyBinding([.enter, .right, .character("l")], "Enter → l", .open, "open the selection", .global),
        KeyBinding([.escape, .left, .character("h")], "Esc ← h", .back, "back", .global),
        KeyBinding([.character("t")], "t", .showTraces, "traces", .global),
        KeyBinding([.character("m")], "m", .showLatencyMatrix, "cross-region latency matrix", .global),
        KeyBinding([.character(":")], ":", .openCommandLine, "command line (:region NAME, :trace ID, :theme NAME, :q)", .global),
        KeyBinding([.character("?")], "?", .toggleHelp, "show or hide this help", .global),
        KeyBinding([.character("p")], "p", .togglePause, "pause / resume the display (collection continues)", .global),
        KeyBinding([.control("l")], "Ctrl-L", .redraw, "redraw the screen", .global),
        KeyBinding([.character("q")], "q", .quit, "quit (back, below the top level)", .global),
        KeyBinding([.enter, .right, .character("l")], "Enter", .open, "open the selected region", .overview),
        KeyBinding([.tab], "Tab", .nextPane, "focus the error traces (Enter opens one)", .regionDetail),
        KeyBinding([.enter], "Enter", .open, "open the selected trace's waterfall", .traces),
        KeyBinding([.character("s")], "s", .cycleSort, "sort by time, duration, errors", .traces),
        KeyBinding([.character("/")], "/", .openFilter, "filter: words, region=, service=, error, >500ms, <2s (Esc clears)", .traces),
        KeyBinding([.enter], "Enter", .open, "open the selected span's detail", .waterfall),
        KeyBinding([.left, .character("h")], "← h", .collapse, "collapse the span (or go to its parent)", .waterfall),
        KeyBinding([.right, .character("l")], "→ l", .expand, "expand the span", .waterfall),
        KeyBinding([.character(" ")], "Space", .toggleCollapse, "collapse or expand the span", .waterfall),
        KeyBinding([.character("c")], "c", .toggleColoring, "colour bars by region or by service", .waterfall),
        KeyBinding([.escape], "Esc", .back, "back", .waterfall),
        KeyBinding([.character("F")], "F", .beginFailover, "fail over (or switch over) to the selected region: gates, typed confirmation, plan", .global),
        KeyBinding([.character("B")], "B", .beginFailback, "fail back: return the primary role to the configured primary", .global),
        KeyBinding([.character("D")], "D", .beginDrill, "drill: rehearse a failover to the selected region (safe steps only)", .global),
        KeyBinding([.character("a")], "a", .showAudit, "failover audit log", .global),
        KeyBinding([.character("C")], "C", .resumeUnresolved, "resume a failover that stopped half-way (its remaining steps)", .global),
        KeyBinding([.character("U")], "U", .rollBackUnresolved, "roll back a failover that stopped half-way (undo its steps)", .global),
        KeyBinding([.tab], "Tab", .nextPane, "switch between the name and reason fields", .failoverDialog),
        KeyBinding([.enter], "Enter", .open, "next field / confirm; acknowledge a finished attempt", .failoverDialog),
        KeyBinding([.escape], "Esc", .back, "cancel before confirmation; abort the remaining steps while running", .failoverDialog),
        KeyBinding([.character("A")], "A", .acknowledgeInterrupted, "acknowledge an interrupted failover (shown in red)", .audit),
        KeyBinding([.character("X")], "X", .chaosTakeDown, "take the selected region down", .demo),
        KeyBinding([.character("I")], "I", .chaosInjectLag, "inject replication lag into the selected region", .demo),
        KeyBinding([.character("R")], "R", .chaosRecover, "recover the selected region", .demo),
    ]

    private static let index: [KeyContext: [Key: KeyBinding]] = {
        var result: [KeyContext: [Key: KeyBinding]] = [:]
        for binding in bindings {
            for key in binding.keys where result[binding.context]?[key] == nil {
                result[binding.context, default: [:]][key] = binding
            }
        }
        return result
    }()

    /// The action bound to `key` on a screen with `context`: that screen's binding, else a
    /// demo binding (only when `isDemo`), else the global one.
    public static func action(for key: Key, in context: KeyContext, isDemo: Bool) -> UIAction? {
        if let binding = index[context]?[key] { return binding.action }
        if isDemo, let binding = index[.demo]?[key] { return binding.action }
        return index[.global]?[key]?.action
    }

    /// Whether `key` is a demo-only key.
    public static func isDemoKey(_ key: Key) -> Bool { index[.demo]?[key] != nil }
}
