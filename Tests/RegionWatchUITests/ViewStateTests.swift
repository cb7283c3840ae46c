import Testing
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

@Suite("View state and keys")
struct ViewStateTests {
    let state = SeededState.demo(seconds: 3)

    @Test func navigationClampsAndOpensAndBacksOut() {
        var view = SeededState.view()
        _ = view.handle(.up, state: state)
        #expect(view.selectedRegion == 0)
        _ = view.handle(.character("j"), state: state)
        _ = view.handle(.down, state: state)
        _ = view.handle(.down, state: state)
        #expect(view.selectedRegion == 2)
        _ = view.handle(.character("g"), state: state)
        #expect(view.selectedRegion == 0)
        _ = view.handle(.end, state: state)
        #expect(view.selectedRegion == 2)
        _ = view.handle(.enter, state: state)
        #expect(view.screen == .regionDetail(region: "ap-southeast-1"))
        _ = view.handle(.escape, state: state)
        #expect(view.screen == .overview)
        _ = view.handle(.character("l"), state: state)
        _ = view.handle(.character("h"), state: state)
        #expect(view.screen == .overview)
    }

    @Test func qBacksOutBelowTopLevelAndQuitsAtTop() {
        var view = SeededState.view()
        _ = view.handle(.enter, state: state)
        #expect(view.handle(.character("q"), state: state).isEmpty)
        #expect(view.screen == .overview)
        #expect(view.handle(.character("q"), state: state) == [.quit])
    }

    @Test func tabCyclesPanesAndArrowsScrollTheFocusedOne() {
        var view = SeededState.view()
        _ = view.handle(.tab, state: state)
        #expect(view.focusedPane == .replication)
        _ = view.handle(.tab, state: state)
        #expect(view.focusedPane == .events)
        _ = view.handle(.down, state: state)
        #expect(view.eventsScroll == 1 && view.selectedRegion == 0)
        _ = view.handle(.backTab, state: state)
        _ = view.handle(.backTab, state: state)
        #expect(view.focusedPane == .regions)
        _ = view.handle(.tab, state: state)
        _ = view.handle(.enter, state: state)
        #expect(view.screen == .overview, "Enter opens regions only from the regions pane")
    }

    @Test func helpOverlayCapturesKeysUntilClosed() {
        var view = SeededState.view()
        _ = view.handle(.character("?"), state: state)
        #expect(view.isHelpVisible)
        #expect(view.handle(.character("q"), state: state).isEmpty, "q closes help, not the program")
        #expect(!view.isHelpVisible)
        _ = view.handle(.character("?"), state: state)
        _ = view.handle(.down, state: state)
        #expect(view.helpScroll == 1)
        _ = view.handle(.escape, state: state)
        #expect(!view.isHelpVisible && view.screen == .overview)
    }

    @Test func pauseTogglesWithAnEffectAndAMessage() {
        var view = SeededState.view()
        #expect(view.handle(.character("p"), state: state) == [.pauseChanged(true)])
        #expect(view.isPaused && view.message?.text.contains("paused") == true)
        #expect(view.handle(.character("p"), state: state) == [.pauseChanged(false)])
    }

    @Test func chaosKeysOnlyInTheDemoAndOnTheSelectedRegion() {
        var demo = SeededState.view()
        _ = demo.handle(.down, state: state)
        #expect(
            demo.handle(.character("X"), state: state) == [.chaos(ChaosRequest(kind: .takeDown, region: "eu-west-1"))])
        #expect(
            demo.handle(.character("I"), state: state) == [.chaos(ChaosRequest(kind: .injectLag, region: "eu-west-1"))])
        #expect(
            demo.handle(.character("R"), state: state) == [.chaos(ChaosRequest(kind: .recover, region: "eu-west-1"))])
        var real = SeededState.view(demo: false)
        #expect(real.handle(.character("X"), state: state).isEmpty)
        #expect(real.message?.isError == true)
    }

    @Test func resizeAndCtrlLRedraw() {
        var view = SeededState.view()
        #expect(view.handle(.resize, state: state) == [.redraw])
        #expect(view.handle(.control("l"), state: state) == [.redraw])
    }

    @Test func commandLineEditsHistoryAndCompletion() {
        var view = SeededState.view()
        _ = view.handle(.character(":"), state: state)
        for character in "reg ap" { _ = view.handle(.character(character), state: state) }
        _ = view.handle(.tab, state: state)
        #expect(view.commandLine?.text == "reg ap")
        view.commandLine?.text = "region ap"
        _ = view.handle(.tab, state: state)
        #expect(view.commandLine?.text == "region ap-southeast-1")
        _ = view.handle(.enter, state: state)
        #expect(view.commandLine == nil)
        #expect(view.screen == .regionDetail(region: "ap-southeast-1"))
        #expect(view.selectedRegion == 2)
        _ = view.handle(.character(":"), state: state)
        _ = view.handle(.up, state: state)
        #expect(view.commandLine?.text == "region ap-southeast-1")
        _ = view.handle(.down, state: state)
        #expect(view.commandLine?.text == "")
        _ = view.handle(.backspace, state: state)
        #expect(view.commandLine == nil, "backspace on an empty line closes it")
    }

    @Test func commands() {
        var view = SeededState.view()
        #expect(view.execute("theme light", state: state) == [.switchTheme("light")])
        #expect(view.execute("q", state: state) == [.quit])
        _ = view.execute("region eu", state: state)
        #expect(view.screen == .regionDetail(region: "eu-west-1"))
        _ = view.execute("overview", state: state)
        #expect(view.screen == .overview)
        _ = view.execute("region us-", state: state)
        #expect(view.screen == .regionDetail(region: "us-east-1"))
        _ = view.execute("region -1", state: state)
        #expect(
            view.message == StatusMessage("'-1' matches us-east-1, eu-west-1, ap-southeast-1; type more", isError: true)
        )
        _ = view.execute("region east", state: state)
        #expect(view.message == StatusMessage("'east' matches us-east-1, ap-southeast-1; type more", isError: true))
        _ = view.execute("region mars", state: state)
        #expect(view.message == StatusMessage("no region matches 'mars'", isError: true))
        #expect(view.execute("pause", state: state) == [.pauseChanged(true)])
        #expect(view.execute("pause", state: state).isEmpty)
        #expect(view.execute("resume", state: state) == [.pauseChanged(false)])
        _ = view.execute("help", state: state)
        #expect(view.isHelpVisible)
    }

    @Test func commandParser() throws {
        #expect(try CommandParser.parse("region  eu-west-1").get() == .region("eu-west-1"))
        #expect(try CommandParser.parse("r eu").get() == .region("eu"))
        #expect(throws: CommandError.self) { try CommandParser.parse("region").get() }
        #expect(throws: CommandError.self) { try CommandParser.parse("   ").get() }
        #expect(throws: CommandError.self) { try CommandParser.parse("theme").get() }
        #expect(CommandParser.complete("th", regions: [], themes: []) == "theme ")
        #expect(
            CommandParser.complete("theme hi", regions: [], themes: ["default", "high-contrast"])
                == "theme high-contrast")
        #expect(CommandParser.complete("region ", regions: ["eu-a", "eu-b"], themes: []) == "region eu-")
        #expect(CommandParser.complete("zzz x", regions: ["a"], themes: []) == "zzz x")
    }

    @Test func keyMapHasNoConflictsWithinAContext() {
        var seen: [KeyContext: [Key: UIAction]] = [:]
        for binding in KeyMap.bindings {
            for key in binding.keys {
                #expect(seen[binding.context]?[key] == nil, "\(key) bound twice in \(binding.context)")
                seen[binding.context, default: [:]][key] = binding.action
            }
        }
        #expect(KeyMap.action(for: .character("X"), in: .overview, isDemo: false) == nil)
        #expect(KeyMap.action(for: .character("X"), in: .overview, isDemo: true) == .chaosTakeDown)
        #expect(KeyMap.action(for: .character("z"), in: .overview, isDemo: true) == nil)
        #expect(KeyMap.action(for: .character("h"), in: .overview, isDemo: false) == .back)
        #expect(
            KeyMap.action(for: .character("h"), in: .waterfall, isDemo: false) == .collapse,
            "screens override global keys")
        #expect(KeyMap.action(for: .character("s"), in: .traces, isDemo: false) == .cycleSort)
        #expect(KeyMap.action(for: .character("s"), in: .overview, isDemo: false) == nil)
    }
}
