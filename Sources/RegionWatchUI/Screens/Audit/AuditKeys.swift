import RegionWatchCore

/// The audit screen's keys: the arrows scroll; `A` asks to acknowledge the oldest interrupted
/// attempt, and a second `A` confirms (`ViewState.handle` sees the second press, since any
/// other key cancels).
enum AuditKeys: ScreenKeys {
    static let bindings = [
        KeyBinding(
            [.character("A")], "A", .acknowledgeInterrupted, "acknowledge an interrupted failover (shown in red)",
            .audit, hints: KeyHint.on([.audit], "A", "acknowledge interrupted"))
    ]

    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        view.auditScroll = moved(view.auditScroll, by: delta, upTo: 10_000)
    }

    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        guard action == .acknowledgeInterrupted else { return nil }
        guard let interrupted = state.failover.history.interrupted.first else {
            view.message = StatusMessage("no interrupted failover to acknowledge")
            return []
        }
        view.pendingAcknowledgement = interrupted.id
        view.message = StatusMessage(
            "acknowledge the interrupted \(interrupted.kind) \(interrupted.from) → \(interrupted.to) (confirmed by \(interrupted.operatorName))? A again confirms, any other key cancels",
            isError: true)
        return []
    }
}
