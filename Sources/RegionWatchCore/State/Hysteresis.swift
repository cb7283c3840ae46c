/// How long a threshold must hold before a published state changes (like Prometheus's `for:`).
public struct HysteresisTiming: Equatable, Sendable {
    /// Seconds a worse level must hold before it is published.
    public var sustainSeconds: Double
    /// Seconds the raw level must stay better before a better level is published.
    public var recoverSeconds: Double

    public init(sustainSeconds: Double = 10, recoverSeconds: Double = 30) {
        self.sustainSeconds = sustainSeconds
        self.recoverSeconds = recoverSeconds
    }

    /// No waiting: every raw change is published at once.
    public static let immediate = HysteresisTiming(sustainSeconds: 0, recoverSeconds: 0)
}

/// Turns a raw severity level that may flicker into a published one that changes only when the
/// raw level has held: a worse level after `sustainSeconds`, a better one after the raw level
/// has stayed below the published one for `recoverSeconds`. Levels marked immediate (a refused
/// connection, a probe streak, split brain) are published at once. Levels are 0 (best) ... n.
///
/// Keeps O(levels) state: for each level, since when the raw level has been at least that
/// level without interruption, and when it last was.
public struct Hysteresis: Equatable, Sendable {
    /// The published level; `nil` before the first update or after a reset.
    public private(set) var published: Int?
    public let levelCount: Int
    private var atLeastSince: [Timestamp?]
    private var lastAtLeast: [Timestamp?]
    /// When the published level changed, newest last (bounded), for the flap count.
    public private(set) var changes = RingBuffer<Timestamp>(capacity: 32)

    public init(levels: Int) {
        precondition(levels > 1, "hysteresis needs at least two levels")
        levelCount = levels
        atLeastSince = Array(repeating: nil, count: levels)
        lastAtLeast = Array(repeating: nil, count: levels)
    }

    /// Forgets the raw history: the next update publishes its level at once (after data was
    /// missing, new data is the first truth, not a flicker).
    public mutating func reset() {
        published = nil
        for level in 0..<levelCount {
            atLeastSince[level] = nil
            lastAtLeast[level] = nil
        }
    }

    /// Feeds the raw level at `now` (and the level of its immediate findings) and returns the
    /// published level.
    @discardableResult
    public mutating func update(raw: Int, immediate: Int = 0, at now: Timestamp, timing: HysteresisTiming) -> Int {
        let raw = min(max(0, raw), levelCount - 1)
        for level in 1..<levelCount {
            if raw >= level {
                if atLeastSince[level] == nil { atLeastSince[level] = now }
                lastAtLeast[level] = now
            } else {
                atLeastSince[level] = nil
            }
        }
        guard let current = published else {
            published = raw
            return raw
        }
        var sustained = 0
        for level in stride(from: levelCount - 1, through: 1, by: -1) {
            let held = atLeastSince[level].map { now.seconds(since: $0) >= timing.sustainSeconds } ?? false
            if immediate >= level || held {
                sustained = level
                break
            }
        }
        var next = current
        if sustained > current {
            next = sustained
        } else if raw < current {
            var recent = raw
            for level in stride(from: current, to: raw, by: -1) {
                if let last = lastAtLeast[level], now.seconds(since: last) < timing.recoverSeconds {
                    recent = level
                    break
                }
            }
            if recent < current { next = max(recent, sustained) }
        }
        if next != current {
            published = next
            changes.append(now)
        }
        return next
    }

    /// Seconds the raw level has been at least `level` without interruption, or `nil`.
    public func heldFor(level: Int, at now: Timestamp) -> Double? {
        guard level > 0, level < levelCount else { return nil }
        return atLeastSince[level].map { max(0, now.seconds(since: $0)) }
    }

    /// Seconds since the raw level was last at least `level`, or `nil` if never.
    public func sinceLast(level: Int, at now: Timestamp) -> Double? {
        guard level > 0, level < levelCount else { return nil }
        return lastAtLeast[level].map { max(0, now.seconds(since: $0)) }
    }

    /// Published changes within the last `window` seconds.
    public func changeCount(within window: Double, at now: Timestamp) -> Int {
        changes.reduce(0) { $0 + (now.seconds(since: $1) <= window ? 1 : 0) }
    }
}
