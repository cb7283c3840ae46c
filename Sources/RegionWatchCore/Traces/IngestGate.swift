import Synchronization

/// Bounds the spans and log records in flight between receivers and the state: a receiver reserves room before
/// publishing a batch and is refused (the client gets 429 with Retry-After) when ingest is
/// saturated; whoever applies the batch releases the reservation. Never an unbounded queue.
public final class IngestGate: Sendable {
    /// Most spans in flight.
    public let spanCapacity: Int
    /// Most batches in flight (keeps the bus below its own bound even with tiny batches).
    public let batchCapacity: Int
    private let spans = Atomic<Int>(0)
    private let batches = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)

    public init(spanCapacity: Int = 200_000, batchCapacity: Int = 4_000) {
        self.spanCapacity = spanCapacity
        self.batchCapacity = batchCapacity
    }

    /// Reserves room for a batch of `count` spans; `false` when ingest is saturated.
    public func tryReserve(spans count: Int) -> Bool {
        let newSpans = spans.add(count, ordering: .acquiringAndReleasing).newValue
        let newBatches = batches.add(1, ordering: .acquiringAndReleasing).newValue
        if (newSpans > spanCapacity && newSpans != count) || newBatches > batchCapacity {
            spans.subtract(count, ordering: .acquiringAndReleasing)
            batches.subtract(1, ordering: .acquiringAndReleasing)
            refusals.add(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Releases a batch's reservation once it has been applied (or dropped).
    public func release(spans count: Int) {
        spans.subtract(count, ordering: .acquiringAndReleasing)
        batches.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Batches currently reserved.
    public var batchesInFlight: Int { batches.load(ordering: .relaxed) }
    /// Spans currently reserved.
    public var spansInFlight: Int { spans.load(ordering: .relaxed) }
    /// Requests refused since start.
    public var refusalCount: Int { refusals.load(ordering: .relaxed) }
}

extension Sequence where Element == DashboardEvent {
    /// The item counts (spans, log records) of the batches here that hold an ingest
    /// reservation, one entry per batch: each is released on its own, since the gate counts
    /// batches as well as items.
    public var ingestReservations: [Int] {
        compactMap { event in
            switch event {
            case .spans(let batch) where batch.holdsIngestReservation: batch.spans.count
            case .logs(let batch) where batch.holdsIngestReservation: batch.records.count
            default: nil
            }
        }
    }
}
