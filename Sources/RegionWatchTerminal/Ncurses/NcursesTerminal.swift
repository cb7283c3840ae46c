import CNcurses
#if canImport(Glibc)
import Glibc
#endif

/// The real terminal, through ncursesw. Only this type touches curses, and only from the
/// thread that created it.
public final class NcursesTerminal: TerminalBackend, KeySource {
    private var screen: OpaquePointer?
    private var window: UnsafeMutablePointer<WINDOW>?
    /// What the terminal can show after colour policy (NO_COLOR, monochrome theme) is applied.
    public private(set) var colorCapability: ColorCapability
    /// Colours the terminal itself reports, before policy.
    public let terminalColorCapability: ColorCapability
    private var mapper: ColorMapper
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private let maximumPairs: Int32
    private var isShutDown = false

    private struct PairKey: Hashable {
        var foreground: Int32
        var background: Int32
    }

    /// Starts curses on stdin/stdout. Call `TerminalAvailability.check` first.
    ///
    /// - Parameter allowColor: `false` for NO_COLOR or a monochrome theme (attributes only).
    public init(allowColor: Bool) throws {
        setlocale(LC_ALL, "")
        CrashRestore.prepare()
        guard let created = newterm(nil, rw_stdout(), rw_stdin()) else {
            throw TerminalUnavailable.unknownTerminal(getenv("TERM").map { String(cString: $0) } ?? "")
        }
        screen = created
        set_term(created)
        window = rw_stdscr()
        cbreak()
        noecho()
        nonl()
        intrflush(window, false)
        keypad(window, true)
        nodelay(window, true)
        leaveok(window, true)
        set_escdelay(25)
        curs_set(0)
        var reported = ColorCapability.none
        if has_colors() {
            start_color()
            use_default_colors()
            reported = ColorCapability(colors: Int(rw_colors()), hasDirectColor: rw_tigetflag("RGB") == 1)
        }
        terminalColorCapability = reported
        colorCapability = allowColor ? reported : .none
        mapper = ColorMapper(capability: colorCapability)
        maximumPairs = max(1, rw_color_pairs())
        CrashRestore.arm()
    }

    deinit { shutdown() }

    /// The background the current theme is designed for; foregrounds are reduced to stay
    /// readable on it. Changing it re-derives colour pairs.
    public var background: TerminalBackground {
        get { mapper.background }
        set {
            guard newValue != mapper.background else { return }
            mapper.background = newValue
            pairs = [:]
            nextPair = 1
        }
    }

    /// Leaves curses and restores the terminal. Safe to call more than once.
    public func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        if screen != nil {
            curs_set(1)
            endwin()
            delscreen(screen)
            screen = nil
            window = nil
        }
        CrashRestore.disarm()
    }

    // MARK: TerminalBackend

    public var size: TerminalSize {
        guard let window else { return TerminalSize(width: 0, height: 0) }
        return TerminalSize(width: Int(rw_getmaxx(window)), height: Int(rw_getmaxy(window)))
    }

    public func draw(_ runs: [CellRun]) {
        guard let window else { return }
        for run in runs {
            rw_set_attributes(window, attributes(for: run.style), pair(for: run.style))
            _ = mvwaddstr(window, Int32(run.y), Int32(run.x), run.text)
        }
        rw_set_attributes(window, rw_a_normal(), 0)
    }

    public func clearAll() {
        guard let window else { return }
        werase(window)
        clearok(window, true)
    }

    public func flush() {
        guard let window else { return }
        wnoutrefresh(window)
        doupdate()
    }

    // MARK: Input

    /// Reads every key waiting (non-blocking). An empty result after `poll` reported input
    /// means the input reached end of file.
    public func readKeys(limit: Int = 256) -> [Key] {
        guard let window else { return [] }
        var keys: [Key] = []
        var character: wint_t = 0
        while keys.count < limit {
            let status = wget_wch(window, &character)
            if status == ERR { break }
            if status == KEY_CODE_YES {
                keys.append(Self.decodeFunctionKey(Int32(character)))
            } else {
                keys.append(Key.fromCharacter(UInt32(character)))
            }
        }
        return keys
    }

    /// Decodes a curses function-key code.
    static func decodeFunctionKey(_ code: Int32) -> Key {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_IC: return .insert
        case KEY_BTAB: return .backTab
        case KEY_RESIZE: return .resize
        default:
            for number in 1...24 where code == rw_key_f(Int32(number)) { return .function(number) }
            return .unknown(code)
        }
    }

    // MARK: Styles

    private func attributes(for style: Style) -> attr_t {
        var result = rw_a_normal()
        let attributes = style.attributes
        if attributes.contains(.bold) { result |= rw_a_bold() }
        if attributes.contains(.dim) { result |= rw_a_dim() }
        if attributes.contains(.italic) { result |= rw_a_italic() }
        if attributes.contains(.underline) { result |= rw_a_underline() }
        if attributes.contains(.reverse) { result |= rw_a_reverse() }
        if attributes.contains(.blink) { result |= rw_a_blink() }
        return result
    }

    private func pair(for style: Style) -> Int32 {
        guard colorCapability != .none else { return 0 }
        let numbers = mapper.pair(foreground: style.foreground, background: style.background)
        let key = PairKey(foreground: numbers.foreground, background: numbers.background)
        if key.foreground == -1, key.background == -1 { return 0 }
        if let existing = pairs[key] { return existing }
        guard nextPair < maximumPairs else { return 0 }
        let number = nextPair
        guard init_extended_pair(number, key.foreground, key.background) == OK else { return 0 }
        nextPair += 1
        pairs[key] = number
        return number
    }
}
