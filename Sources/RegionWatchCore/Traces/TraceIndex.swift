/// Trace id → store slot: an open-addressing table (linear probing, deletion by shifting back,
/// so no tombstones build up as traces are evicted). A dictionary hashed every id with
/// SipHash, per span looked up and per trace inserted and removed: a tenth of storing a span.
/// Ids come from clients, so the mix is seeded per process: ids chosen to collide cannot be
/// chosen without the seed.
struct TraceIndex: Sendable {
    /// Keys by bucket; the zero id (never valid, never stored) marks an empty bucket.
    private var keys: [TraceID]
    private var slots: [Int32]
    private var mask: Int
    private let seed: (UInt64, UInt64)
    /// Ids kept.
    private(set) var count = 0

    private static let empty = TraceID(high: 0, low: 0)

    init() {
        var random = SystemRandomNumberGenerator()
        seed = (random.next() | 1, random.next() | 1)
        keys = Array(repeating: Self.empty, count: 16)
        slots = Array(repeating: 0, count: 16)
        mask = 15
    }

    /// The slot of `id`; assigning `nil` removes it.
    subscript(id: TraceID) -> Int32? {
        get {
            guard id != Self.empty else { return nil }
            var bucket = home(of: id)
            while keys[bucket] != Self.empty {
                if keys[bucket] == id { return slots[bucket] }
                bucket = (bucket + 1) & mask
            }
            return nil
        }
        set {
            guard id != Self.empty else { return }
            if let newValue { insert(id, newValue) } else { remove(id) }
        }
    }

    private func home(of id: TraceID) -> Int {
        let product = (id.high ^ seed.0).multipliedFullWidth(by: id.low ^ seed.1)
        return Int(truncatingIfNeeded: product.high ^ product.low) & mask
    }

    private mutating func insert(_ id: TraceID, _ slot: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        var bucket = home(of: id)
        while keys[bucket] != Self.empty {
            if keys[bucket] == id {
                slots[bucket] = slot
                return
            }
            bucket = (bucket + 1) & mask
        }
        keys[bucket] = id
        slots[bucket] = slot
        count += 1
    }

    private mutating func remove(_ id: TraceID) {
        var hole = home(of: id)
        while keys[hole] != id {
            if keys[hole] == Self.empty { return }
            hole = (hole + 1) & mask
        }
        // Later entries of the run move back into the hole unless their home lies between
        // the hole and where they are (cyclically): then the hole does not break their probe.
        var next = hole
        while true {
            next = (next + 1) & mask
            if keys[next] == Self.empty { break }
            let wanted = home(of: keys[next])
            let staysPut = hole < next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !staysPut {
                keys[hole] = keys[next]
                slots[hole] = slots[next]
                hole = next
            }
        }
        keys[hole] = Self.empty
        count -= 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldSlots = slots
        keys = Array(repeating: Self.empty, count: oldKeys.count * 2)
        slots = Array(repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for (key, slot) in zip(oldKeys, oldSlots) where key != Self.empty { insert(key, slot) }
    }
}
