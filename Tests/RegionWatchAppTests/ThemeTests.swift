import Foundation
import Testing
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI
@testable import RegionWatchApp

@Suite("Themes")
struct ThemeTests {
    @Test func builtInThemesAreTheFilesInThemes() throws {
        let directory = repositoryRoot.appendingPathComponent("themes")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(files == BuiltInThemes.files.map { "\($0.name).yaml" }.sorted())
        for builtIn in BuiltInThemes.files {
            let onDisk = try String(
                contentsOf: directory.appendingPathComponent("\(builtIn.name).yaml"), encoding: .utf8)
            #expect(onDisk == builtIn.text + "\n", "themes/\(builtIn.name).yaml changed: run scripts/embed-themes.sh")
        }
    }

    @Test func everyBuiltInThemeParsesCompletelyWithoutWarnings() throws {
        for builtIn in BuiltInThemes.files {
            let theme = try ThemeParser.parse(builtIn.text, file: builtIn.name)
            #expect(theme.name == builtIn.name)
        }
        let monochrome = try ThemeCatalog(environment: [:]).load("monochrome")
        #expect(!monochrome.usesColor)
        #expect(monochrome.allStyles.allSatisfy { $0.1.foreground == .default && $0.1.background == .default })
        #expect(try ThemeCatalog(environment: [:]).load("light").background == .light)
    }

    /// Every role of every coloured theme stays readable on true-colour, 256- and 16-colour
    /// terminals: the foreground the terminal will show keeps a contrast ratio of at least 3
    /// against the background it will show.
    @Test(arguments: [ColorCapability.direct, .indexed256, .ansi16])
    func everyThemeStaysReadable(capability: ColorCapability) throws {
        for builtIn in BuiltInThemes.files {
            let theme = try ThemeParser.parse(builtIn.text, file: builtIn.name)
            guard theme.usesColor else { continue }
            let mapper = ColorMapper(capability: capability, background: theme.background)
            for (role, style) in theme.allStyles {
                let pair = mapper.pair(foreground: style.foreground, background: style.background)
                let isReversed = style.attributes.contains(.reverse)
                let foreground = mapper.displayedRGB(ofNumber: pair.foreground) ?? theme.background.assumedForegroundRGB
                let background = mapper.displayedRGB(ofNumber: pair.background) ?? theme.background.assumedRGB
                let ratio = ColorPalette.contrastRatio(
                    isReversed ? background : foreground, isReversed ? foreground : background)
                #expect(ratio >= 3, "\(builtIn.name).\(role.rawValue) on \(capability): contrast \(ratio)")
            }
        }
    }

    @Test func healthStatesStayDistinctOnSixteenColours() throws {
        for builtIn in BuiltInThemes.files {
            let theme = try ThemeParser.parse(builtIn.text, file: builtIn.name)
            let mapper = ColorMapper(capability: .ansi16, background: theme.background)
            let looks = [ThemeRole.ok, .degraded, .down, .stale].map { role -> String in
                let style = theme[role]
                let pair = mapper.pair(foreground: style.foreground, background: style.background)
                return "\(pair.foreground)/\(pair.background)/\(style.attributes.rawValue)"
            }
            #expect(Set(looks).count == 4, "\(builtIn.name): ok, degraded, down and stale look different: \(looks)")
        }
    }

    @Test(arguments: [
        ("name: t\nstyles:\n  txet: {}\n", "t.yaml:3:3: error: styles.txet: unknown key 'txet' (did you mean 'text'?)"),
        (
            "name: t\nstyles:\n  text: { fg: purplish }\n",
            "t.yaml:3:15: error: styles.text.fg: 'purplish' is not a colour"
        ),
        ("name: t\nstyles:\n  text: { fg: '#12' }\n", "t.yaml:3:15: error: styles.text.fg: '#12' is not a colour"),
        (
            "name: t\nstyles:\n  text: { attrs: [blod] }\n",
            "t.yaml:3:19: error: styles.text.attrs[0]: unknown attribute 'blod' (did you mean 'bold'?)"
        ),
        (
            "name: t\nstyles:\n  text: { attrs: bold }\n",
            "t.yaml:3:18: error: styles.text.attrs: expected a list, found 'bold'"
        ),
        (
            "name: t\nmonochrome: true\nstyles:\n  text: { fg: red }\n",
            "t.yaml:4:15: error: styles.text.fg: monochrome themes use attributes only"
        ),
        ("name: t\nbackground: grey\nstyles: {}\n", "t.yaml:2:13: error: background: 'grey' is not one of dark, light"),
        ("styles: {}\n", "t.yaml:1:1: error: name: missing"),
        ("name: t\n", "t.yaml:1:1: error: styles: missing"),
        ("name: t\nstyles: [a]\n", "t.yaml:2:9: error: styles: expected a mapping"),
        (
            "name: t\nstyles:\n  text: &t { fg: red }\n  ok: *t\n",
            "t.yaml:3:9: error: an anchor ('&t'): anchors and aliases are not supported here"
        ),
    ])
    func badThemesNameFileLineAndKey(yaml: String, expected: String) {
        do {
            _ = try ThemeParser.parse(yaml, file: "t.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.contains { $0.description.hasPrefix(expected) }, "got: \(error.description)")
        }
    }

    @Test func partialThemeFallsBackAndWarns() throws {
        let theme = try ThemeParser.parse("name: tiny\nstyles:\n  ok: { fg: '#00ff00' }\n", file: "tiny.yaml")
        #expect(theme[.ok].foreground == .rgb(0, 255, 0))
        #expect(theme[.down] == Theme.fallback[.down])
    }

    @Test func noColorRemovesColoursKeepingAttributes() throws {
        let theme = try ThemeCatalog(environment: ["NO_COLOR": "1"]).load("default")
        #expect(!theme.usesColor)
        #expect(theme[.down].foreground == .default)
        #expect(theme[.down].attributes.contains(.bold))
        let empty = try ThemeCatalog(environment: ["NO_COLOR": ""]).load("default")
        #expect(empty.usesColor, "an empty NO_COLOR does not count")
    }

    @Test func catalogFindsUserThemesAndPathsAndExplainsMisses() throws {
        let base = NSTemporaryDirectory() + "regionwatch-themes-\(getpid())"
        let directory = base + "/regionwatch/themes"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try "name: mine\nstyles:\n  ok: { fg: blue }\n".write(
            toFile: directory + "/mine.yaml", atomically: true, encoding: .utf8)
        let catalog = ThemeCatalog(environment: ["XDG_CONFIG_HOME": base])
        #expect(catalog.availableNames == ["default", "light", "high-contrast", "monochrome", "mine"])
        #expect(try catalog.load("mine")[.ok].foreground == .ansi(4))
        #expect(try catalog.load(directory + "/mine.yaml").name == "mine")
        #expect(throws: ThemeNotFound.self) { try catalog.load("nope") }
        do {
            _ = try catalog.load("nope")
        } catch {
            #expect("\(error)".contains("available: default, light, high-contrast, monochrome, mine"))
        }
        #expect(throws: TextFile.ReadError.self) { try catalog.load("/missing/theme.yaml") }
    }
}

/// Defects: the light theme's RPO breach on the selected row was white on lavender; with
/// NO_COLOR the selected row was bold only. Every theme, with and without colour, on every
/// colour depth, keeps each state readable selected and unselected.
@Suite("Theme readability")
struct ThemeReadabilityTests {
    static let states: [(String, ThemeRole)] = [
        ("text", .text), ("table header", .tableHeader), ("ok", .ok), ("degraded", .degraded), ("down", .down),
        ("stale", .stale), ("RPO breach", .down), ("critical", .critical), ("error", .error),
    ]

    static func themes() throws -> [(String, Theme)] {
        let plain = ThemeCatalog(environment: [:])
        let noColor = ThemeCatalog(environment: ["NO_COLOR": "1"])
        return try ["default", "light", "high-contrast", "monochrome"].flatMap { name in
            [(name, try plain.load(name)), ("\(name) NO_COLOR", try noColor.load(name))]
        }
    }

    @Test func everyStateMeetsTheContrastMinimumSelectedAndNot() throws {
        var failures: [String] = []
        for (name, theme) in try Self.themes() {
            for capability in [ColorCapability.direct, .indexed256, .ansi16] {
                let readability = ThemeReadability(theme: theme, capability: capability)
                for (state, role) in Self.states {
                    let minimum =
                        role == .stale ? ThemeReadability.minimumStaleContrast : ThemeReadability.minimumContrast
                    for selected in [false, true] {
                        let style = selected ? theme[role].selected(by: theme[.selection]) : theme[role]
                        let ratio = readability.contrast(of: style)
                        if ratio < minimum {
                            failures.append(
                                "\(name) \(capability) \(state)\(selected ? " selected" : ""): \(Format.fixed(ratio, decimals: 2)) < \(minimum)"
                            )
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func aSelectedRowIsVisibleInEveryTheme() throws {
        for (name, theme) in try Self.themes() {
            for capability in [ColorCapability.direct, .indexed256, .ansi16] {
                let readability = ThemeReadability(theme: theme, capability: capability)
                #expect(
                    readability.selectionIsVisible(on: theme[.text]),
                    "\(name) \(capability): the selected row stands out")
            }
        }
    }

    @Test func aBadgeOnTheSelectedRowKeepsItsColours() throws {
        let light = try ThemeCatalog(environment: [:]).load("light")
        let breach = light[.down].selected(by: light[.selection])
        #expect(breach.background == light[.down].background)
        #expect(breach.foreground == light[.down].foreground)
        #expect(ThemeReadability(theme: light).contrast(of: breach) >= ThemeReadability.minimumContrast)
    }
}

/// The README's screenshot is a real frame: the overview snapshot the UI tests render.
@Suite("README")
struct ReadmeScreenshotTests {
    @Test func theScreenshotIsTheRenderedOverview() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let snapshot = try String(
            contentsOf: repositoryRoot.appendingPathComponent(
                "Tests/RegionWatchUITests/Snapshots/overview-incident-120x40.txt"), encoding: .utf8)
        let frame = snapshot.split(separator: "\n", omittingEmptySubsequences: false).prefix(22).joined(separator: "\n")
        #expect(
            readme.contains("```\n" + frame + "\n  ...\n```"),
            "copy the first 22 lines of overview-incident-120x40.txt into the README")
    }
}
