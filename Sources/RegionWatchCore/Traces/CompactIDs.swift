/// A small set of table ids kept in order of first insertion: up to three inline, more in an
/// array. A trace names one or two resources, scopes and regions; three arrays per trace cost
/// three allocations when it arrived and three frees when it was evicted.
struct CompactIDs<ID: FixedWidthInteger & Sendable>: Sendable, Sequence {
    private var first: ID = 0
    private var second: ID = 0
    private var third: ID = 0
    private var inlineCount: UInt8 = 0
    private var overflow: [ID] = []

    /// How many ids the set holds.
    var count: Int { Int(inlineCount) + overflow.count }

    func contains(_ id: ID) -> Bool {
        switch inlineCount {
        case 0: false
        case 1: first == id
        case 2: first == id || second == id
        default: first == id || second == id || third == id || overflow.contains(id)
        }
    }

    /// Adds `id`; `true` when it was not there yet.
    mutating func insert(_ id: ID) -> Bool {
        guard !contains(id) else { return false }
        switch inlineCount {
        case 0: first = id
        case 1: second = id
        case 2: third = id
        default:
            overflow.append(id)
            return true
        }
        inlineCount += 1
        return true
    }

    func makeIterator() -> Iterator { Iterator(ids: self) }

    struct Iterator: IteratorProtocol {
        let ids: CompactIDs
        var position = 0

        mutating func next() -> ID? {
            defer { position += 1 }
            switch position {
            case 0 where ids.inlineCount > 0: return ids.first
            case 1 where ids.inlineCount > 1: return ids.second
            case 2 where ids.inlineCount > 2: return ids.third
            default:
                let index = position - 3
                return index >= 0 && index < ids.overflow.count ? ids.overflow[index] : nil
            }
        }
    }
}
