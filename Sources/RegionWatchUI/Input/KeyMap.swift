import RegionWatchTerminal

/// What a key asks the view to do.
public enum UIAction: Equatable, Sendable {
    case moveUp, moveDown, pageUp, pageDown, first, last
    case open, back
    case nextPane, previousPane
    case toggleHelp, togglePause, openCommandLine, redraw, quit
    case showTraces, showLatencyMatrix, showLogs, showMetrics
    case cycleLevel
    case cycleSort, openFilter
    case collapse, expand, toggleCollapse, toggleColoring
    case chaosTakeDown, chaosInjectLag, chaosRecover
    case beginFailover, beginFailback, beginDrill, showAudit, acknowledgeInterrupted
    case resumeUnresolved, rollBackUnresolved
    // Modal contexts: the failover dialog, typed lines, the help overlay.
    case switchField, confirm, cancel, force
    case deleteBackward, clearLine, deleteWord, complete, historyPrevious, historyNext
    case closeHelp
}

/// Where a binding applies. Screen contexts fall back to `global` (and to `demo` while the
/// simulator runs); the modal contexts (dialog, typed line, help) take every key first and
/// fall back to nothing: a character they do not bind is typed.
public enum KeyContext: String, CaseIterable, Sendable {
    case global = "Everywhere"
    case overview = "Overview"
    case regionDetail = "Region detail"
    case traces = "Traces"
    case waterfall = "Waterfall"
    case spanDetail = "Span detail"
    case latencyMatrix = "Latency matrix"
    case audit = "Audit log"
    case logs = "Logs"
    case metrics = "Metrics"
    case failoverDialog = "Failover dialog (other characters are typed into the field)"
    case refusal = "Failover dialog, refused"
    case finishedAttempt = "Failover dialog, once the attempt ended or was refused"
    case typedLine = "Command line (:) and filters (/) (other characters are typed)"
    case help = "Help"
    case demo = "Demo only (chaos, simulator)"

    /// Whether keys fall back to the global bindings.
    var fallsBackToGlobal: Bool {
        switch self {
        case .failoverDialog, .finishedAttempt, .refusal, .typedLine, .help: false
        default: true
        }
    }
}

/// A footer hint: the key as shown, and what it does, on one screen.
public struct KeyHint: Equatable, Sendable {
    public var key: String
    public var text: String

    public init(_ key: String, _ text: String) {
        self.key = key
        self.text = text
    }
}

/// One binding: keys, the action, how help describes it, and the footer hints it gives on
/// the screens where it shows one.
public struct KeyBinding: Equatable, Sendable {
    public var keys: [Key]
    public var label: String
    public var action: UIAction
    public var description: String
    public var context: KeyContext
    /// Footer hints by the context they show on (a global binding can hint on several).
    public var hints: [KeyContext: KeyHint]

    public init(
        _ keys: [Key], _ label: String, _ action: UIAction, _ description: String, _ context: KeyContext,
        hints: [KeyContext: KeyHint] = [:]
    ) {
        self.keys = keys
        self.label = label
        self.action = action
        self.description = description
        self.context = context
        self.hints = hints
    }
}

/// The key map: the single list that dispatches keys on every screen and in every modal
/// context, and generates the help overlay and the footer hints, so help and hints always
/// match what the keys do. Conventions follow k9s, htop and btop.
public enum KeyMap {
    private static let screens: [KeyContext] = [
        .overview, .regionDetail, .traces, .waterfall, .spanDetail, .latencyMatrix, .audit, .logs, .metrics,
    ]

    private static func on(_ contexts: [KeyContext], _ key: String, _ text: String) -> [KeyContext: KeyHint] {
        KeyHint.on(contexts, key, text)
    }

    /// Every binding: the global navigation keys, each screen's own (next to its view, see
    /// `ScreenKeys`), the global actions, the failover dialog's and the typed line's and help's.
    public static let bindings: [KeyBinding] =
        navigationBindings + Screen.allKeys.flatMap { $0.bindings } + actionBindings + FailoverDialogKeys.bindings
        + lineAndHelpBindings

    private static let navigationBindings: [KeyBinding] = [
        KeyBinding([.up, .character("k")], "↑ k", .moveUp, "move up / scroll up", .global),
        KeyBinding(
            [.down, .character("j")], "↓ j", .moveDown, "move down / scroll down", .global,
            hints: on([.overview, .traces, .logs, .metrics], "↑↓", "select").merging(
                on([.regionDetail, .spanDetail, .audit], "↑↓", "scroll")
            ) { $1 }
            .merging(on([.waterfall], "↑↓", "span")) { $1 }
        ),
        KeyBinding([.pageUp, .control("b")], "PgUp", .pageUp, "page up", .global),
        KeyBinding([.pageDown, .control("f")], "PgDn", .pageDown, "page down", .global),
        KeyBinding([.home, .character("g")], "g Home", .first, "first", .global),
        KeyBinding([.end, .character("G")], "G End", .last, "last", .global),
        KeyBinding([.tab], "Tab", .nextPane, "next pane", .global),
        KeyBinding([.backTab], "Shift-Tab", .previousPane, "previous pane", .global),
        KeyBinding([.enter, .right, .character("l")], "Enter → l", .open, "open the selection", .global),
        KeyBinding(
            [.escape, .left, .character("h")], "Esc ← h", .back, "back", .global,
            hints: on([.regionDetail, .traces, .spanDetail, .latencyMatrix, .audit, .logs, .metrics], "Esc", "back")
        ),
    ]

    private static let actionBindings: [KeyBinding] = [
        KeyBinding(
            [.character("t")], "t", .showTraces, "traces", .global,
            hints: on([.overview, .regionDetail, .latencyMatrix], "t", "traces")),
        KeyBinding(
            [.character("m")], "m", .showLatencyMatrix, "cross-region latency matrix", .global,
            hints: on([.overview], "m", "latency")),
        KeyBinding(
            [.character("L")], "L", .showLogs,
            "logs (of the region, span or trace shown, from its detail or waterfall)", .global,
            hints: on([.waterfall, .spanDetail], "L", "logs")),
        KeyBinding(
            [.character("M")], "M", .showMetrics, "received OTLP metrics by region and service", .global),
        KeyBinding(
            [.character("F")], "F", .beginFailover,
            "fail over (or switch over) to the selected region: gates, typed confirmation, plan", .global,
            hints: on([.overview, .regionDetail], "F", "failover")
        ),
        KeyBinding(
            [.character("B")], "B", .beginFailback, "fail back: return the primary role to the configured primary",
            .global),
        KeyBinding(
            [.character("D")], "D", .beginDrill, "drill: rehearse a failover to the selected region (safe steps only)",
            .global),
        KeyBinding([.character("a")], "a", .showAudit, "failover audit log", .global),
        KeyBinding(
            [.character("C")], "C", .resumeUnresolved, "resume a failover that stopped half-way (its remaining steps)",
            .global),
        KeyBinding(
            [.character("U")], "U", .rollBackUnresolved, "roll back a failover that stopped half-way (undo its steps)",
            .global),
        KeyBinding(
            [.character("X")], "X", .chaosTakeDown, "take the selected region down", .demo,
            hints: on([.overview, .regionDetail], "X I R", "chaos")),
        KeyBinding([.character("I")], "I", .chaosInjectLag, "inject replication lag into the selected region", .demo),
        KeyBinding([.character("R")], "R", .chaosRecover, "recover the selected region", .demo),
        KeyBinding(
            [.character(":")], ":", .openCommandLine, "command line (:region NAME, :trace ID, :theme NAME, :q)",
            .global, hints: on([.overview], ":", "command")),
        KeyBinding(
            [.character("p")], "p", .togglePause, "pause / resume the display (collection and failover continue)",
            .global,
            hints: on([.overview, .regionDetail, .traces, .latencyMatrix], "p", "pause")),
        KeyBinding([.control("l")], "Ctrl-L", .redraw, "redraw the screen", .global),
        KeyBinding(
            [.character("?")], "?", .toggleHelp, "show or hide this help", .global, hints: on(screens, "?", "help")),
        KeyBinding(
            [.character("q")], "q", .quit, "quit (back, below the top level)", .global,
            hints: on([.overview], "q", "quit").merging(on([.regionDetail], "q", "back")) { $1 }),
    ]

    private static let lineAndHelpBindings: [KeyBinding] = [
        // The `:` command line and the `/` filter.
        KeyBinding(
            [.enter], "Enter", .confirm, "run the command / apply the filter", .typedLine,
            hints: on([.typedLine], "Enter", "run")),
        KeyBinding(
            [.escape], "Esc", .cancel, "cancel (Backspace on an empty command line too)", .typedLine,
            hints: on([.typedLine], "Esc", "cancel")),
        KeyBinding(
            [.tab], "Tab", .complete, "complete a region or theme name (command line)", .typedLine,
            hints: on([.typedLine], "Tab", "complete")),
        KeyBinding(
            [.up], "↑", .historyPrevious, "previous command (command line)", .typedLine,
            hints: on([.typedLine], "↑↓", "history")),
        KeyBinding([.down], "↓", .historyNext, "next command (command line)", .typedLine),
        KeyBinding([.backspace], "Backspace", .deleteBackward, "delete the last character", .typedLine),
        KeyBinding([.control("u")], "Ctrl-U", .clearLine, "clear the line", .typedLine),
        KeyBinding([.control("w")], "Ctrl-W", .deleteWord, "delete the last word", .typedLine),
        // The help overlay.
        KeyBinding(
            [.escape, .character("?"), .character("q"), .enter], "Esc ? q", .closeHelp, "close this help", .help,
            hints: on([.help], "Esc", "close")),
        KeyBinding(
            [.down, .character("j")], "↓ j", .moveDown, "scroll down", .help, hints: on([.help], "↑↓", "scroll")),
        KeyBinding([.up, .character("k")], "↑ k", .moveUp, "scroll up", .help),
        KeyBinding([.pageDown], "PgDn", .pageDown, "page down", .help),
        KeyBinding([.pageUp], "PgUp", .pageUp, "page up", .help),
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

    /// The binding `key` has in `context`: that context's own, else (on screens) a demo binding
    /// when `isDemo`, else the global one.
    public static func binding(for key: Key, in context: KeyContext, isDemo: Bool) -> KeyBinding? {
        if let binding = index[context]?[key] { return binding }
        guard context.fallsBackToGlobal else { return nil }
        if isDemo, let binding = index[.demo]?[key] { return binding }
        return index[.global]?[key]
    }

    /// The action bound to `key` in `context`.
    public static func action(for key: Key, in context: KeyContext, isDemo: Bool) -> UIAction? {
        binding(for: key, in: context, isDemo: isDemo)?.action
    }

    /// The hints of `context` as one line ("Tab field · Enter confirm"), those `including`
    /// accepts.
    public static func hintLine(for context: KeyContext, including: (UIAction) -> Bool = { _ in true }) -> String {
        hints(for: context, isDemo: false).filter { including($0.binding.action) }.map {
            "\($0.hint.key) \($0.hint.text)"
        }.joined(separator: " · ")
    }

    /// Whether `action` only applies to an attempt that stopped half-way (C, U): its hint is
    /// offered only when there is one.
    public static func needsUnresolvedAttempt(_ action: UIAction) -> Bool {
        action == .resumeUnresolved || action == .rollBackUnresolved
    }

    /// Whether `key` is a demo-only key.
    public static func isDemoKey(_ key: Key) -> Bool { index[.demo]?[key] != nil }

    /// The footer hints of a screen, in the key map's order: every binding that is in effect
    /// on it and hints there.
    public static func hints(for context: KeyContext, isDemo: Bool) -> [(binding: KeyBinding, hint: KeyHint)] {
        bindings.compactMap { binding in
            guard let hint = binding.hints[context], let key = binding.keys.first,
                binding.context == .demo ? isDemo : self.binding(for: key, in: context, isDemo: isDemo) == binding
            else { return nil }
            return (binding, hint)
        }
    }
}
