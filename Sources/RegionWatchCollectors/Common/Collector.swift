import RegionWatchCore

/// A source of observations. A collector reads the outside world (or simulates it) and
/// publishes typed events onto the bus; it never touches dashboard state.
public protocol Collector: Sendable {
    /// Unique name, shown in the region detail screen next to its freshness and last error.
    var name: String { get }
    /// Collects until the task is cancelled.
    func run(publishingTo bus: EventBus<DashboardEvent>, clock: WallClock) async
}
