/// The words and figures every view of a failover uses (the dialog, the panel, the audit
/// screen, `regionwatch failover`, `regionwatch audit`, the history), written in one place so
/// an attempt reads the same wherever it is shown.
public enum FailoverFormat {
    /// `COMPLETED`, `COMPLETED WITH WARNINGS`, `ABORTED`…
    public static func outcome(_ state: String, hasWarnings: Bool = false) -> String {
        state.uppercased() + (state == "completed" && hasWarnings ? " WITH WARNINGS" : "")
    }

    /// A measured RTO: `12.34s`, or `—` when there is none.
    public static func measuredRTO(_ seconds: Double?) -> String {
        seconds.map { "\(Format.fixed($0, decimals: 2))s" } ?? Format.unknown
    }

    /// The data loss an attempt recorded at its promotion, worded relative to `now`; none
    /// without a promotion.
    public static func dataLoss(_ estimate: DataLossEstimate?, at now: Timestamp, ageWord: String = "ago") -> String {
        estimate?.text(at: now, ageWord: ageWord) ?? "none (nothing promoted)"
    }

    /// A step's duration, ` 1.23s`, or nothing when it did not both start and end.
    public static func stepDuration(startedAt: Timestamp?, endedAt: Timestamp?, prefix: String = " ") -> String {
        guard let startedAt, let endedAt else { return "" }
        return prefix + Format.fixed(endedAt.seconds(since: startedAt), decimals: 2) + "s"
    }

    /// `lag-within-rpo: 42s of 30s (FORCED: reason)`.
    public static func gate(_ name: String, measured: String, forcedReason: String?) -> String {
        "\(name): \(measured)\(forcedReason.map { " (FORCED: \($0))" } ?? "")"
    }
}
