import RegionWatchCore

/// The span detail's keys: the arrows scroll its attributes, events and links.
enum SpanDetailKeys: ScreenKeys {
    static func move(by delta: Int, in view: inout ViewState, state: DashboardState) {
        view.spanDetailScroll = moved(view.spanDetailScroll, by: delta, upTo: 10_000)
    }
}
