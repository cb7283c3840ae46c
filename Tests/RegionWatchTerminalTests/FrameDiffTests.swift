import Testing
@testable import RegionWatchTerminal

@Suite("Frame diff and renderer")
struct FrameDiffTests {
    let size = TerminalSize(width: 12, height: 3)

    @Test func identicalFramesSendNothing() {
        var frame = Frame(size: size)
        frame.write("same", x: 0, y: 0, style: .plain)
        #expect(FrameDiff.runs(from: frame, to: frame).isEmpty)
    }

    @Test func firstFrameSendsEveryCellInStyleRuns() {
        var frame = Frame(size: TerminalSize(width: 4, height: 1))
        frame.write("ab", x: 0, y: 0, style: Style(attributes: [.bold]))
        let runs = FrameDiff.runs(from: nil, to: frame)
        #expect(
            runs == [
                CellRun(x: 0, y: 0, text: "ab", width: 2, style: Style(attributes: [.bold])),
                CellRun(x: 2, y: 0, text: "  ", width: 2, style: .plain),
            ])
    }

    @Test func onlyChangedCellsAreSent() {
        var old = Frame(size: size)
        old.write("hello world", x: 0, y: 1, style: .plain)
        var new = old
        new.write("W", x: 6, y: 1, style: .plain)
        #expect(FrameDiff.runs(from: old, to: new) == [CellRun(x: 6, y: 1, text: "W", width: 1, style: .plain)])
    }

    @Test func styleChangesSplitRuns() {
        let old = Frame(size: size)
        var new = old
        new.write("ab", x: 0, y: 0, style: Style(foreground: .ansi(1)))
        new.write("cd", x: 2, y: 0, style: Style(foreground: .ansi(2)))
        #expect(FrameDiff.runs(from: old, to: new).map(\.text) == ["ab", "cd"])
    }

    @Test func wideCharacterChangesIncludeBothHalves() {
        var old = Frame(size: size)
        old.write("日", x: 2, y: 0, style: .plain)
        var new = old
        new.write("x", x: 3, y: 0, style: .plain)
        let runs = FrameDiff.runs(from: old, to: new)
        #expect(runs == [CellRun(x: 2, y: 0, text: " x", width: 2, style: .plain)])
    }

    @Test func resizedFrameIsSentWhole() {
        let old = Frame(size: size)
        let new = Frame(size: TerminalSize(width: 5, height: 1))
        #expect(FrameDiff.runs(from: old, to: new).reduce(0) { $0 + $1.width } == 5)
    }

    /// Property: replaying diffs of random frames on an in-memory terminal always yields the
    /// last frame exactly.
    @Test func replayingDiffsReproducesEveryFrame() {
        var random = SplitMix(seed: 99)
        let alphabet: [Character] = ["a", "b", " ", "日", "─", "█", "é"]
        let styles = [
            Style.plain, Style(foreground: .ansi(1)), Style(attributes: [.bold]), Style(background: .indexed(236)),
        ]
        let backend = InMemoryBackend(size: size)
        let renderer = TerminalRenderer(backend: backend)
        for _ in 0..<300 {
            var frame = Frame(size: size)
            for _ in 0..<random.below(12) {
                let text = String((0..<random.below(6)).map { _ in alphabet[random.below(alphabet.count)] })
                frame.write(
                    text, x: random.below(size.width), y: random.below(size.height),
                    style: styles[random.below(styles.count)])
            }
            renderer.present(frame)
            #expect(backend.screen.lines == frame.lines)
            #expect(backend.screen.cells.map(\.style) == frame.cells.map(\.style))
            #expect(backend.screen.cells.map(\.isContinuation) == frame.cells.map(\.isContinuation))
        }
    }

    @Test func rendererClearsOnResizeAndInvalidate() {
        let backend = InMemoryBackend(size: size)
        let renderer = TerminalRenderer(backend: backend)
        var frame = Frame(size: size)
        frame.write("x", x: 0, y: 0, style: .plain)
        renderer.present(frame)
        renderer.present(frame)
        #expect(renderer.lastRunCount == 0)
        renderer.invalidate()
        renderer.present(frame)
        #expect(renderer.lastRunCount > 0)
        #expect(backend.clearCount == 1)
        backend.size = TerminalSize(width: 4, height: 1)
        renderer.present(Frame(size: backend.size))
        #expect(backend.clearCount == 2)
        #expect(renderer.framesPresented == 4)
    }
}

/// A tiny deterministic generator for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
}
