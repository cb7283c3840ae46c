import DequeModule

/// When a server's write-ahead log passed each position: the positions a primary reported,
/// each with the first and last time it was seen at that position.
///
/// This is how a time lag is read from positions: the oldest write a standby has not replayed
/// is the first write after its replay position, and it happened after the primary was last
/// seen at or before that position and no later than the primary was first seen beyond it.
/// The resolution is the primary's collection interval. Bounded: the oldest points go first.
public struct WALHistory: Equatable, Sendable {
    /// One distinct position, and when it was first and last observed.
    public struct Point: Equatable, Sendable {
        public var position: WALPosition
        public var firstSeen: Timestamp
        public var lastSeen: Timestamp
        /// One past the server's newest completed transaction, when known: it advances only
        /// when a transaction ends, not for checkpoints, vacuum or other upkeep.
        public var nextTransaction: UInt64?
    }

    /// When the first write after a position happened, as far as the history tells.
    public enum FirstWrite: Equatable, Sendable {
        /// Nothing was written after the position up to `asOf`, the newest observation.
        case none(asOf: Timestamp)
        /// The first write after the position happened after `after` (unknown when the history
        /// does not reach back that far) and no later than `notLaterThan` (unknown when all that
        /// followed may have been upkeep: a checkpoint, vacuum, no transaction).
        case within(after: Timestamp?, notLaterThan: Timestamp?)
        /// Nothing is known about the server's position.
        case unknown
    }

    /// Points kept: with one-second collection and constant writes, a little over an hour.
    public static let defaultCapacity = 4096

    public let capacity: Int
    /// The timeline the points belong to; a change of timeline starts a new history.
    public private(set) var timeline: Int?
    private var points: Deque<Point> = []

    public init(capacity: Int = WALHistory.defaultCapacity) {
        precondition(capacity > 1, "a WAL history needs at least two points")
        self.capacity = capacity
    }

    /// The newest observation.
    public var newest: Point? { points.last }
    /// The oldest observation still kept.
    public var oldest: Point? { points.first }
    public var count: Int { points.count }

    /// Records that the server's log was at `position` at `time`.
    public mutating func record(
        _ position: WALPosition, timeline: Int?, nextTransaction: UInt64? = nil, at time: Timestamp
    ) {
        record(position, timeline: timeline, nextTransaction: nextTransaction, readBetween: time...time)
    }

    /// Records that the server's log was at `position` when read during `window`: it had
    /// reached the position by the window's end, and had not passed it at the window's start.
    /// Out-of-order observations are ignored; a position that moved backwards or a new timeline
    /// starts the history again.
    public mutating func record(
        _ position: WALPosition, timeline: Int?, nextTransaction: UInt64? = nil,
        readBetween window: ClosedRange<Timestamp>
    ) {
        if let timeline, let current = self.timeline, timeline != current { points.removeAll() }
        if timeline != nil { self.timeline = timeline }
        let fresh = Point(
            position: position, firstSeen: window.upperBound, lastSeen: window.lowerBound,
            nextTransaction: nextTransaction)
        guard let last = points.last else {
            points.append(fresh)
            return
        }
        guard window.lowerBound >= last.lastSeen else { return }
        if position == last.position {
            points[points.count - 1].lastSeen = window.lowerBound
        } else if position > last.position {
            if points.count == capacity { points.removeFirst() }
            points.append(fresh)
        } else {
            points.removeAll()
            points.append(fresh)
        }
    }

    /// The position the server is known to have reached by `time`: the newest one first seen
    /// no later than then. `nil` when nothing was seen by then.
    public func position(asOf time: Timestamp) -> WALPosition? {
        for point in points.reversed() where point.firstSeen <= time { return point.position }
        return nil
    }

    /// When the first write after `position` happened.
    public func firstWrite(after position: WALPosition) -> FirstWrite {
        guard let last = points.last else { return .unknown }
        guard last.position > position else { return .none(asOf: last.lastSeen) }
        // Positions strictly increase: find the first point beyond `position`.
        var low = 0
        var high = points.count - 1
        while low < high {
            let middle = (low + high) / 2
            if points[middle].position > position { high = middle } else { low = middle + 1 }
        }
        let after = low > 0 ? points[low - 1].lastSeen : nil
        // The write is known to have happened by the first point beyond the position whose
        // step brought a transaction; a step that straddles the position may have brought it
        // before the position (already replayed), so only whole steps beyond it count.
        var notLaterThan: Timestamp?
        // Before the history nothing is known: the first point proves log beyond the position,
        // not that a transaction wrote it.
        for index in max(low, 1)..<points.count {
            let previous = points[index - 1]
            guard previous.position >= position else { continue }
            if Self.broughtTransaction(from: previous, to: points[index]) {
                notLaterThan = points[index].firstSeen
                break
            }
        }
        return .within(after: after, notLaterThan: notLaterThan)
    }

    /// When the server was first seen to have completed a transaction with an id of at least
    /// `next`: the first point whose `nextTransaction` is beyond it. `nil` when no point is.
    /// (A server whose own `nextTransaction` is `next` has replayed the end of none of them.)
    public func firstSeen(completingTransactionsFrom next: UInt64) -> Timestamp? {
        guard let last = points.last?.nextTransaction, last > next else { return nil }
        // Transaction ids never go back on one timeline of one server: a binary search.
        var low = 0
        var high = points.count - 1
        while low < high {
            let middle = (low + high) / 2
            if (points[middle].nextTransaction ?? 0) > next { high = middle } else { low = middle + 1 }
        }
        return points[low].firstSeen
    }

    /// Whether a transaction wrote between two points (unknown counts as yes).
    private static func broughtTransaction(from previous: Point?, to point: Point) -> Bool {
        guard let before = previous?.nextTransaction, let after = point.nextTransaction else { return true }
        return after != before
    }
}
