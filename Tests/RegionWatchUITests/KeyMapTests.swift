import Testing
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// One key map dispatches every context and generates help, footer hints and the dialog's
/// note: nothing the keys do is missing from help, and no hint names a key that does
/// something else.
@Suite("One key map")
struct KeyMapTests {
    let state = SeededState.demo(seconds: 5)

    func helpText(_ view: ViewState) -> String {
        HelpOverlay(context: ScreenContext(state: state, view: view, theme: .fallback)).lines().map(\.text).joined(
            separator: "\n")
    }

    @Test func helpListsTheDialogForceAndLineEditingKeys() {
        let text = helpText(SeededState.view())
        for expected in [
            "Failover dialog", "force the refusing gates", "switch between the name and reason fields",
            "Command line (:)",
            "Ctrl-U", "clear the line", "Ctrl-W", "previous command", "complete a region or theme name",
            "close this help",
        ] {
            #expect(text.contains(expected), "help lists \(expected)")
        }
        // Every binding of every context is in help, with its keys.
        for binding in KeyMap.bindings {
            #expect(text.contains(binding.description), "help shows \(binding.label) in \(binding.context)")
        }
    }

    @Test func everyFooterHintNamesTheKeyThatDoesIt() {
        let screens: [KeyContext] = [
            .overview, .regionDetail, .traces, .waterfall, .spanDetail, .latencyMatrix, .audit,
        ]
        for context in screens + [.failoverDialog, .finishedAttempt, .typedLine] {
            let hints = KeyMap.hints(for: context, isDemo: true)
            #expect(!hints.isEmpty, "\(context) has hints")
            for (binding, _) in hints where binding.context != .demo {
                #expect(
                    KeyMap.binding(for: binding.keys[0], in: context, isDemo: true) == binding,
                    "\(binding.label) on \(context)")
            }
        }
        #expect(
            KeyMap.hints(for: .overview, isDemo: false).allSatisfy { $0.binding.context != .demo },
            "no chaos hint outside the demo")
    }

    @Test func eachScreensBindingsComeFromTheKeysNextToItsView() {
        let screens: [Screen] = [
            .overview, .regionDetail(region: "a"), .traces, .waterfall(trace: TraceID(high: 0, low: 1)),
            .spanDetail(trace: TraceID(high: 0, low: 1), span: SpanID(1)), .latencyMatrix, .audit, .logs, .metrics,
        ]
        #expect(screens.count == Screen.allKeys.count)
        for screen in screens {
            let own = screen.keys.bindings
            #expect(own.allSatisfy { $0.context == screen.keyContext }, "\(screen) binds only its own context")
            #expect(
                KeyMap.bindings.filter { $0.context == screen.keyContext } == own,
                "the key map's \(screen.keyContext.rawValue) bindings are the screen's own")
        }
    }

    @Test func screenActionsActOnlyOnTheirScreen() {
        let state = DashboardState(topology: .demo, now: Timestamp(secondsSinceEpoch: 1_000))
        var view = ViewState(isDemo: true, themeName: "default", availableThemes: ["default"])
        let before = view
        // `s` sorts the trace list and `c` colours the waterfall: on the overview they do nothing.
        #expect(view.perform(.cycleSort, state: state).isEmpty)
        #expect(view.perform(.toggleColoring, state: state).isEmpty)
        #expect(view == before)
        _ = view.perform(.showTraces, state: state)
        _ = view.perform(.cycleSort, state: state)
        #expect(view.traceList.sort != before.traceList.sort)
    }

    @Test func modalContextsDoNotFallBackToScreenKeys() {
        #expect(
            KeyMap.action(for: .character("q"), in: .typedLine, isDemo: false) == nil, "q is typed on the command line")
        #expect(KeyMap.action(for: .character("F"), in: .failoverDialog, isDemo: true) == nil)
        #expect(KeyMap.action(for: .character("f"), in: .refusal, isDemo: false) == .force)
        #expect(KeyMap.action(for: .control("u"), in: .typedLine, isDemo: false) == .clearLine)
    }

    /// Defect: an applied filter replaced the trace list's key hints with its message.
    @Test func anAppliedFilterKeepsTheTraceListHints() {
        let traced = TraceScreenTests.state
        var view = SeededState.view()
        _ = view.handle(.character("t"), state: traced)
        _ = view.handle(.character("/"), state: traced)
        for character in "error" { _ = view.handle(.character(character), state: traced) }
        _ = view.handle(.enter, state: traced)
        let frame = DashboardView.render(
            state: traced, view: view, size: TerminalSize(width: 120, height: 40), theme: .fallback)
        let footer = frame.text(ofRow: 39)
        #expect(footer.contains("filter: error"), "\(footer)")
        #expect(footer.contains("Enter waterfall") && footer.contains("Esc clear filter"), "\(footer)")
    }

    @Test func theDialogFieldsUseTheLineEditingKeys() {
        var view = SeededState.view()
        let screens = FailoverScreenTests()
        let awaiting = screens.state { request in
            [
                .start(request, at: SeededState.start),
                .gatesEvaluated(screens.gates(SeededState.demo(seconds: 8)), dataLoss: .unknown, at: SeededState.start),
            ]
        }
        for character in "eu-west" { _ = view.handle(.character(character), state: awaiting) }
        #expect(view.failoverInput.target == "eu-west")
        _ = view.handle(.control("u"), state: awaiting)
        #expect(view.failoverInput.target == "", "Ctrl-U clears the field, as help says")
        _ = view.handle(.character("q"), state: awaiting)
        #expect(view.failoverInput.target == "q", "q is typed, not quit")
    }

    @Test func theDialogNoteComesFromTheKeyMap() {
        #expect(KeyMap.hintLine(for: .failoverDialog) == "Tab field · Enter confirm · Esc cancel")
        #expect(KeyMap.hintLine(for: .finishedAttempt) == "Enter Esc close · C resume · U roll back")
    }

    /// Review finding: with the dialog or help open, the footer offered the screen's keys
    /// (q, F, p), which would be typed into the field or ignored.
    @Test func theFooterOffersTheKeysOfWhatIsOpen() {
        let screens = FailoverScreenTests()
        let awaiting = screens.state { request in
            [
                .start(request, at: SeededState.start),
                .gatesEvaluated(screens.gates(SeededState.demo(seconds: 8)), dataLoss: .unknown, at: SeededState.start),
            ]
        }
        let size = TerminalSize(width: 120, height: 40)
        let dialogFooter = DashboardView.render(state: awaiting, view: SeededState.view(), size: size, theme: .fallback)
            .text(ofRow: 39)
        #expect(dialogFooter.contains("Tab field") && dialogFooter.contains("Esc cancel"), "\(dialogFooter)")
        #expect(!dialogFooter.contains("F failover") && !dialogFooter.contains("q quit"), "\(dialogFooter)")
        var help = SeededState.view()
        _ = help.handle(.character("?"), state: state)
        let helpFooter = DashboardView.render(state: state, view: help, size: size, theme: .fallback).text(ofRow: 39)
        #expect(helpFooter.contains("Esc close") && !helpFooter.contains("t traces"), "\(helpFooter)")
    }
}
