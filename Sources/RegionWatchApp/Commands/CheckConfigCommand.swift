import ArgumentParser
import Foundation

/// `regionwatch check-config FILE`: validate a configuration and print every problem.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print every problem with its line number."
    )

    @Argument(help: ArgumentHelp("The configuration file to check.", valueName: "FILE"))
    var file: String

    @Flag(
        name: .long,
        help:
            "Treat environment variables the file names but that are not set as errors (they are warnings otherwise, so a configuration can be checked without its secrets)."
    )
    var strict = false

    func run() throws {
        let text: String
        do {
            text = try TextFile.read(file)
        } catch let error as TextFile.ReadError where error.isDiagnostic {
            Console.output(error.description + "\n\(file): 1 error(s)\n")
            throw ExitCode(2)
        } catch {
            Console.error("regionwatch: \(error)")
            throw ExitCode(2)
        }
        do {
            let (configuration, warnings) = try ConfigurationParser.parse(
                text, file: file, environment: ProcessInfo.processInfo.environment,
                unsetVariables: strict ? .areErrors : .areWarnings
            )
            for warning in warnings { Console.output(warning.description + "\n") }
            let regions = configuration.topology.regions.count
            let collectors = configuration.collectors.count
            Console.output(
                "\(file): OK — topology \(configuration.topology.name), \(regions) region\(regions == 1 ? "" : "s"), \(collectors) collector\(collectors == 1 ? "" : "s")\(warnings.isEmpty ? "" : ", \(warnings.count) warning(s)")\n"
            )
        } catch {
            for diagnostic in error.diagnostics { Console.output(diagnostic.description + "\n") }
            let warnings = error.diagnostics.count - error.errors.count
            Console.output("\(file): \(error.errors.count) error(s)\(warnings > 0 ? ", \(warnings) warning(s)" : "")\n")
            throw ExitCode(2)
        }
    }
}
