import ArgumentParser
import Foundation
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI

/// `regionwatch run` (the default): the interactive dashboard.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Show the live dashboard (the default command)."
    )

    @OptionGroup var source: SourceOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Theme name (default, light, high-contrast, monochrome, or one in $XDG_CONFIG_HOME/regionwatch/themes) or a path to a theme file.",
            valueName: "NAME|PATH"))
    var theme: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds between redraws of live data (0.1–60; default 1). Keys redraw at once.", valueName: "SECONDS"))
    var refresh: Double?

    @Flag(
        name: .long,
        help: "Watch only: failover, failback and drill keys refuse (also failover.readOnly in the configuration).")
    var readOnly = false

    @OptionGroup var logging: LogOptions

    func validate() throws {
        if let refresh, !(0.1...60).contains(refresh) {
            throw ValidationError("--refresh must be between 0.1 and 60 seconds")
        }
    }

    func run() throws {
        let startedAt = ProcessStart.monotonicSeconds
        let environment = ProcessInfo.processInfo.environment
        // Configuration and theme first: their errors matter more than where the output goes.
        var configuration = try source.loadConfiguration(environment: environment)
        if readOnly { configuration.failover.isReadOnly = true }
        let catalog = ThemeCatalog(environment: environment)
        let themeName = theme ?? configuration.display.theme ?? ThemeCatalog.defaultName
        let loadedTheme: Theme
        do {
            loadedTheme = try catalog.load(themeName)
        } catch {
            Console.error("regionwatch: \(error)")
            throw ExitCode(2)
        }
        if let problem = TerminalAvailability.check(environment: environment) {
            Console.error(
                "regionwatch: cannot show the dashboard: \(problem). For a text report, run `regionwatch status` (add --json for scripts)."
            )
            throw ExitCode(3)
        }
        let logger = logging.logger(environment: environment)
        logger.info(
            "starting",
            metadata: [
                "version": "\(RegionWatchCommand.version)", "configuration": "\(configuration.source)",
                "regions": "\(configuration.topology.regions.count)",
            ])
        var options = DashboardSession.Options(
            configuration: configuration, theme: loadedTheme, themeCatalog: catalog,
            refreshSeconds: refresh ?? configuration.display.refreshSeconds ?? 1, startedAt: startedAt
        )
        options.crashesAfterFirstFrame = environment["REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME"] == "1"
        let session = DashboardSession(options: options, logger: logger)
        let end: SessionEnd
        do {
            end = try session.run()
        } catch {
            logger.error("dashboard failed: \(error)")
            Console.error("regionwatch: \(error)")
            throw ExitCode(1)
        }
        if end.exitStatus != 0 { throw ExitCode(end.exitStatus) }
    }
}

/// Monotonic time at process start (first use happens at the top of `main`).
public enum ProcessStart {
    /// Seconds on the monotonic clock when `main` began.
    public nonisolated(unsafe) static var monotonicSeconds = MonotonicClock.seconds()
}
