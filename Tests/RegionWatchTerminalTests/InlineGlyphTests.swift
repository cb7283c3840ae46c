import Testing
@testable import RegionWatchTerminal

@Suite("Inline glyphs")
struct InlineGlyphTests {
    @Test func cellsArePlainData() {
        // What the inline glyph is for: a frame copies and frees without reference counting.
        #expect(_isPOD(Cell.self))
        #expect(_isPOD(Style.self))
    }

    @Test(arguments: ["a", " ", "~", "é", "e\u{301}", "─", "┃", "◆", "日", "🚀", "🇩🇪", "👍🏽", "👨‍👩"])
    func graphemesUpToFifteenBytesRoundTrip(_ text: String) {
        let character = Character(text)
        let glyph = InlineGlyph(character)
        #expect(glyph.character == character)
        #expect(glyph.count == text.utf8.count)
        var appended = "x"
        glyph.append(to: &appended)
        #expect(appended == "x" + text)
    }

    @Test func longerGraphemesKeepTheirLongestPrefixOfWholeScalarsWithoutADanglingJoiner() {
        // man ZWJ woman ZWJ girl ZWJ boy: 25 bytes; 👨‍👩‍👧 is 18, 👨‍👩 + ZWJ is 14.
        let family = Character("👨‍👩‍👧‍👦")
        let glyph = InlineGlyph(family)
        #expect(glyph.character == Character("👨‍👩"))
        // A letter under many combining marks keeps the letter and the marks that fit.
        let marks = Character("e" + String(repeating: "\u{301}", count: 20))
        let kept = InlineGlyph(marks)
        #expect(kept.count == 15)
        #expect(String(kept.character).unicodeScalars.first == "e")
    }

    @Test func equalGlyphsHashEqualAndDifferentOnesDiffer() {
        #expect(InlineGlyph("a") == InlineGlyph(ascii: 0x61))
        #expect(InlineGlyph("a").hashValue == InlineGlyph(ascii: 0x61).hashValue)
        #expect(InlineGlyph("a") != InlineGlyph("b"))
        #expect(InlineGlyph("日") != InlineGlyph("本"))
        #expect(InlineGlyph(" ") == .space)
    }

    @Test func framesKeepTextThroughTheInlineStorage() {
        var frame = Frame(size: TerminalSize(width: 12, height: 1))
        frame.write("a─日🚀é", x: 0, y: 0, style: .plain)
        #expect(frame.text(ofRow: 0) == "a─日🚀é")
        #expect(frame[2, 0].character == "日")
        #expect(frame[3, 0].isContinuation)
        let runs = FrameDiff.runs(from: nil, to: frame)
        #expect(runs.map(\.text).joined().hasPrefix("a─日🚀é"))
    }
}
