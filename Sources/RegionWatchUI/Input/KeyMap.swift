import RegionWatchTerminal

/// What a key asks the view to do.
public enum UIAction: Equatable, Sendable {
    case moveUp, moveDown, pageUp, pageDown, first, last
    case open, back
    case nextPane, previousPane
    case toggleHelp, togglePause, openCommandLine, redraw, quit
    case chaosTakeDown, chaosInjectLag, chaosRecover
}

/// Groups in the help overlay.
public enum KeyGroup: String, CaseIterable, Sendable {
    case navigation = "Navigation"
    case screens = "Screens"
    case display = "Display"
    case demo = "Demo only (chaos, simulator)"
}

/// One binding: keys, the action, and how help describes it.
public struct KeyBinding: Equatable, Sendable {
    public var keys: [Key]
    public var label: String
    public var action: UIAction
    public var description: String
    public var group: KeyGroup

    public init(_ keys: [Key], _ label: String, _ action: UIAction, _ description: String, _ group: KeyGroup) {
        self.keys = keys
        self.label = label
        self.action = action
        self.description = description
        self.group = group
    }
}

/// The key map: the single list that both dispatches keys and generates the help overlay,
/// so help always shows every key. Conventions follow k9s, htop and btop.
public enum KeyMap {
    public static let bindings: [KeyBinding] = [
        KeyBinding([.up, .character("k")], "↑ k", .moveUp, "move up / scroll up", .navigation),
        KeyBinding([.down, .character("j")], "↓ j", .moveDown, "move down / scroll down", .navigation),
        KeyBinding([.pageUp, .control("b")], "PgUp", .pageUp, "page up", .navigation),
        KeyBinding([.pageDown, .control("f")], "PgDn", .pageDown, "page down", .navigation),
        KeyBinding([.home, .character("g")], "g Home", .first, "first", .navigation),
        KeyBinding([.end, .character("G")], "G End", .last, "last", .navigation),
        KeyBinding([.tab], "Tab", .nextPane, "next pane", .navigation),
        KeyBinding([.backTab], "Shift-Tab", .previousPane, "previous pane", .navigation),
        KeyBinding([.enter, .right, .character("l")], "Enter → l", .open, "open the selected region", .screens),
        KeyBinding([.escape, .left, .character("h")], "Esc ← h", .back, "back", .screens),
        KeyBinding([.character(":")], ":", .openCommandLine, "command line (:region NAME, :theme NAME, :q)", .screens),
        KeyBinding([.character("?")], "?", .toggleHelp, "show or hide this help", .screens),
        KeyBinding([.character("q")], "q", .quit, "quit (back, below the top level)", .screens),
        KeyBinding([.character("p")], "p", .togglePause, "pause / resume the display (collection continues)", .display),
        KeyBinding([.control("l")], "Ctrl-L", .redraw, "redraw the screen", .display),
        KeyBinding([.character("X")], "X", .chaosTakeDown, "take the selected region down", .demo),
        KeyBinding([.character("I")], "I", .chaosInjectLag, "inject replication lag into the selected region", .demo),
        KeyBinding([.character("R")], "R", .chaosRecover, "recover the selected region", .demo),
    ]

    private static let index: [Key: KeyBinding] = {
        var result: [Key: KeyBinding] = [:]
        for binding in bindings {
            for key in binding.keys where result[key] == nil { result[key] = binding }
        }
        return result
    }()

    /// The action bound to `key`; demo-only actions only when `isDemo`.
    public static func action(for key: Key, isDemo: Bool) -> UIAction? {
        guard let binding = index[key] else { return nil }
        if binding.group == .demo, !isDemo { return nil }
        return binding.action
    }
}
