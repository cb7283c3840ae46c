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
    /// - Parameter onAvailable: called (on the publisher's thread, outside any lock) when the
    ///   buffer goes from empty to non-empty, so a waiting consumer can wake up.
    public func subscribe(capacity: Int, onAvailable: (@Sendable () -> Void)? = nil) -> EventSubscription<Event> {
        let subscription = EventSubscription<Event>(capacity: capacity, onAvailable: onAvailable)
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

/// One subscriber's bounded buffer.
public final class EventSubscription<Event: Sendable>: Sendable {
    private struct Buffer {
        var events: Deque<Event> = []
        var dropped = 0
    }

    /// The most events this subscriber buffers.
    public let capacity: Int
    private let buffer = Mutex(Buffer())
    private let onAvailable: (@Sendable () -> Void)?

    init(capacity: Int, onAvailable: (@Sendable () -> Void)?) {
        precondition(capacity > 0, "a subscription needs room for at least one event")
        self.capacity = capacity
        self.onAvailable = onAvailable
    }

    func enqueue<Events: Collection>(contentsOf events: Events) where Events.Element == Event {
        let becameAvailable = buffer.withLock { buffer -> Bool in
            let wasEmpty = buffer.events.isEmpty
            for event in events {
                if buffer.events.count == capacity {
                    buffer.events.removeFirst()
                    buffer.dropped += 1
                }
                buffer.events.append(event)
            }
            return wasEmpty && !buffer.events.isEmpty
        }
        if becameAvailable { onAvailable?() }
    }

    /// Removes and returns up to `limit` buffered events, oldest first.
    public func drain(limit: Int = .max) -> [Event] {
        buffer.withLock { buffer in
            let count = min(limit, buffer.events.count)
            let taken = Array(buffer.events.prefix(count))
            buffer.events.removeFirst(count)
            return taken
        }
    }

    /// Events waiting to be drained.
    public var pendingCount: Int { buffer.withLock { $0.events.count } }

    /// Events dropped because the buffer was full.
    public var droppedCount: Int { buffer.withLock { $0.dropped } }
}
