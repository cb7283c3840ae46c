import Foundation
import RegionWatchUI

/// Finds themes by name or path: the built-in themes (the files in themes/, embedded at build
/// time), then `$XDG_CONFIG_HOME/regionwatch/themes/NAME.yaml`, then a file path.
public struct ThemeCatalog: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// Names of the built-in themes.
    public static var builtInNames: [String] { BuiltInThemes.files.map(\.name) }

    /// The default theme's name.
    public static let defaultName = "default"

    /// Theme names available without a path (built-in and user themes).
    public var availableNames: [String] {
        var names = Self.builtInNames
        if let directory = userThemeDirectory,
            let files = try? FileManager.default.contentsOfDirectory(atPath: directory)
        {
            for file in files.sorted() where file.hasSuffix(".yaml") {
                let name = String(file.dropLast(5))
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    var userThemeDirectory: String? {
        ConfigurationLocator(environment: environment).configurationDirectory.map { $0 + "/themes" }
    }

    /// Loads the theme `nameOrPath`. With `NO_COLOR` set (non-empty), colours are removed.
    public func load(_ nameOrPath: String) throws -> Theme {
        let theme = try loadIgnoringNoColor(nameOrPath)
        return isNoColorRequested ? theme.withoutColors() : theme
    }

    /// Whether the NO_COLOR convention asks for no colours.
    public var isNoColorRequested: Bool {
        !(environment["NO_COLOR"] ?? "").isEmpty
    }

    private func loadIgnoringNoColor(_ nameOrPath: String) throws -> Theme {
        if let builtIn = BuiltInThemes.files.first(where: { $0.name == nameOrPath }) {
            return try ThemeParser.parse(builtIn.text, file: "themes/\(builtIn.name).yaml (built-in)")
        }
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml")
        if !looksLikePath, let directory = userThemeDirectory {
            let candidate = "\(directory)/\(nameOrPath).yaml"
            if FileManager.default.fileExists(atPath: candidate) { return try loadFile(candidate) }
        }
        if looksLikePath || FileManager.default.fileExists(atPath: nameOrPath) {
            return try loadFile(nameOrPath)
        }
        throw ThemeNotFound(name: nameOrPath, available: availableNames)
    }

    private func loadFile(_ path: String) throws -> Theme {
        let text = try TextFile.read(path)
        return try ThemeParser.parse(text, file: path)
    }
}

/// A theme name that matches no built-in theme, user theme or file.
public struct ThemeNotFound: Error, CustomStringConvertible {
    public var name: String
    public var available: [String]

    public var description: String {
        "no theme named \(YAMLReader.quote(name)) (available: \(available.joined(separator: ", ")); or give a path to a .yaml file)"
    }
}
