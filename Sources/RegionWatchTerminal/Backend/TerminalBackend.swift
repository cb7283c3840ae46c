/// Where frames end up. A backend receives only the cells that changed since the last frame.
public protocol TerminalBackend: AnyObject {
    /// The terminal's current size.
    var size: TerminalSize { get }
    /// Draws runs of cells (not yet visible until `flush`).
    func draw(_ runs: [CellRun])
    /// Forgets what is on screen so the next draw repaints everything (after a resize).
    func clearAll()
    /// Makes everything drawn so far visible.
    func flush()
    /// The background the current theme is designed for (colours are reduced to stay readable
    /// on it).
    var background: TerminalBackground { get set }
}

/// Where keys come from: the terminal, or a test's script.
public protocol KeySource: AnyObject {
    /// Every key waiting, without blocking.
    func readKeys(limit: Int) -> [Key]
}

/// Presents frames on a backend, sending only what changed since the previous frame.
public final class TerminalRenderer {
    public let backend: TerminalBackend
    private var previous: Frame?
    /// Runs sent by the last `present`, for statistics and tests.
    public private(set) var lastRunCount = 0
    /// Frames presented since start.
    public private(set) var framesPresented = 0

    public init(backend: TerminalBackend) {
        self.backend = backend
    }

    /// Draws `frame`, sending the difference from the previous one.
    public func present(_ frame: Frame) {
        if let previous, previous.size != frame.size { backend.clearAll() }
        let runs = FrameDiff.runs(from: previous, to: frame)
        lastRunCount = runs.count
        if !runs.isEmpty { backend.draw(runs) }
        backend.flush()
        previous = frame
        framesPresented += 1
    }

    /// Forces the next `present` to repaint everything (after the screen was disturbed).
    public func invalidate() {
        previous = nil
        backend.clearAll()
    }
}

/// A backend that keeps the screen in memory; for tests.
public final class InMemoryBackend: TerminalBackend {
    public var size: TerminalSize {
        didSet { screen = Frame(size: size) }
    }
    /// What a person would see.
    public private(set) var screen: Frame
    /// Every batch of runs received, newest last.
    public private(set) var drawCalls: [[CellRun]] = []
    public private(set) var flushCount = 0
    public private(set) var clearCount = 0
    public var background = TerminalBackground.dark

    public init(size: TerminalSize) {
        self.size = size
        screen = Frame(size: size)
    }

    public func draw(_ runs: [CellRun]) {
        drawCalls.append(runs)
        for run in runs {
            screen.write(run.text, x: run.x, y: run.y, style: run.style)
        }
    }

    public func clearAll() {
        clearCount += 1
        screen = Frame(size: size)
    }

    public func flush() {
        flushCount += 1
    }
}
