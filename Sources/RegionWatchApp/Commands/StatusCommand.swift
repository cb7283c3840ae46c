import ArgumentParser
import Foundation
import RegionWatchCore
import RegionWatchFailover

/// `regionwatch status`: collect for a while without the UI, then print the state.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Collect for a moment, then print every region's state as a table or JSON."
    )

    @OptionGroup var source: SourceOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds to collect before printing (default: one collection interval).", valueName: "SECONDS"))
    var wait: Double?

    @Flag(name: .long, help: "Print JSON (stable names, null where unknown) instead of a table.")
    var json = false

    @Flag(
        name: .long,
        help:
            "Exit like a monitoring plugin: 0 all OK, 1 degraded, 2 down or split brain, 3 stale or unknown; a summary line comes first."
    )
    var check = false

    @OptionGroup var logging: LogOptions

    func validate() throws {
        if let wait, !(0...3600).contains(wait) { throw ValidationError("--wait must be between 0 and 3600 seconds") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: RegionWatchConfiguration
        do {
            configuration = try source.loadConfiguration(environment: environment, listens: false)
        } catch {
            // A monitor reads its own failure as UNKNOWN, never as the state of the regions.
            guard check else { throw error }
            Console.output("UNKNOWN: \(error)\n")
            throw ExitCode(StatusCheck.Verdict.unknown.rawValue)
        }
        let logger = logging.logger(environment: environment)
        var state = await StatusCollection.collect(
            configuration: configuration, seconds: wait ?? configuration.longestIntervalSeconds,
            clock: SystemWallClock())
        let audit = AuditLog(settings: configuration.failover, environment: environment)
        let history = await audit.history().history
        state.apply(
            .failoverHistory(
                FailoverHistoryReader.summary(history, path: audit.path, settings: configuration.failover),
                isReadOnly: configuration.failover.isReadOnly))
        logger.info(
            "status collected",
            metadata: ["regions": "\(state.regions.count)", "events": "\(state.bus.publishedEvents)"])
        let verdict = check ? StatusCheck(state: state) : nil
        if let verdict { Console.output(verdict.summary + "\n") }
        if json {
            Console.output(try StatusReport(state: state).json() + "\n")
        } else {
            Console.output(StatusTable.render(state))
        }
        if let verdict, verdict.verdict != .ok { throw ExitCode(verdict.verdict.rawValue) }
    }
}

/// Runs the collectors headless for a while and returns the resulting state.
public enum StatusCollection {
    /// Collects for `seconds` of real time, applying events as the bus wakes it (no polling).
    public static func collect(
        configuration: RegionWatchConfiguration, seconds: Double, clock: WallClock
    ) async -> DashboardState {
        let pipeline = CollectionPipeline(configuration: configuration, clock: clock)
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let subscription = pipeline.subscribeAsConsumer(capacity: 1_000_000) { wake.yield() }
        // One look, not a watch: health says what the signals say now. Hysteresis suppresses
        // flapping over time, which a single look does not have (a monitor that runs this
        // repeatedly has its own retry rules).
        var topology = configuration.topology
        topology.thresholds.hysteresis = .immediate
        var state = DashboardState(
            topology: topology, now: clock.now(), traceLimits: configuration.traceLimits,
            logLimits: configuration.logLimits)
        pipeline.start()
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            wake.finish()
        }
        for await _ in wakes { pipeline.apply(subscription.drain(), to: &state) }
        timer.cancel()
        pipeline.cancel()
        pipeline.apply(subscription.drain(), to: &state)
        state.apply(
            .busStatistics(
                BusStatistics(droppedEvents: subscription.droppedCount, publishedEvents: pipeline.bus.publishedCount)))
        state.apply(.tick(clock.now()))
        return state
    }
}
