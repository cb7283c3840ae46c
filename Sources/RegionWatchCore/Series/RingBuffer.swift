import DequeModule

/// A first-in first-out buffer that keeps only the newest `capacity` elements.
public struct RingBuffer<Element>: Sequence {
    /// The most elements kept.
    public let capacity: Int
    /// Elements discarded to make room, since the buffer was made.
    public private(set) var evictedCount = 0
    private var storage: Deque<Element>

    public init(capacity: Int) {
        precondition(capacity > 0, "a ring buffer needs a positive capacity")
        self.capacity = capacity
        storage = Deque(minimumCapacity: capacity)
    }

    /// Appends `element`, discarding the oldest one when full. Returns the discarded element.
    @discardableResult
    public mutating func append(_ element: Element) -> Element? {
        var evicted: Element?
        if storage.count == capacity {
            evicted = storage.removeFirst()
            evictedCount += 1
        }
        storage.append(element)
        return evicted
    }

    /// Inserts `element` after the last element it is not ordered before, discarding the
    /// oldest when full: the buffer stays sorted when elements arrive slightly out of order.
    /// Returns the discarded element.
    @discardableResult
    public mutating func insert(
        _ element: Element, orderedBy areInIncreasingOrder: (Element, Element) -> Bool
    ) -> Element? {
        var index = storage.endIndex
        while index > storage.startIndex, areInIncreasingOrder(element, storage[index - 1]) { index -= 1 }
        storage.insert(element, at: index)
        guard storage.count > capacity else { return nil }
        evictedCount += 1
        return storage.removeFirst()
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    public var first: Element? { storage.first }
    public var last: Element? { storage.last }

    /// The newest `count` elements, oldest first.
    public func suffix(_ count: Int) -> [Element] { Array(storage.suffix(count)) }

    /// All elements, oldest first.
    public var elements: [Element] { Array(storage) }

    public func makeIterator() -> Deque<Element>.Iterator { storage.makeIterator() }
}

extension RingBuffer: Equatable where Element: Equatable {
    public static func == (lhs: RingBuffer, rhs: RingBuffer) -> Bool {
        lhs.capacity == rhs.capacity && lhs.storage == rhs.storage
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
