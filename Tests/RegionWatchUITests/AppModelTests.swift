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
}
