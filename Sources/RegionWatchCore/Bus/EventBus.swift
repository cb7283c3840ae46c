import DequeModule
import Synchronization

/// A typed publish/subscribe bus with a bounded buffer per subscriber.
///
/// Publishing never blocks and never grows memory without bound: when a subscriber's buffer is
/// full, its oldest event is dropped (the newest data is the most truthful) and counted, and the
/// count is shown to the operator.
public final class EventBus<Event: Sendable>: Sendable {
    private let subscribers = Mutex<[EventSubscription<Event>]>([])
    private let published = Atomic<Int>(0)

    public init() {}

    /// Adds a subscriber whose buffer holds at most `capacity` events.
    ///
    /// - Parameters:
    ///   - wake: which events call `onAvailable`: by default the first event after a drain.
    ///   - onAvailable: called (on the publisher's thread, outside any lock) once per drain when
    ///     the buffer first holds what `wake` asks for, so a waiting consumer can wake up.
    ///   - onDrop: called (on the publisher's thread, outside any lock) with the events a full
    ///     buffer dropped, so what they held (an ingest reservation) can be given back.
    public func subscribe(
        capacity: Int, wake: WakePolicy<Event> = .anyEvent, onAvailable: (@Sendable () -> Void)? = nil,
        onDrop: (@Sendable ([Event]) -> Void)? = nil
    ) -> EventSubscription<Event> {
        let subscription = EventSubscription<Event>(
            capacity: capacity, wake: wake, onAvailable: onAvailable, onDrop: onDrop)
        subscribers.withLock { $0.append(subscription) }
        return subscription
    }

    /// Removes a subscriber; it receives nothing further.
    public func unsubscribe(_ subscription: EventSubscription<Event>) {
        subscribers.withLock { list in list.removeAll { $0 === subscription } }
    }

    /// Delivers `event` to every subscriber.
    public func publish(_ event: Event) {
        publish(contentsOf: CollectionOfOne(event))
    }

    /// Delivers `events`, in order, to every subscriber.
    public func publish<Events: Collection>(contentsOf events: Events) where Events.Element == Event {
        guard !events.isEmpty else { return }
        published.add(events.count, ordering: .relaxed)
        let current = subscribers.withLock { $0 }
        for subscription in current {
            subscription.enqueue(contentsOf: events)
        }
    }

    /// Events published since the bus was created.
    public var publishedCount: Int { published.load(ordering: .relaxed) }
}

/// When a subscriber wants to be woken. A consumer that drains on its own schedule anyway
/// (the dashboard, once per refresh) is woken only for what cannot wait, so a steady trickle of
/// samples does not wake it between refreshes.
public struct WakePolicy<Event>: Sendable {
    /// Whether an event cannot wait for the consumer's next scheduled drain.
    let isUrgent: @Sendable (Event) -> Bool
    /// Pending events that wake the consumer even when none is urgent.
    let pendingLimit: Int

    /// Wakes for the first event after a drain.
    public static var anyEvent: WakePolicy { WakePolicy(isUrgent: { _ in true }, pendingLimit: 1) }

    /// Wakes for the first urgent event, or once `pendingLimit` events wait.
    public static func urgent(pendingLimit: Int, where isUrgent: @escaping @Sendable (Event) -> Bool) -> WakePolicy {
        WakePolicy(isUrgent: isUrgent, pendingLimit: max(1, pendingLimit))
    }
}

/// One subscriber's bounded buffer.
public final class EventSubscription<Event: Sendable>: Sendable {
    private struct Buffer {
        var events: Deque<Event> = []
        var dropped = 0
        /// Whether the consumer was woken since its last drain emptied the buffer.
        var woken = false
    }

    /// The most events this subscriber buffers.
    public let capacity: Int
    private let buffer = Mutex(Buffer())
    private let wake: WakePolicy<Event>
    private let onAvailable: (@Sendable () -> Void)?
    private let onDrop: (@Sendable ([Event]) -> Void)?

    init(
        capacity: Int, wake: WakePolicy<Event>, onAvailable: (@Sendable () -> Void)?,
        onDrop: (@Sendable ([Event]) -> Void)? = nil
    ) {
        precondition(capacity > 0, "a subscription needs room for at least one event")
        self.capacity = capacity
        self.wake = wake
        self.onAvailable = onAvailable
        self.onDrop = onDrop
    }

    func enqueue<Events: Collection>(contentsOf events: Events) where Events.Element == Event {
        let wake = self.wake
        let keepsDropped = onDrop != nil
        var dropped: [Event] = []
        let wakesNow = buffer.withLock { buffer -> Bool in
            for event in events {
                if buffer.events.count == capacity {
                    let oldest = buffer.events.removeFirst()
                    if keepsDropped { dropped.append(oldest) }
                    buffer.dropped += 1
                }
                buffer.events.append(event)
            }
            guard !buffer.woken else { return false }
            buffer.woken = buffer.events.count >= wake.pendingLimit || events.contains(where: wake.isUrgent)
            return buffer.woken
        }
        if !dropped.isEmpty { onDrop?(dropped) }
        if wakesNow { onAvailable?() }
    }

    /// Removes and returns up to `limit` buffered events, oldest first.
    public func drain(limit: Int = .max) -> [Event] {
        buffer.withLock { buffer in
            let count = min(limit, buffer.events.count)
            let taken = Array(buffer.events.prefix(count))
            buffer.events.removeFirst(count)
            if buffer.events.isEmpty { buffer.woken = false }
            return taken
        }
    }

    /// Events waiting to be drained.
    public var pendingCount: Int { buffer.withLock { $0.events.count } }

    /// Whether waiting events asked to wake the consumer (see `WakePolicy`): it should drain
    /// before it waits again.
    public var wantsDrain: Bool { buffer.withLock { $0.woken && !$0.events.isEmpty } }

    /// Events dropped because the buffer was full.
    public var droppedCount: Int { buffer.withLock { $0.dropped } }
}
