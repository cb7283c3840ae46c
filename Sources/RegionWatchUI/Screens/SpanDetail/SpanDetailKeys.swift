import RegionWatchCore

/// The span detail's keys: the arrows scroll its attributes, events and links; L shows its logs.
enum SpanDetailKeys: ScreenKeys {
    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        view.spanDetailScroll = moved(view.spanDetailScroll, by: delta, upTo: 10_000)
    }

    /// L: this span's logs.
    static func perform(_ action: UIAction, in view: inout ViewState, state: DashboardState) -> [UIEffect]? {
        guard action == .showLogs, case .spanDetail(let trace, let span) = view.screen else { return nil }
        view.openLogs(LogQuery(traceID: trace, spanID: span), describedAs: "trace=\(trace.hex) span=\(span.hex)")
        return []
    }
}
