import Dispatch
import Synchronization
import Testing
@testable import RegionWatchCore

@Suite("EventBus")
struct EventBusTests {
    @Test func deliversInOrderToEverySubscriber() {
        let bus = EventBus<Int>()
        let first = bus.subscribe(capacity: 10)
        let second = bus.subscribe(capacity: 10)
        bus.publish(contentsOf: [1, 2, 3])
        #expect(first.drain() == [1, 2, 3])
        #expect(second.drain() == [1, 2, 3])
        #expect(first.drain().isEmpty)
        #expect(bus.publishedCount == 3)
    }

    @Test func fullBufferDropsOldestAndCounts() {
        let bus = EventBus<Int>()
        let subscription = bus.subscribe(capacity: 3)
        bus.publish(contentsOf: Array(1...10))
        #expect(subscription.pendingCount == 3)
        #expect(subscription.droppedCount == 7)
        #expect(subscription.drain() == [8, 9, 10])
    }

    @Test func slowSubscriberDoesNotAffectFastOne() {
        let bus = EventBus<Int>()
        let slow = bus.subscribe(capacity: 2)
        let fast = bus.subscribe(capacity: 100)
        for value in 0..<50 {
            bus.publish(value)
            _ = fast.drain()
        }
        #expect(slow.droppedCount == 48)
        #expect(fast.droppedCount == 0)
    }

    @Test func drainRespectsLimit() {
        let bus = EventBus<Int>()
        let subscription = bus.subscribe(capacity: 10)
        bus.publish(contentsOf: Array(1...5))
        #expect(subscription.drain(limit: 2) == [1, 2])
        #expect(subscription.drain() == [3, 4, 5])
    }

    @Test func wakesOnlyWhenBufferBecomesNonEmpty() {
        let wakes = Atomic<Int>(0)
        let bus = EventBus<Int>()
        let subscription = bus.subscribe(capacity: 10) { wakes.add(1, ordering: .relaxed) }
        bus.publish(1)
        bus.publish(2)
        #expect(wakes.load(ordering: .relaxed) == 1)
        _ = subscription.drain()
        bus.publish(3)
        #expect(wakes.load(ordering: .relaxed) == 2)
    }

    @Test func urgentPolicyWakesForUrgentEventsOrAFullEnoughBuffer() {
        let wakes = Atomic<Int>(0)
        let bus = EventBus<Int>()
        // Negative numbers are urgent; three pending events wake regardless.
        let subscription = bus.subscribe(capacity: 10, wake: .urgent(pendingLimit: 3, where: { $0 < 0 })) {
            wakes.add(1, ordering: .relaxed)
        }
        bus.publish(1)
        bus.publish(2)
        #expect(wakes.load(ordering: .relaxed) == 0, "samples wait for the consumer's own schedule")
        #expect(!subscription.wantsDrain)
        bus.publish(-1)
        #expect(wakes.load(ordering: .relaxed) == 1, "an urgent event wakes at once")
        #expect(subscription.wantsDrain)
        bus.publish(-2)
        #expect(wakes.load(ordering: .relaxed) == 1, "one wake until the consumer drains")
        #expect(subscription.drain(limit: 2) == [1, 2])
        #expect(subscription.wantsDrain, "a partial drain leaves the wake standing")
        #expect(subscription.drain() == [-1, -2])
        #expect(!subscription.wantsDrain)
        bus.publish(contentsOf: [3, 4])
        #expect(wakes.load(ordering: .relaxed) == 1)
        bus.publish(5)
        #expect(wakes.load(ordering: .relaxed) == 2, "the pending limit wakes without an urgent event")
        #expect(subscription.drain() == [3, 4, 5])
    }

    @Test func dashboardEventsThatCannotWaitForTheRefresh() {
        let now = Timestamp(secondsSinceEpoch: 1_000)
        let received = SpanBatch(
            source: "otlp", receivedAt: now, resources: [], scopes: [], spans: [], holdsIngestReservation: true)
        let simulated = SpanBatch(source: "simulator", receivedAt: now, resources: [], scopes: [], spans: [])
        #expect(DashboardEvent.spans(received).cannotWaitForRefresh, "the receivers' gate waits for its room")
        #expect(!DashboardEvent.spans(simulated).cannotWaitForRefresh)
        #expect(DashboardEvent.notice(Notice(at: now, severity: .info, message: "chaos")).cannotWaitForRefresh)
        #expect(!DashboardEvent.tick(now).cannotWaitForRefresh)
        #expect(
            !DashboardEvent.regionSample(RegionSample(region: "a", source: "s", observedAt: now))
                .cannotWaitForRefresh)
    }

    @Test func droppedEventsAreHandedToOnDrop() {
        let bus = EventBus<Int>()
        let dropped = Mutex<[Int]>([])
        let subscription = bus.subscribe(capacity: 2, onDrop: { events in dropped.withLock { $0 += events } })
        bus.publish(contentsOf: [1, 2, 3])
        bus.publish(4)
        #expect(dropped.withLock { $0 } == [1, 2])
        #expect(subscription.drain() == [3, 4] && subscription.droppedCount == 2)
    }

    @Test func unsubscribedReceivesNothing() {
        let bus = EventBus<Int>()
        let subscription = bus.subscribe(capacity: 10)
        bus.unsubscribe(subscription)
        bus.publish(1)
        #expect(subscription.pendingCount == 0)
    }

    @Test func concurrentPublishersNeverLoseCount() {
        let bus = EventBus<Int>()
        let subscription = bus.subscribe(capacity: 1000)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for value in 0..<5000 { bus.publish(worker * 10_000 + value) }
        }
        #expect(bus.publishedCount == 40_000)
        #expect(subscription.pendingCount + subscription.droppedCount == 40_000)
        #expect(subscription.pendingCount == 1000)
    }
}
