import Testing
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// The application model: one message type, a pure update, pause as a display source.
@Suite("Application model")
struct AppModelTests {
    /// The demo's rounds, one per second, with the primary taken down at `downAt`.
    static func rounds(seconds: Int, downAt: Int) -> [[DashboardEvent]] {
        var rounds: [[DashboardEvent]] = []
        _ = DemoSimulation.replay(
            settings: SimulatorSettings(seed: 42), start: SeededState.start, seconds: seconds,
            commands: [downAt: .takeDown(region: "us-east-1")]
        ) { rounds.append($0) }
        return rounds
    }

    func feed(_ rounds: ArraySlice<[DashboardEvent]>, to model: inout AppModel, from second: Int) {
        for (offset, round) in rounds.enumerated() {
            _ = model.update(.collected(round))
            _ = model.update(
                .tick(
                    SeededState.start.adding(seconds: Double(second + offset)),
                    BusStatistics(droppedEvents: 0, publishedEvents: 0)))
        }
    }

    @Test func pauseFreezesWhatIsShownWhileTheLiveStateMovesOn() {
        let rounds = Self.rounds(seconds: 20, downAt: 1_000)
        var model = AppModel(
            state: DashboardState(topology: .demo, now: SeededState.start), view: SeededState.view(), theme: .fallback)
        feed(rounds[0...8], to: &model, from: 0)
        #expect(model.update(.key(.character("p"))).isEmpty)
        let frozen = model.displayed.now
        feed(rounds[9...], to: &model, from: 9)
        #expect(model.displayed.now == frozen)
        #expect(model.state.now > frozen, "events still land in the live state")
        _ = model.update(.key(.character("p")))
        #expect(model.displayed.now == model.state.now)
    }

    /// Review finding: while paused, F judged the kind of move from the frozen picture (a
    /// switchover, with a catch-up wait against a primary that had since gone down).
    @Test func failoverKeysJudgeTheLiveStateWhilePaused() {
        let rounds = Self.rounds(seconds: 45, downAt: 12)
        var model = AppModel(
            state: DashboardState(topology: .demo, now: SeededState.start), view: SeededState.view(), theme: .fallback)
        feed(rounds[0...10], to: &model, from: 0)
        _ = model.update(.key(.character("p")))
        feed(rounds[11...], to: &model, from: 11)
        #expect(
            model.displayed.region(named: "us-east-1")?.health != .down, "the frozen picture still shows the primary up"
        )
        #expect(model.state.region(named: "us-east-1")?.health == .down, "it is down now")
        _ = model.update(.key(.character("j")))
        let commands = model.update(.key(.character("F")))
        guard case .failover(.begin(let kind, let target, _), let seeing)? = commands.first else {
            Issue.record("F should begin a move, got \(commands)")
            return
        }
        #expect(kind == .failover && target == "eu-west-1", "the primary is down: a failover, not a switchover")
        #expect(seeing.now == model.state.now, "the driver is handed the live state")
    }

    /// Review finding: the failover dialog's candidate table (health, loss, blocking gate) was
    /// drawn from the frozen picture while its gates judged the live state.
    @Test func theFailoverDialogShowsTheLiveStateWhilePaused() throws {
        let rounds = Self.rounds(seconds: 30, downAt: 1_000)
        var takeDown: [[DashboardEvent]] = []
        _ = DemoSimulation.replay(
            settings: SimulatorSettings(seed: 42), start: SeededState.start, seconds: 30,
            commands: [12: .takeDown(region: "eu-west-1")]
        ) { takeDown.append($0) }
        var model = AppModel(
            state: DashboardState(topology: .demo, now: SeededState.start), view: SeededState.view(), theme: .fallback)
        feed(rounds[0...10], to: &model, from: 0)
        _ = model.update(.key(.character("p")))
        feed(takeDown[11...], to: &model, from: 11)
        let frozenHealth = try #require(model.displayed.region(named: "eu-west-1")?.health)
        let liveHealth = try #require(model.state.region(named: "eu-west-1")?.health)
        #expect(frozenHealth != liveHealth, "the frozen picture still shows eu-west-1 \(frozenHealth.label)")
        let request = FailoverRequest(
            id: "t1", kind: .switchover, from: "us-east-1", to: "ap-southeast-1", operatorName: "ops@host",
            steps: [FailoverPlanStep(name: "promote", action: .simulated(.promote), timeoutSeconds: 30)])
        var machine = FailoverMachine()
        _ = machine.handle(.start(request, at: model.state.now))
        _ = machine.handle(.gatesEvaluated([], dataLoss: .unknown, at: model.state.now))
        _ = model.update(.collected([.failoverProgress(FailoverProgress(machine: machine))]))
        let frame = model.frame(size: TerminalSize(width: 120, height: 40))
        let candidate = try #require(
            frame.lines.first { $0.contains("eu-west-1") && $0.contains("not received") }, "\(frame.text)")
        #expect(candidate.contains(liveHealth.label), "\(candidate)")
        #expect(!candidate.contains(frozenHealth.label), "\(candidate)")
    }

    /// Review finding: below 80×24 Tab focused the replication pane, which the compact layout
    /// does not draw; Enter then stopped opening regions.
    @Test func tabFocusesOnlyPanesTheCompactLayoutDraws() {
        var model = AppModel(
            state: SeededState.demo(seconds: 5), view: SeededState.view(), theme: .fallback)
        model.rendered(size: TerminalSize(width: 60, height: 15))
        _ = model.update(.key(.tab))
        #expect(model.view.focusedPane == .events)
        _ = model.update(.key(.tab))
        #expect(model.view.focusedPane == .regions)
        model.rendered(size: TerminalSize(width: 120, height: 40))
        _ = model.update(.key(.tab))
        #expect(model.view.focusedPane == .replication, "at 80×24 and above every pane is drawn")
    }
}
