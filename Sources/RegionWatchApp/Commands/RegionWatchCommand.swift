import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RegionWatchCollectors
import RegionWatchCore

/// The `regionwatch` command line.
public struct RegionWatchCommand: AsyncParsableCommand {
    /// The program's version.
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "regionwatch",
        abstract: "A terminal dashboard for multi-region observability and disaster recovery.",
        discussion: """
            With no configuration, regionwatch runs a live built-in demo. Exit status: 0 success, \
            1 runtime error, 2 invalid configuration or theme, 3 not started because the terminal \
            cannot show the dashboard (try `regionwatch status`).
            """,
        version: "regionwatch \(version)",
        subcommands: [
            RunCommand.self, StatusCommand.self, CheckConfigCommand.self, FailoverCommand.self, AuditCommand.self,
            LoadGeneratorCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    public init() {}
}

/// Where the configuration comes from: a file, the built-in demo, or the default search path.
struct SourceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file (default: $XDG_CONFIG_HOME/regionwatch/config.yaml, else the built-in demo).",
            valueName: "FILE"))
    var config: String?

    @Flag(name: .long, help: "Run the built-in demo, ignoring any configuration file.")
    var demo = false

    @Option(name: .long, help: ArgumentHelp("Seed for the simulator, for a reproducible demo.", valueName: "N"))
    var seed: UInt64?

    @Option(
        name: .customLong("otlp-listen"),
        help: ArgumentHelp(
            "Where the OTLP/HTTP receiver listens, or 'off' (also turns gRPC off unless --otlp-grpc-listen is given; the dashboard: default 127.0.0.1:4318; status and failover: none unless given).",
            valueName: "HOST:PORT|off"))
    var otlpListen: String?

    @Option(
        name: .customLong("otlp-grpc-listen"),
        help: ArgumentHelp(
            "Where the OTLP/gRPC receiver listens, or 'off' (the dashboard: default 127.0.0.1:4317; status and failover: none unless given).",
            valueName: "HOST:PORT|off"))
    var otlpGRPCListen: String?

    func validate() throws {
        if config != nil, demo { throw ValidationError("--config and --demo cannot be used together") }
        if let otlpListen, otlpListen.lowercased() != "off", OTLPReceiverSettings.parseListenAddress(otlpListen) == nil
        {
            throw ValidationError("--otlp-listen must be HOST:PORT (for example 127.0.0.1:4318) or off")
        }
        if let otlpGRPCListen, otlpGRPCListen.lowercased() != "off",
            OTLPReceiverSettings.parseListenAddress(otlpGRPCListen) == nil
        {
            throw ValidationError("--otlp-grpc-listen must be HOST:PORT (for example 127.0.0.1:4317) or off")
        }
    }

    /// Loads the configuration, printing every problem to standard error when it is invalid.
    /// A command that is not the dashboard (`status`, `failover`) passes `listens: false`: it
    /// starts no OTLP receiver unless `--otlp-listen` asks for one, so it never collides with a
    /// running dashboard on the same port.
    func loadConfiguration(environment: [String: String], listens: Bool = true) throws -> RegionWatchConfiguration {
        var configuration = try ConfigurationLoading.load(path: config, demo: demo, environment: environment)
        if let seed { configuration = configuration.withSeed(seed) }
        if let moved = configuration.withOTLPListen(
            otlpListen ?? (listens ? nil : "off"), keepingGRPC: otlpGRPCListen != nil)
        {
            configuration = moved
        }
        // A command that is not the dashboard listens on gRPC only when asked, even when
        // --otlp-listen turned the HTTP receiver on.
        if let moved = configuration.withOTLPGRPCListen(otlpGRPCListen ?? (listens ? nil : "off")) {
            configuration = moved
        }
        return configuration
    }
}

/// Finding, reading and parsing the configuration, for every command.
enum ConfigurationLoading {
    /// The configuration at `path`, else the default file when it exists (unless `demo`), else
    /// the built-in demo. Problems are printed to standard error; an invalid file exits 2.
    static func load(
        path: String?, demo: Bool, environment: [String: String], unsetVariables: UnsetVariables = .areErrors
    ) throws -> RegionWatchConfiguration {
        var path = path
        if path == nil, !demo,
            let defaultPath = ConfigurationLocator(environment: environment).defaultConfigurationPath,
            FileManager.default.fileExists(atPath: defaultPath)
        {
            path = defaultPath
        }
        guard let path else { return .builtInDemo() }
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            Console.error("regionwatch: \(error)")
            throw ExitCode(2)
        }
        do {
            let (parsed, warnings) = try ConfigurationParser.parse(
                text, file: path, environment: environment, unsetVariables: unsetVariables)
            for warning in warnings { Console.error(warning.description) }
            return parsed
        } catch {
            for diagnostic in error.diagnostics { Console.error(diagnostic.description) }
            Console.error(
                "regionwatch: \(path) has \(error.errors.count) error(s); not starting (see `regionwatch check-config \(path)`)"
            )
            throw ExitCode(2)
        }
    }
}

/// Where the log goes; shared by every command that collects.
struct LogOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Log file (default: $XDG_STATE_HOME/regionwatch/regionwatch.log).", valueName: "FILE"))
    var log: String?

    /// A logger writing to the chosen file (never to the terminal).
    func logger(environment: [String: String]) -> Logger {
        LogSetup.logger(path: log, environment: environment)
    }
}

/// Writes to standard error and standard output without buffering surprises.
enum Console {
    static func error(_ line: String) {
        write(line + "\n", to: STDERR_FILENO)
    }

    static func output(_ text: String) {
        write(text, to: STDOUT_FILENO)
    }

    /// Writes all of `text`, or stops quietly when the reader has gone (`status | head -1`):
    /// a closed pipe is the reader's choice, never a crash, and the exit status stays ours.
    /// (Foundation's `FileHandle.write` traps on a broken pipe.)
    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}

/// Sets up file logging; never logs to the terminal.
enum LogSetup {
    static func logger(path: String?, environment: [String: String]) -> Logger {
        let resolved =
            path ?? ConfigurationLocator(environment: environment).stateDirectory.map { $0 + "/regionwatch.log" }
        let sink = resolved.flatMap { try? LogFileSink(path: $0) } ?? LogFileSink.discarding()
        return Logger(label: "regionwatch") { label in FileLogHandler(label: label, sink: sink) }
    }
}

extension RegionWatchCommand {
    /// The program: parses the command line and runs the command it names. Asynchronous
    /// commands are awaited; the dashboard (`run`, synchronous) runs here, on the main thread:
    /// its loop waits in `poll` and must never hold one of the few threads of Swift's
    /// cooperative pool, which the collectors and the failover coordinator run on.
    /// (`AsyncParsableCommand.main()` would run it on that pool.)
    @MainActor
    public static func start() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
