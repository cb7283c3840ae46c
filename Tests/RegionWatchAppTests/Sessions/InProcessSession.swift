import Foundation
import Logging
import Synchronization
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI
@testable import RegionWatchApp
@testable import RegionWatchFailover

/// A clock that moves only when told.
final class VirtualClock: WallClock {
    private let current: Mutex<Timestamp>

    init(start: Timestamp = Timestamp(secondsSinceEpoch: 1_800_000_000)) {
        current = Mutex(start)
    }

    func now() -> Timestamp { current.withLock { $0 } }

    func advance(by seconds: Double) {
        current.withLock { $0 = $0.adding(seconds: seconds) }
    }
}

/// A whole dashboard session in process: the real application loop, pipeline, failover
/// driver and audit log, drawn on the in-memory backend, with the simulator stepped on a
/// virtual clock. Keys go in, frames come out; nothing waits for real time except the
/// failover coordinator's own tasks, which `waitFor` polls for with a deadline.
final class InProcessSession {
    let clock = VirtualClock()
    let backend: InMemoryBackend
    let runtime: AppRuntime
    let pipeline: CollectionPipeline
    let directory: String
    private let subscription: EventSubscription<DashboardEvent>
    private var secondsSinceStep = 0.0

    /// A session on `configuration` (the built-in demo when `nil`), whose audit log lives in a
    /// fresh directory.
    init(
        configuration: RegionWatchConfiguration? = nil, width: Int = 120, height: Int = 40, theme: String = "default",
        environment: [String: String] = [:], warmUpSeconds: Int = 8, pacing: StepRunner.Pacing = .immediate,
        readOnly: Bool = false
    ) throws {
        directory = scratch("session")
        var configuration = configuration ?? RegionWatchConfiguration.builtInDemo(seed: 7)
        configuration.collectors.removeAll { $0.kind == "otlp" }
        if configuration.failover.auditLogPath == nil {
            configuration.failover.auditLogPath = directory + "/audit.jsonl"
        }
        if readOnly { configuration.failover.isReadOnly = true }
        let catalog = ThemeCatalog(environment: environment)
        var options = DashboardSession.Options(
            configuration: configuration, theme: try catalog.load(theme), themeCatalog: catalog, refreshSeconds: 1,
            startedAt: 0
        )
        options.stepPacing = pacing
        backend = InMemoryBackend(size: TerminalSize(width: width, height: height))
        pipeline = CollectionPipeline(configuration: configuration, clock: clock)
        subscription = pipeline.bus.subscribe(capacity: DashboardSession.busCapacity) {}
        pipeline.simulator?.attach(publishingTo: pipeline.bus, clock: clock)
        runtime = DashboardSession.runtime(
            options: options, pipeline: pipeline, backend: backend, clock: clock, logger: Logger(label: "test"))
        pump()
        advance(seconds: Double(warmUpSeconds))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What a person would see.
    var screen: String { backend.screen.text }
    var model: AppModel { runtime.model }

    /// Presses `keys`, one after another (`"j"`, `"F"`; a string is typed character by character).
    func press(_ keys: Key...) {
        for key in keys { send(key) }
    }

    /// Types `text` character by character.
    func type(_ text: String) {
        for character in text { send(.character(character)) }
    }

    private func send(_ key: Key) {
        runtime.send(key == .resize ? .resize(backend.size) : .key(key))
        pump()
    }

    /// Resizes the terminal, as SIGWINCH would.
    func resize(width: Int, height: Int) {
        backend.size = TerminalSize(width: width, height: height)
        send(.resize)
    }

    /// Moves virtual time on by `seconds` in refresh-sized steps: the simulator steps each
    /// interval, collected events are applied, the clock ticks, frames are drawn.
    func advance(seconds: Double) {
        var remaining = seconds
        while remaining > 1e-9 {
            let step = min(1, remaining)
            clock.advance(by: step)
            remaining -= step
            pipeline.simulator?.step(at: clock.now())
            pump()
            runtime.send(
                .tick(
                    clock.now(),
                    BusStatistics(
                        droppedEvents: subscription.droppedCount, publishedEvents: pipeline.bus.publishedCount)))
            runtime.renderIfNeeded()
        }
    }

    /// Applies whatever the bus holds and draws.
    func pump() {
        runtime.send(.collected(subscription.drain(limit: DashboardSession.drainBatch)))
        runtime.renderIfNeeded()
    }

    /// Polls until `condition` holds on the screen, advancing virtual time by `step` seconds
    /// each round (at most `virtualLimit` seconds in all, so a slow machine never races the
    /// demo into its scripted incident) while the failover coordinator's tasks run; `false`
    /// after `deadline` real seconds.
    /// The wait yields its thread between rounds (Swift's cooperative pool is as wide as the
    /// machine has cores, and the coordinator's tasks run on it too).
    @discardableResult
    func waitFor(
        _ texts: String..., step: Double = 0.25, virtualLimit: Double = 30, deadline: Double = 20
    ) async -> Bool {
        await waitUntil(step: step, virtualLimit: virtualLimit, deadline: deadline) { screen in
            texts.allSatisfy { screen.contains($0) }
        }
    }

    @discardableResult
    func waitUntil(
        step: Double = 0.25, virtualLimit: Double = 30, deadline: Double = 20, _ condition: (String) -> Bool
    ) async -> Bool {
        let end = MonotonicClock.seconds() + deadline
        var advanced = 0.0
        while MonotonicClock.seconds() < end {
            pump()
            if condition(screen) { return true }
            try? await Task.sleep(for: .milliseconds(2))
            if advanced < virtualLimit {
                advance(seconds: step)
                advanced += step
            }
        }
        pump()
        return condition(screen)
    }

    /// Waits until the dialog closed (the driver has processed the acknowledgement: keys
    /// pressed before then go to the dialog, as on a terminal).
    func waitForSteadyFailover() async -> Bool {
        await waitUntil(step: 0) { _ in self.model.state.failover.machine.state == .steady }
    }

    /// The screen row containing every one of `texts`.
    func row(containing texts: String...) -> String? {
        screen.split(separator: "\n").map(String.init).first { row in texts.allSatisfy { row.contains($0) } }
    }

    /// The audit log's entries, as written.
    func auditLines() -> [String] {
        ((try? String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init)
    }
}
