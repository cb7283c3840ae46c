import DequeModule

/// A dictionary with a capacity: adding a key when it is full forgets the entry touched least
/// recently (the stalest) and counts it, so a map keyed by names that come from outside (label
/// values, service names, region pairs) stays bounded however many names arrive.
///
/// Reading does not touch an entry; `update` does. Touches are also kept in order in a queue
/// (a touch again leaves its older record behind, skipped when it reaches the front, and the
/// queue is rebuilt from the entries when it reaches twice the capacity), so forgetting the
/// stalest costs O(1) amortised and never looks at the values.
public struct RecencyBoundedMap<Key: Hashable, Value> {
    /// The most entries kept.
    public let capacity: Int
    /// Entries forgotten to make room, since the map was made.
    public private(set) var forgottenCount = 0
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    /// Touches, oldest first; a record whose time is not its entry's is stale.
    private var touches = Deque<Touch>()

    struct Touch {
        var key: Key
        var time: UInt64
    }

    struct Entry {
        var value: Value
        var touched: UInt64
    }

    public init(capacity: Int) {
        precondition(capacity > 0, "a bounded map needs a positive capacity")
        self.capacity = capacity
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [Key] { Array(entries.keys) }
    public var values: [Value] { entries.values.map(\.value) }
    /// The entries as a plain dictionary (for reports).
    public var dictionary: [Key: Value] { entries.mapValues(\.value) }

    public subscript(key: Key) -> Value? { entries[key]?.value }

    /// Touch records kept (bounded by twice the capacity and a little).
    var touchRecordCount: Int { touches.count }

    /// Changes the value of `key` (starting from `initial` when it is new) and marks it as the
    /// most recently touched. Returns the key forgotten to make room, if one was.
    @discardableResult
    public mutating func update(
        _ key: Key, default initial: @autoclosure () -> Value, _ change: (inout Value) -> Void
    ) -> Key? {
        clock &+= 1
        defer { recordTouch(of: key) }
        if entries[key] != nil {
            // Changed in place: copying the value out and back would copy its storage.
            entries[key]!.touched = clock
            change(&entries[key]!.value)
            return nil
        }
        let forgotten = entries.count >= capacity ? forgetStalest() : nil
        var value = initial()
        change(&value)
        entries[key] = Entry(value: value, touched: clock)
        return forgotten
    }

    /// Sets `value` for `key`, marking it as the most recently touched. Returns the key
    /// forgotten to make room, if one was.
    @discardableResult
    public mutating func set(_ key: Key, to value: Value) -> Key? {
        update(key, default: value) { $0 = value }
    }

    /// Replaces every entry with `pairs` (a source's complete list, in a stable order): the
    /// last `capacity` of them are kept. The ones left out are counted once per change of the
    /// list, not again for every identical report.
    public mutating func replaceAll(with pairs: [(Key, Value)]) where Value: Equatable {
        let kept = pairs.suffix(capacity)
        let unchanged = kept.count == entries.count && kept.allSatisfy { key, value in entries[key]?.value == value }
        guard !unchanged else { return }
        entries.removeAll(keepingCapacity: true)
        touches.removeAll(keepingCapacity: true)
        forgottenCount += pairs.count - kept.count
        for (key, value) in kept { set(key, to: value) }
    }

    /// Removes `key` (not counted as forgotten).
    public mutating func remove(_ key: Key) {
        entries[key] = nil
    }

    private mutating func recordTouch(of key: Key) {
        // The same key touched again in a row (spans of one region in a batch): its record
        // moves forward in place instead of growing the queue.
        if let last = touches.last, last.key == key {
            touches[touches.index(before: touches.endIndex)].time = clock
            return
        }
        touches.append(Touch(key: key, time: clock))
        guard touches.count > 2 * capacity + 16 else { return }
        // Rebuilt from the entries: one record each, oldest first.
        touches = Deque(entries.map { Touch(key: $0.key, time: $0.value.touched) }.sorted { $0.time < $1.time })
    }

    private mutating func forgetStalest() -> Key? {
        while let touch = touches.popFirst() {
            guard entries[touch.key]?.touched == touch.time else { continue }
            entries[touch.key] = nil
            forgottenCount += 1
            return touch.key
        }
        return nil
    }
}

extension RecencyBoundedMap.Entry: Equatable where Value: Equatable {}
extension RecencyBoundedMap.Entry: Sendable where Key: Sendable, Value: Sendable {}
extension RecencyBoundedMap.Touch: Sendable where Key: Sendable {}
extension RecencyBoundedMap: Sendable where Key: Sendable, Value: Sendable {}

extension RecencyBoundedMap: Equatable where Value: Equatable {
    /// Equal when they hold the same keys and values and have forgotten as many (recency is not
    /// compared).
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.capacity == rhs.capacity && lhs.forgottenCount == rhs.forgottenCount
            && lhs.entries.count == rhs.entries.count
            && lhs.entries.allSatisfy { key, entry in rhs.entries[key]?.value == entry.value }
    }
}

/// How full one bounded store is and what it gave up, for the detail screen and `status --json`.
public struct StoreBound: Equatable, Sendable, Encodable {
    /// What the store holds ("unknown region names", "services in eu-west-1", …).
    public var name: String
    public var count: Int
    public var capacity: Int
    /// Entries forgotten (or folded, or not kept) to stay within the capacity.
    public var forgotten: Int

    public init(name: String, count: Int, capacity: Int, forgotten: Int) {
        self.name = name
        self.count = count
        self.capacity = capacity
        self.forgotten = forgotten
    }
}
