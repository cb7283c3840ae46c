import RegionWatchTerminal

/// A `/` filter being typed on its own line (traces, logs, metrics): Esc cancels, Enter applies
/// the text through the screen's own parser, other keys edit.
enum FilterLine {
    /// Handles `key` for the filter `input`; on Enter closes it and calls `apply` with the
    /// trimmed text, whose answer is shown in the footer.
    static func handle(
        _ key: Key, input: inout CommandLineInput?, message: inout StatusMessage?, apply: (String) -> StatusMessage
    ) {
        guard var line = input else { return }
        switch KeyMap.action(for: key, in: .typedLine, isDemo: false) {
        case .cancel:
            input = nil
        case .confirm:
            input = nil
            message = apply(line.text.trimmingCharacters(in: " "))
        default:
            line.text = LineEditor.edit(line.text, with: key) ?? line.text
            input = line
        }
    }
}
