import RegionWatchTerminal
import RegionWatchUI
import Yams

/// Parses and validates theme files (YAML). Errors name the file, line and key.
public enum ThemeParser {
    static let topLevelKeys = ["name", "description", "background", "monochrome", "styles"]
    static let styleKeys = ["fg", "bg", "attrs"]

    /// Parses the theme in `text` read from `file`.
    public static func parse(_ text: String, file: String) throws(DiagnosticsError) -> Theme {
        let reader = YAMLReader(file: file)
        let theme = read(text, reader: reader)
        if reader.hasErrors || theme == nil { throw DiagnosticsError(reader.diagnostics) }
        return theme!
    }

    private static func read(_ text: String, reader: YAMLReader) -> Theme? {
        guard let root = reader.parse(text), let entries = reader.mapping(root, "", allowedKeys: topLevelKeys) else {
            return nil
        }
        var name = "unnamed"
        if let node = entries["name"]?.value, let value = reader.string(node, "name") { name = value }
        if entries["name"] == nil { reader.error(root, "name", "missing: every theme needs a name") }
        var background = TerminalBackground.dark
        if let node = entries["background"]?.value,
            let value = reader.choice(node, "background", as: TerminalBackground.self)
        {
            background = value
        }
        var isMonochrome = false
        if let node = entries["monochrome"]?.value, let value = reader.boolean(node, "monochrome") {
            isMonochrome = value
        }
        var styles: [ThemeRole: Style] = [:]
        if let node = entries["styles"]?.value,
            let styleEntries = reader.mapping(node, "styles", allowedKeys: ThemeRole.allCases.map(\.rawValue))
        {
            for (key, entry) in styleEntries {
                guard let role = ThemeRole(rawValue: key) else { continue }
                if let style = readStyle(entry.value, path: "styles.\(key)", monochrome: isMonochrome, reader: reader) {
                    styles[role] = style
                }
            }
            let missing = ThemeRole.allCases.filter { styles[$0] == nil && styleEntries[$0.rawValue] == nil }
            if !missing.isEmpty {
                reader.warning(
                    node, "styles",
                    "no style for \(missing.map(\.rawValue).joined(separator: ", ")); the built-in fallback is used")
            }
        } else if entries["styles"] == nil {
            reader.error(
                root, "styles",
                "missing: a mapping from role (\(ThemeRole.allCases.map(\.rawValue).joined(separator: ", "))) to style")
        }
        let fallback = isMonochrome ? Theme.fallback.withoutColors() : Theme.fallback
        return Theme(name: name, usesColor: !isMonochrome, background: background, styles: styles, fallback: fallback)
    }

    private static func readStyle(_ node: Node, path: String, monochrome: Bool, reader: YAMLReader) -> Style? {
        guard let entries = reader.mapping(node, path, allowedKeys: styleKeys) else { return nil }
        var style = Style()
        var isValid = true
        for (key, color) in [("fg", \Style.foreground), ("bg", \Style.background)] {
            guard let value = entries[key]?.value else { continue }
            if monochrome {
                reader.error(value, "\(path).\(key)", "monochrome themes use attributes only; remove this colour")
                isValid = false
                continue
            }
            guard let text = reader.string(value, "\(path).\(key)") else {
                isValid = false
                continue
            }
            guard let parsed = TerminalColor(name: text) else {
                reader.error(
                    value, "\(path).\(key)",
                    "\(YAMLReader.quote(text)) is not a colour: use a name (\(TerminalColor.ansiNames.prefix(8).joined(separator: ", ")), bright-…, grey, default), colorN (0–255) or #rrggbb"
                )
                isValid = false
                continue
            }
            style[keyPath: color] = parsed
        }
        if let value = entries["attrs"]?.value, let items = reader.sequence(value, "\(path).attrs") {
            for (index, item) in items.enumerated() {
                guard let text = reader.string(item, "\(path).attrs[\(index)]") else {
                    isValid = false
                    continue
                }
                guard let attribute = TextAttributes.names.first(where: { $0.0 == text })?.1 else {
                    let names = TextAttributes.names.map(\.0)
                    let suggestion = YAMLReader.closest(text, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                    reader.error(
                        item, "\(path).attrs[\(index)]",
                        "unknown attribute \(YAMLReader.quote(text))\(suggestion); expected one of: \(names.joined(separator: ", "))"
                    )
                    isValid = false
                    continue
                }
                style.attributes.insert(attribute)
            }
        }
        return isValid ? style : nil
    }
}
