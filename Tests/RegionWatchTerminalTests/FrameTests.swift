import Testing
@testable import RegionWatchTerminal

@Suite("Frame and text")
struct FrameTests {
    @Test func writesAndClips() {
        var frame = Frame(size: TerminalSize(width: 10, height: 2))
        let next = frame.write("hello world", x: 2, y: 0, style: .plain)
        #expect(next == 10)
        #expect(frame.lines == ["  hello wo", ""])
        frame.write("abc", x: -1, y: 1, style: .plain)
        #expect(frame.text(ofRow: 1) == "bc")
        frame.write("zzz", x: 0, y: 5, style: .plain)
        #expect(frame.lines.count == 2)
    }

    @Test func clipRectangleLimitsWriting() {
        var frame = Frame(size: TerminalSize(width: 10, height: 1))
        frame.write("0123456789", x: 0, y: 0, style: .plain, clip: Rect(x: 2, y: 0, width: 3, height: 1))
        #expect(frame.lines == ["  234"])
    }

    @Test func wideCharactersTakeTwoCellsAndStayWhole() {
        var frame = Frame(size: TerminalSize(width: 6, height: 1))
        frame.write("a日b", x: 0, y: 0, style: .plain)
        #expect(frame.text(ofRow: 0) == "a日b")
        #expect(frame[2, 0].isContinuation)
        // Overwriting the right half blanks the left half.
        frame.write("x", x: 2, y: 0, style: .plain)
        #expect(frame.text(ofRow: 0) == "a xb")
        // A wide character that would cross the edge becomes a space.
        frame.write("東", x: 5, y: 0, style: .plain)
        #expect(frame.text(ofRow: 0, trimmingTrailingSpaces: false) == "a xb  ")
    }

    @Test func controlCharactersAreReplaced() {
        var frame = Frame(size: TerminalSize(width: 8, height: 1))
        frame.write("a\u{1B}[2Jb\tc", x: 0, y: 0, style: .plain)
        #expect(frame.text(ofRow: 0) == "a�[2Jb�c")
    }

    @Test func combiningMarksAndEmojiWidths() {
        #expect(CharacterWidth.of("e\u{301}") == 1)
        #expect(CharacterWidth.of("日本") == 4)
        #expect(CharacterWidth.of("🙂") == 2)
        #expect(CharacterWidth.of("▁▂█│╭") == 5)
        #expect(CharacterWidth.of("\u{200B}") == 0)
        #expect(CharacterWidth.of("🇫🇷") == 2)
    }

    @Test func fillAndRestyle() {
        var frame = Frame(size: TerminalSize(width: 4, height: 2))
        let red = Style(foreground: .ansi(1))
        frame.fill(Rect(x: 1, y: 0, width: 2, height: 2), character: "#", style: red)
        #expect(frame.lines == [" ##", " ##"])
        frame.restyle(Rect(x: 0, y: 0, width: 4, height: 1)) { $0.adding(.bold) }
        #expect(frame[1, 0].style == red.adding(.bold))
        #expect(frame[1, 1].style == red)
    }

    @Test func truncateFitAndWrap() {
        #expect(TextFit.truncate("abcdef", to: 4) == "abc…")
        #expect(TextFit.truncate("abc", to: 4) == "abc")
        #expect(TextFit.truncate("日本語", to: 4) == "日…")
        #expect(TextFit.fit("ab", to: 4, alignment: .right) == "  ab")
        #expect(TextFit.fit("ab", to: 5, alignment: .center) == " ab  ")
        #expect(TextFit.wrap("the quick brown fox", width: 9) == ["the quick", "brown fox"])
        #expect(TextFit.wrap("abcdefghij", width: 4) == ["abcd", "efgh", "ij"])
        #expect(TextFit.wrap("a\nb", width: 4) == ["a", "b"])
    }

    @Test func styledLinesWrapKeepingStyles() {
        let bold = Style(attributes: [.bold])
        let line = Line([Span("label  ", style: bold), Span("one two three four", style: .plain)])
        let wrapped = line.wrapped(to: 14, indent: 7)
        #expect(wrapped.map(\.text) == ["label  one two", "       three", "       four"])
        #expect(wrapped[0].spans.first?.style == bold)
        #expect(wrapped[1].spans.last?.style == .plain)
        #expect(Line("short").wrapped(to: 10) == [Line("short")])
        #expect(Line("averyveryverylongword").wrapped(to: 8).map(\.text) == ["averyver", "yverylon", "gword"])
    }
}
