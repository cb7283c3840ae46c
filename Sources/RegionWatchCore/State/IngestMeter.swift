/// Counts applied events per second over a short sliding window, for the header's ingest rate.
public struct IngestMeter: Equatable, Sendable {
    /// Seconds of history the rate averages over.
    public let windowSeconds: Int
    private var buckets: [Int]
    private var currentSecond: Int?
    /// Events counted since start.
    public private(set) var total = 0

    public init(windowSeconds: Int = 5) {
        self.windowSeconds = windowSeconds
        buckets = Array(repeating: 0, count: windowSeconds + 1)
    }

    /// Counts `count` events at `now`.
    public mutating func count(_ count: Int = 1, at now: Timestamp) {
        advance(to: now)
        buckets[slot(currentSecond ?? 0)] += count
        total += count
    }

    /// Moves the window to `now`, clearing seconds that passed without events.
    public mutating func advance(to now: Timestamp) {
        let second = Int(now.secondsSinceEpoch.rounded(.down))
        guard let current = currentSecond else {
            currentSecond = second
            return
        }
        guard second > current else { return }
        let passed = min(second - current, buckets.count)
        for offset in 1...passed {
            buckets[slot(current + offset)] = 0
        }
        currentSecond = second
    }

    /// Events per second over the completed seconds of the window.
    public var eventsPerSecond: Double {
        guard let current = currentSecond else { return 0 }
        var sum = 0
        for offset in 1...windowSeconds {
            sum += buckets[slot(current - offset)]
        }
        return Double(sum) / Double(windowSeconds)
    }

    private func slot(_ second: Int) -> Int {
        let size = buckets.count
        return ((second % size) + size) % size
    }
}
