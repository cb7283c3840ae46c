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
    }

    /// When the first write after a position happened, as far as the history tells.
    public enum FirstWrite: Equatable, Sendable {
        /// Nothing was written after the position up to `asOf`, the newest observation.
        case none(asOf: Timestamp)
        /// The first write after the position happened after `after` (unknown when the history
        /// does not reach back that far) and no later than `notLaterThan`.
        case within(after: Timestamp?, notLaterThan: Timestamp)
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
    public mutating func record(_ position: WALPosition, timeline: Int?, at time: Timestamp) {
        record(position, timeline: timeline, readBetween: time...time)
    }

    /// Records that the server's log was at `position` when read during `window`: it had
    /// reached the position by the window's end, and had not passed it at the window's start.
    /// Out-of-order observations are ignored; a position that moved backwards or a new timeline
    /// starts the history again.
    public mutating func record(_ position: WALPosition, timeline: Int?, readBetween window: ClosedRange<Timestamp>) {
        if let timeline, let current = self.timeline, timeline != current { points.removeAll() }
        if timeline != nil { self.timeline = timeline }
        let fresh = Point(position: position, firstSeen: window.upperBound, lastSeen: window.lowerBound)
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
        return .within(after: after, notLaterThan: points[low].firstSeen)
    }
}
