import Testing
import RegionWatchCore
@testable import RegionWatchCollectors

/// A source whose rounds never finish on their own (they wait to be cancelled).
private struct StuckSource: PollingSource {
    let name = "stuck"
    let kind = "probe"
    let regions = ["eu-west-1", "us-east-1"]
    let intervalSeconds = 0.05
    let timeoutSeconds = 0.05
    let secrets: [String] = []

    func collect(at now: Timestamp) async -> CollectionRound {
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
        return CollectionRound(events: [], errors: [])
    }
}

@Suite("Polling loop")
struct PollingCollectorTests {
    /// Under load a round's own timeout may not report in time; the loop's bound then words
    /// the timeout as the source would, naming the regions it was collecting (the operator saw
    /// "timed out after 0.1s" without knowing where).
    @Test func aRoundPastItsBoundNamesTheRegionsItWasCollecting() async {
        let bus = EventBus<DashboardEvent>()
        let subscription = bus.subscribe(capacity: 100)
        let task = Task {
            await PollingCollector(source: StuckSource()).run(publishingTo: bus, clock: SystemWallClock())
        }
        defer { task.cancel() }
        var report: CollectorReport?
        // Generous: only a broken loop reaches it; the suites share two threads.
        let deadline = MonotonicClock.seconds() + 120
        while report == nil, MonotonicClock.seconds() < deadline {
            for case .collectorStatus(let status) in subscription.drain() where report == nil { report = status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        #expect(report != nil, "no report within the deadline")
        #expect(report?.error == "eu-west-1, us-east-1: timed out after \(Format.duration(0.05))")
    }
}
