import DequeModule

/// The bounded store of recent traces.
///
/// Spans are kept as fixed-size records (about 56 bytes) in their trace, with names in a small
/// per-trace string table and details (attributes, events, links, status message) in a
/// per-trace byte blob; resources and scopes are shared, reference-counted tables. Limits are
/// by span count and approximate bytes. Eviction removes whole traces, oldest first, from the
/// region that owns the most spans, so a flood from one region evicts that region's traces and
/// not the others'. Spans may arrive in any order; they join their trace by trace ID.
public struct TraceStore: Sendable {
    public let limits: TraceStoreLimits
    public private(set) var counters = TraceStoreCounters()
    public private(set) var spanCount = 0
    public private(set) var approximateBytes = 0

    /// Traces by slot; a free slot holds `StoredTrace.vacant`. Not optional: mutating a trace
    /// through an optional moved the whole record out of the array and back for every span.
    private var slots: [StoredTrace] = []
    /// The generation of the trace in each slot (0 when free), beside the slots so eviction
    /// can check a queue entry without touching (or copying) the trace.
    private var slotGenerations: [UInt32] = []
    private var freeSlots: [Int32] = []
    private var index = TraceIndex()
    private var nextGeneration: UInt32 = 1
    private var regions = RegionTable()
    /// Per owner region: traces in arrival order (slot and generation; stale entries skipped).
    private var regionQueues: [Deque<(slot: Int32, generation: UInt32)>] = []
    private var regionSpanCounts: [Int] = []
    private var resources = SharedTable<SpanResource>()
    private var scopes = SharedTable<SpanScope>()

    /// A store whose region table always holds `reservedRegions` (the configured ones), with
    /// room for `limits.maxRegions` names besides them.
    public init(limits: TraceStoreLimits = TraceStoreLimits(), reservedRegions: [String] = []) {
        var limits = limits
        limits.maxRegions += reservedRegions.count
        self.limits = limits
        for name in reservedRegions { regions.reserve(name) }
    }

    /// Traces currently kept.
    public var traceCount: Int { index.count }

    /// Region names of kept spans (and names no kept trace uses any more, until forgotten).
    public var regionNames: [String] { regions.names }

    /// How many region names the store holds and how many it forgot (see also
    /// `spansFoldedIntoUnknownRegion`).
    public var regionBound: StoreBound {
        StoreBound(
            name: "span region names", count: regions.names.count, capacity: limits.maxRegions,
            forgotten: regions.forgottenNames)
    }

    /// Spans whose region was folded into "unknown" because every kept name was in use.
    public var spansFoldedIntoUnknownRegion: Int { regions.foldedSpans }

    /// How many spans the store holds and how many it evicted.
    public var spanBound: StoreBound {
        StoreBound(
            name: "trace store spans", count: spanCount, capacity: limits.maxSpans, forgotten: counters.evictedSpans)
    }

    /// Spans kept per owning region.
    public func spanCount(ownedBy region: String) -> Int {
        regions.id(of: region).map { Int($0) < regionSpanCounts.count ? regionSpanCounts[Int($0)] : 0 } ?? 0
    }

    // MARK: Inserting

    /// Adds a batch. Invalid spans are rejected and counted with their reason; the rest join
    /// their traces. Returns what derived signals need.
    public mutating func insert(_ batch: SpanBatch) -> SpanInsertOutcome {
        var outcome = SpanInsertOutcome()
        counters.receivedSpans += batch.spans.count
        var resourceIDs = [UInt32?](repeating: nil, count: batch.resources.count)
        var scopeIDs = [UInt32?](repeating: nil, count: batch.scopes.count)
        // Per resource, once: its region's id (a span would otherwise copy the resource and hash
        // its region name).
        var regionIDs = [UInt16?](repeating: nil, count: batch.resources.count)
        for resource in batch.resources {
            if let version = resource.serviceVersion, !version.isEmpty {
                outcome.versions[resource.region, default: [:]][resource.service] = version
            }
        }
        // Spans of a trace mostly come one after another: the last trace's slot saves a lookup.
        var lastTrace: (id: TraceID, slot: Int32)?
        // Read through a buffer: binding each span to a local (or reading it by subscript)
        // copied it, retaining its strings and arrays.
        batch.spans.withUnsafeBufferPointer { spans in
            for position in spans.indices {
                if let reason = Self.rejection(of: spans[position], in: batch) {
                    reject(reason, &outcome)
                    continue
                }
                let resourceIndex = spans[position].resourceIndex, scopeIndex = spans[position].scopeIndex
                let resourceID = resources.intern(
                    batch.resources[resourceIndex], cachedIn: &resourceIDs, at: resourceIndex)
                let scopeID = scopes.intern(batch.scopes[scopeIndex], cachedIn: &scopeIDs, at: scopeIndex)
                let regionID: UInt16
                if let known = regionIDs[spans[position].resourceIndex] {
                    regionID = known
                } else {
                    regionID = regions.id(
                        for: batch.resources[spans[position].resourceIndex].region, limit: limits.maxRegions)
                    regionIDs[spans[position].resourceIndex] = regionID
                    // Held for the batch, so a later new name cannot take over the id while it is
                    // cached (a rejected first span left it unused).
                    regions.retain(regionID)
                }
                let slot: Int32
                if let last = lastTrace, last.id == spans[position].traceID {
                    slot = last.slot
                } else {
                    slot =
                        index[spans[position].traceID]
                        ?? allocateSlot(for: spans[position].traceID, ownerRegion: regionID, at: batch.receivedAt)
                    lastTrace = (spans[position].traceID, slot)
                }
                guard
                    insert(
                        spans.baseAddress! + position, into: slot, resourceID: resourceID, scopeID: scopeID,
                        regionID: regionID,
                        at: batch.receivedAt, outcome: &outcome)
                else {
                    continue
                }
                if spans[position].kind.isEntry {
                    outcome.entrySpans.append(
                        EntrySpanObservation(
                            region: regions.name(of: regionID),
                            durationMilliseconds: Double(spans[position].endUnixNano &- spans[position].startUnixNano)
                                / 1e6,
                            isError: spans[position].statusCode == .error
                        ))
                }
            }
        }
        for id in regionIDs.compactMap({ $0 }) { regions.release(id) }
        // Resources and scopes interned for spans that were all rejected are not kept.
        for id in resourceIDs.compactMap({ $0 }) { resources.release(id, ifUnreferenced: true) }
        for id in scopeIDs.compactMap({ $0 }) { scopes.release(id, ifUnreferenced: true) }
        enforceLimits()
        return outcome
    }

    /// Why a span cannot be stored, or `nil` when it is valid.
    static func rejection(of span: borrowing IncomingSpan, in batch: SpanBatch) -> String? {
        if !batch.resources.indices.contains(span.resourceIndex) || !batch.scopes.indices.contains(span.scopeIndex) {
            return "inconsistent batch"
        }
        return SpanValidation.problem(of: span)
    }

    private mutating func reject(_ reason: String, _ outcome: inout SpanInsertOutcome) {
        counters.rejectedSpans += 1
        outcome.rejected += 1
        if counters.rejectionReasons[reason] != nil || counters.rejectionReasons.count < 32 {
            counters.rejectionReasons[reason, default: 0] += 1
        }
    }

    /// Stores the span `span` points to (in the batch's buffer: passed by value, it was copied,
    /// retaining its strings and slices, because the trace it goes into is mutated meanwhile).
    private mutating func insert(
        _ span: UnsafePointer<IncomingSpan>, into slot: Int32, resourceID: UInt32, scopeID: UInt32, regionID: UInt16,
        at now: Timestamp, outcome: inout SpanInsertOutcome
    ) -> Bool {
        let index = Int(slot)
        // Mutated in place in its slot: moving the trace out and back would retain and release
        // every one of its arrays for each span.
        if slots[index].spans.count >= limits.maxSpansPerTrace {
            reject("trace has more than \(limits.maxSpansPerTrace) spans", &outcome)
            return false
        }
        if slots[index].position(of: span.pointee.spanID.value) != nil {
            reject("duplicate span id", &outcome)
            return false
        }
        let before = slots[index].approximateBytes
        if !slots[index].regionIDs.contains(regionID) { regions.retain(regionID) }
        let hops = slots[index].append(
            span, resourceID: resourceID, scopeID: scopeID, regionID: regionID, limits: limits, at: now)
        if slots[index].retain(resource: resourceID) { resources.retain(resourceID) }
        if slots[index].retain(scope: scopeID) { scopes.retain(scopeID) }
        approximateBytes += slots[index].approximateBytes - before
        spanCount += 1
        regionSpanCounts[Int(slots[index].ownerRegion)] += 1
        counters.acceptedSpans += 1
        outcome.accepted += 1
        for hop in hops {
            outcome.hops.append(
                CrossRegionHop(
                    from: regions.name(of: hop.from), to: regions.name(of: hop.to),
                    latencyMilliseconds: hop.latencyMilliseconds))
        }
        return true
    }

    private mutating func allocateSlot(for traceID: TraceID, ownerRegion: UInt16, at now: Timestamp) -> Int32 {
        let generation = nextGeneration
        // Zero marks a free slot: skipped when the counter wraps.
        nextGeneration = nextGeneration == .max ? 1 : nextGeneration + 1
        let trace = StoredTrace(traceID: traceID, generation: generation, ownerRegion: ownerRegion, firstSeen: now)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = trace
            slotGenerations[Int(slot)] = generation
        } else {
            slot = Int32(slots.count)
            slots.append(trace)
            slotGenerations.append(generation)
        }
        index[traceID] = slot
        while regionQueues.count <= Int(ownerRegion) {
            regionQueues.append(Deque())
            regionSpanCounts.append(0)
        }
        regionQueues[Int(ownerRegion)].append((slot, generation))
        approximateBytes += StoredTrace.baseBytes
        return slot
    }

    // MARK: Evicting

    private mutating func enforceLimits() {
        while spanCount > limits.maxSpans || approximateBytes > limits.maxBytes {
            guard evictOneTrace() else { break }
        }
    }

    /// Evicts the oldest trace of the region owning the most spans (of regions owning as many,
    /// the one whose oldest trace is older, so a tie never evicts the trace just received).
    /// One pass over the regions, no allocation: it runs once per evicted trace.
    private mutating func evictOneTrace() -> Bool {
        var exhausted: Set<Int> = []
        while let region = largestRegion(excluding: exhausted) {
            while let (slot, generation) = regionQueues[region].popFirst() {
                guard slotGenerations[Int(slot)] == generation else { continue }
                counters.evictedTraces += 1
                counters.evictedSpans += removeTrace(at: slot)
                return true
            }
            exhausted.insert(region)
        }
        return false
    }

    /// The region owning the most spans (ties: the older oldest trace), not in `excluded`.
    private func largestRegion(excluding excluded: Set<Int>) -> Int? {
        var best: (region: Int, spans: Int, oldest: UInt32)?
        for region in regionSpanCounts.indices where regionSpanCounts[region] > 0 && !excluded.contains(region) {
            let candidate = (
                region: region, spans: regionSpanCounts[region], oldest: regionQueues[region].first?.generation ?? .max
            )
            guard let current = best else {
                best = candidate
                continue
            }
            if candidate.spans > current.spans
                || (candidate.spans == current.spans && candidate.oldest < current.oldest)
            {
                best = candidate
            }
        }
        return best?.region
    }

    /// Forgets the trace in `slot`; returns how many spans it held. Read and freed in its slot:
    /// taking it out first copied it (and retained each of its arrays) once more per eviction.
    private mutating func removeTrace(at slot: Int32) -> Int {
        let position = Int(slot)
        freeSlots.append(slot)
        slotGenerations[position] = 0
        let spans = slots[position].spans.count
        index[slots[position].traceID] = nil
        spanCount -= spans
        regionSpanCounts[Int(slots[position].ownerRegion)] -= spans
        approximateBytes -= slots[position].approximateBytes + StoredTrace.baseBytes
        for resource in slots[position].resourceIDs { resources.release(resource) }
        for scope in slots[position].scopeIDs { scopes.release(scope) }
        for region in slots[position].regionIDs { regions.release(region) }
        slots[position] = .vacant
        return spans
    }

    // MARK: Reading

    /// The trace with `id`, ready for display.
    public func trace(_ id: TraceID) -> TraceSnapshot? {
        guard let slot = index[id] else { return nil }
        return snapshot(of: slots[Int(slot)])
    }

    /// Summaries of every kept trace (unordered).
    public func summaries() -> [TraceSummary] {
        slots.indices.compactMap { slotGenerations[$0] == 0 ? nil : summary(of: slots[$0]) }
    }

    /// Summaries of the traces matching `query` (unordered).
    public func summaries(matching query: TraceQuery) -> [TraceSummary] {
        listing(matching: query).compactMap { summary(of: $0.traceID) }
    }

    /// The traces matching `query` as sortable entries, unordered. Cheaper than summaries: the
    /// trace list sorts and selects on these and builds summaries only for the rows it shows.
    public func listing(matching query: TraceQuery = TraceQuery()) -> [TraceListEntry] {
        var entries: [TraceListEntry] = []
        if query.isEmpty {
            entries.reserveCapacity(index.count)
            for position in slots.indices where slotGenerations[position] != 0 {
                entries.append(TraceListEntry(slots[position]))
            }
            return entries
        }
        guard let matcher = TraceMatcher(query: query, regions: regions, resources: resources) else { return [] }
        for position in slots.indices where slotGenerations[position] != 0 && matcher.matches(slots[position]) {
            entries.append(TraceListEntry(slots[position]))
        }
        return entries
    }

    /// The summary of the trace with `id`, if it is kept.
    public func summary(of id: TraceID) -> TraceSummary? {
        guard let slot = index[id] else { return nil }
        return summary(of: slots[Int(slot)])
    }

    /// The details of one span (decoded from the trace's blob).
    public func details(of spanID: SpanID, in traceID: TraceID) -> SpanDetails? {
        guard let slot = index[traceID], case let trace = slots[Int(slot)],
            let position = trace.position(of: spanID.value)
        else { return nil }
        let span = trace.spans[position]
        let decoded =
            span.detailOffset == StoredSpan.noDetails
            ? OTLPWire.Details() : StoredTrace.detailRecord(in: trace.details, at: Int(span.detailOffset))
        return SpanDetails(
            span: info(of: span, in: trace), statusMessage: decoded.statusMessage, attributes: decoded.attributes,
            events: decoded.events, links: decoded.links, droppedAttributes: decoded.droppedAttributes,
            resource: resources[span.resource], scope: scopes[span.scope]
        )
    }

    private func summary(of trace: StoredTrace) -> TraceSummary {
        let root = trace.rootPosition.map { trace.spans[$0] }
        return TraceSummary(
            traceID: trace.traceID,
            rootName: root.map { trace.strings[Int($0.name)] },
            rootService: root.map { resources[$0.resource].service },
            rootRegion: root.map { regions.name(of: $0.region) },
            startUnixNano: trace.startUnixNano,
            durationNanos: trace.endUnixNano &- trace.startUnixNano,
            spanCount: trace.spans.count,
            errorCount: trace.errorCount,
            regions: trace.regionIDs.map { regions.name(of: $0) },
            firstSeen: trace.firstSeen,
            lastUpdated: trace.lastUpdated,
            hasCrossRegionHop: trace.crossRegionHops > 0
        )
    }

    private func info(of span: StoredSpan, in trace: StoredTrace) -> SpanInfo {
        SpanInfo(
            spanID: SpanID(span.spanID), parentSpanID: SpanID(span.parentSpanID),
            name: trace.strings[Int(span.name)], service: resources[span.resource].service,
            region: regions.name(of: span.region), kind: span.kind, status: span.status,
            startUnixNano: span.startUnixNano, durationNanos: span.durationNanos
        )
    }

    private func snapshot(of trace: StoredTrace) -> TraceSnapshot {
        TraceSnapshot(summary: summary(of: trace), spans: trace.spans.map { info(of: $0, in: trace) })
    }
}

/// Region names ↔ compact ids. Names come from spans: beyond the limit, a name no kept trace
/// touches any more is forgotten to make room (its id is reused); while every name is in use, a
/// new one is folded into "unknown" and counted.
struct RegionTable: Sendable {
    private(set) var names: [String] = []
    private var ids: [String: UInt16] = [:]
    /// Kept traces that touch each region, by id.
    private var traceCounts: [Int] = []
    /// Names forgotten to make room for new ones.
    private(set) var forgottenNames = 0
    /// Spans whose region was folded into "unknown" because every name was in use.
    private(set) var foldedSpans = 0

    func id(of name: String) -> UInt16? { ids[name] }

    func name(of id: UInt16) -> String {
        Int(id) < names.count ? names[Int(id)] : SpanResource.unknownRegion
    }

    /// The id of `name`, adding it when there is room, else reusing the id of a name no kept
    /// trace touches, else "unknown".
    mutating func id(for name: String, limit: Int) -> UInt16 {
        if let existing = ids[name] { return existing }
        if names.count < limit || name == SpanResource.unknownRegion {
            let id = UInt16(names.count)
            names.append(name)
            traceCounts.append(0)
            ids[name] = id
            return id
        }
        if let unused = traceCounts.indices.first(where: {
            traceCounts[$0] == 0 && names[$0] != SpanResource.unknownRegion
        }) {
            ids[names[unused]] = nil
            names[unused] = name
            ids[name] = UInt16(unused)
            forgottenNames += 1
            return UInt16(unused)
        }
        foldedSpans += 1
        return id(for: SpanResource.unknownRegion, limit: .max)
    }

    /// Keeps `name` for good (a configured region): it is never forgotten or folded.
    mutating func reserve(_ name: String) {
        let id = id(for: name, limit: .max)
        traceCounts[Int(id)] += 1
    }

    /// One more kept trace touches region `id`.
    mutating func retain(_ id: UInt16) { traceCounts[Int(id)] += 1 }

    /// A kept trace that touched region `id` is gone.
    mutating func release(_ id: UInt16) { traceCounts[Int(id)] -= 1 }
}

/// A deduplicating table of shared values with reference counts, so values no kept trace uses
/// are freed.
struct SharedTable<Value: Hashable & Sendable>: Sendable {
    private var values: [Value?] = []
    private var counts: [Int] = []
    private var ids: [Value: UInt32] = [:]
    private var free: [UInt32] = []

    subscript(id: UInt32) -> Value { values[Int(id)]! }

    /// One more than the largest id ever handed out.
    var idLimit: Int { values.count }

    /// The value with `id`, or `nil` when the id is free.
    func value(at id: Int) -> Value? { values[id] }

    /// The id of a batch's value at `index`, interned once per batch: `cache` holds the ids
    /// found so far (interning hashes the whole value).
    mutating func intern(_ value: @autoclosure () -> Value, cachedIn cache: inout [UInt32?], at index: Int) -> UInt32 {
        if let known = cache[index] { return known }
        let id = intern(value())
        cache[index] = id
        return id
    }

    /// The id of `value`, adding it (with no references yet) when new.
    mutating func intern(_ value: Value) -> UInt32 {
        if let id = ids[value] { return id }
        let id: UInt32
        if let reused = free.popLast() {
            id = reused
            values[Int(id)] = value
            counts[Int(id)] = 0
        } else {
            id = UInt32(values.count)
            values.append(value)
            counts.append(0)
        }
        ids[value] = id
        return id
    }

    mutating func retain(_ id: UInt32) { counts[Int(id)] += 1 }

    /// Drops one reference (or, with `ifUnreferenced`, only frees a value nobody references).
    mutating func release(_ id: UInt32, ifUnreferenced: Bool = false) {
        if !ifUnreferenced { counts[Int(id)] -= 1 }
        guard counts[Int(id)] <= 0, let value = values[Int(id)] else { return }
        values[Int(id)] = nil
        ids[value] = nil
        free.append(id)
    }
}
