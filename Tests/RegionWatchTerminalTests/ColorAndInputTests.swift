#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import RegionWatchTerminal

@Suite("Colours")
struct ColorTests {
    @Test func parsesNamesNumbersAndHex() {
        #expect(TerminalColor(name: "red") == .ansi(1))
        #expect(TerminalColor(name: "bright-white") == .ansi(15))
        #expect(TerminalColor(name: "Grey") == .ansi(8))
        #expect(TerminalColor(name: "default") == .default)
        #expect(TerminalColor(name: "color208") == .indexed(208))
        #expect(TerminalColor(name: "17") == .indexed(17))
        #expect(TerminalColor(name: "#1E2A44") == .rgb(0x1E, 0x2A, 0x44))
        #expect(TerminalColor(name: "#12345") == nil)
        #expect(TerminalColor(name: "color256") == nil)
        #expect(TerminalColor(name: "purple-ish") == nil)
    }

    @Test func reducesToWhatTheTerminalCanShow() {
        let orange = TerminalColor.rgb(255, 175, 0)
        #expect(ColorMapper(capability: .direct).number(for: orange) == 0xFFAF00)
        #expect(ColorMapper(capability: .indexed256).number(for: orange) == 214)
        #expect(ColorMapper(capability: .ansi16).number(for: orange) == 11)
        #expect(ColorMapper(capability: .ansi8).number(for: orange) == 3)
        #expect(ColorMapper(capability: .ansi16).number(for: .rgb(0x8A, 0x8A, 0x8A)) == 8, "greys stay grey")
        #expect(ColorMapper(capability: .ansi16).number(for: .rgb(0x5F, 0xD7, 0x87)) == 2, "a pastel green stays green")
        #expect(ColorMapper(capability: .ansi16).number(for: .rgb(0xFF, 0x5F, 0x5F)) == 9)
        #expect(ColorMapper(capability: .none).number(for: orange) == -1)
        #expect(ColorMapper(capability: .ansi8).number(for: .ansi(9)) == 1)
        #expect(ColorMapper(capability: .indexed256).number(for: .default) == -1)
        #expect(
            ColorMapper(capability: .direct).number(for: .rgb(0, 0, 3)) == 8, "direct colour values below 8 mean ANSI")
    }

    @Test func greyRampAndCubeRoundTrip() {
        for index in 16..<256 {
            let rgb = ColorPalette.rgb(ofIndexed: index)
            let nearest = ColorPalette.nearestIndexed(red: rgb.red, green: rgb.green, blue: rgb.blue)
            #expect(ColorPalette.rgb(ofIndexed: nearest) == rgb, "index \(index)")
        }
    }

    @Test func sixteenColourReductionStaysReadable() {
        // A dark green meant for a light background would become bright green (unreadable on
        // white); the mapper picks the nearest colour that keeps contrast instead.
        let mapper = ColorMapper(capability: .ansi16, background: .light)
        let pair = mapper.pair(foreground: .rgb(0x1F, 0x7A, 0x3A), background: .default)
        let shown = ColorPalette.ansiRGB[Int(pair.foreground)]
        #expect(ColorPalette.contrastRatio(shown, (255, 255, 255)) >= ColorMapper.minimumContrast)
        let onDark = ColorMapper(capability: .ansi16, background: .dark).pair(
            foreground: .rgb(0x5F, 0xD7, 0x87), background: .default)
        #expect(onDark.foreground == 2)
    }

    @Test func contrastRatio() {
        #expect(abs(ColorPalette.contrastRatio((0, 0, 0), (255, 255, 255)) - 21) < 0.01)
        #expect(ColorPalette.contrastRatio((10, 10, 10), (10, 10, 10)) == 1)
    }

    @Test func capabilityFromColourCount() {
        #expect(ColorCapability(colors: 256, hasDirectColor: false) == .indexed256)
        #expect(ColorCapability(colors: 8, hasDirectColor: false) == .ansi8)
        #expect(ColorCapability(colors: 16_777_216, hasDirectColor: false) == .direct)
        #expect(ColorCapability(colors: 256, hasDirectColor: true) == .direct)
        #expect(ColorCapability(colors: 0, hasDirectColor: false) == .none)
    }
}

@Suite("Keys and input")
struct InputTests {
    @Test func decodesCharacters() {
        #expect(Key.fromCharacter(0x71) == .character("q"))
        #expect(Key.fromCharacter(13) == .enter)
        #expect(Key.fromCharacter(10) == .enter)
        #expect(Key.fromCharacter(27) == .escape)
        #expect(Key.fromCharacter(9) == .tab)
        #expect(Key.fromCharacter(127) == .backspace)
        #expect(Key.fromCharacter(12) == .control("l"))
        #expect(Key.fromCharacter(0x65E5) == .character("日"))
        #expect(Key.fromCharacter(0xD800) == .unknown(0xD800))
        #expect(Key.control("l").description == "Ctrl-L")
    }

    @Test func decodesCursesFunctionKeys() {
        #expect(NcursesTerminal.decodeFunctionKey(0o403) == .up)
        #expect(NcursesTerminal.decodeFunctionKey(0o632) == .resize)
        #expect(NcursesTerminal.decodeFunctionKey(0o410 + 5) == .function(5))
        #expect(NcursesTerminal.decodeFunctionKey(0o541) == .backTab)
        #expect(NcursesTerminal.decodeFunctionKey(9999) == .unknown(9999))
    }

    @Test func waiterWakesTimesOutAndSeesInputAndEndOfFile() {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let waiter = InputWaiter(inputDescriptor: ends[0])
        #expect(waiter.wait(timeout: 0) == [])
        waiter.wake()
        waiter.wake()
        #expect(waiter.wait(timeout: 5) == .woken)
        #expect(waiter.wait(timeout: 0) == [], "wake-ups are drained")
        var byte: UInt8 = 0x41
        #expect(write(ends[1], &byte, 1) == 1)
        #expect(waiter.wait(timeout: 5).contains(.input))
        #expect(!waiter.inputIsAtEndOfFile())
        #expect(read(ends[0], &byte, 1) == 1)
        close(ends[1])
        let outcome = waiter.wait(timeout: 5)
        #expect(outcome.contains(.inputClosed) || (outcome.contains(.input) && waiter.inputIsAtEndOfFile()))
        close(ends[0])
    }

    @Test func unusableTerminalsAreRefusedWithoutWriting() {
        // Under `swift test` standard input is not a terminal.
        if isatty(STDIN_FILENO) == 0 {
            #expect(
                TerminalAvailability.check(environment: ["TERM": "xterm"]) == .notATerminal(stream: "standard input"))
        }
        #expect(TerminalUnavailable.termUnset.description == "TERM is not set")
        #expect(
            TerminalUnavailable.unknownTerminal("vt999").description == "terminal type 'vt999' is unknown to terminfo")
    }
}
