import DequeModule

/// Bounds of the log store. Everything the store keeps is bounded by these.
public struct LogStoreLimits: Equatable, Sendable {
    /// Most records kept; beyond this the oldest of the region that holds the most go first.
    public var maxRecords = 200_000
    /// Approximate bytes kept (records, bodies, attributes).
    public var maxBytes = 128 * 1024 * 1024
    /// Longer bodies are cut (with "…").
    public var maxBodyBytes = 8 * 1024
    /// Attributes beyond this on a record are dropped (and counted).
    public var maxAttributes = 64
    /// Longer attribute text is cut (with "…").
    public var maxAttributeBytes = 4 * 1024
    /// Distinct region names kept; further unknown names are folded into "unknown".
    public var maxRegions = 128

    public init() {}
}

/// Counters of what happened to received log records.
public struct LogStoreCounters: Equatable, Sendable {
    public var received = 0
    public var accepted = 0
    public var rejected = 0
    public var evicted = 0
    /// Bodies or attribute lists cut to the limits.
    public var truncated = 0
    /// Rejections by reason (at most 32 reasons).
    public var rejectionReasons: [String: Int] = [:]

    public init() {}
}

/// Which records to show: words, a minimum level, and `region=`, `service=`, `trace=`,
/// `span=` filters. Every part must match.
public struct LogQuery: Equatable, Sendable {
    /// Lower-cased words; each must appear in the body, an attribute, the service or region.
    public var words: [String] = []
    public var minimumSeverity: LogSeverity?
    public var region: String?
    public var service: String?
    public var traceID: TraceID?
    public var spanID: SpanID?

    public init(
        words: [String] = [], minimumSeverity: LogSeverity? = nil, region: String? = nil, service: String? = nil,
        traceID: TraceID? = nil, spanID: SpanID? = nil
    ) {
        self.words = words
        self.minimumSeverity = minimumSeverity
        self.region = region
        self.service = service
        self.traceID = traceID
        self.spanID = spanID
    }

    /// Why a filter could not be understood.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses filter text such as `timeout region=eu-west-1 service=api trace=4bf9…`. The
    /// minimum level is set apart (the `v` key), but `level=error` is understood too.
    public static func parse(_ text: String) -> Result<LogQuery, ParseError> {
        var query = LogQuery()
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            let lowered = token.lowercased()
            guard let equals = token.firstIndex(of: "="), lowered.hasPrefix("http") == false else {
                query.words.append(lowered)
                continue
            }
            let key = lowered[..<equals]
            let value = String(token[token.index(after: equals)...])
            guard !value.isEmpty || !["region", "service", "trace", "span", "level"].contains(key) else {
                return .failure(ParseError(description: "\(key)= needs a value"))
            }
            switch key {
            case "region": query.region = value
            case "service": query.service = value
            case "trace":
                guard let id = TraceID(hex: value.lowercased()) else {
                    return .failure(ParseError(description: "trace= needs a 32-digit hex trace id"))
                }
                query.traceID = id
            case "span":
                guard let id = SpanID(hex: value.lowercased()) else {
                    return .failure(ParseError(description: "span= needs a 16-digit hex span id"))
                }
                query.spanID = id
            case "level", "severity":
                guard let severity = LogSeverity(text: value) else {
                    return .failure(
                        ParseError(
                            description: "level=\(value) is not a level (trace, debug, info, warn, error, fatal)"))
                }
                query.minimumSeverity = severity
            default:
                query.words.append(lowered)
            }
        }
        return .success(query)
    }
}

/// The bounded store of recent log records.
///
/// Records are kept per region in arrival order; resources (region, service) are shared,
/// reference-counted. Limits are by record count and approximate bytes; eviction removes the
/// oldest records of the region that holds the most, so a flood from one region evicts its own
/// records and not the others'.
public struct LogStore: Sendable {
    public let limits: LogStoreLimits
    public private(set) var counters = LogStoreCounters()
    public private(set) var recordCount = 0
    public private(set) var approximateBytes = 0
    private var nextSequence: UInt64 = 1
    private var regions = RegionTable()
    /// Records per region id, oldest first.
    private var queues: [Deque<StoredLogRecord>] = []
    private var resources = SharedTable<SpanResource>()

    /// One record as kept.
    struct StoredLogRecord: Sendable {
        var sequence: UInt64
        var timeUnixNano: UInt64
        var traceID: TraceID
        var spanID: SpanID
        var resourceID: UInt32
        var severityNumber: UInt8
        var severityText: String
        var body: String
        /// `key=value` lines.
        var attributes: String

        /// Bytes the record holds: its slot and the heap storage of its longer strings.
        var approximateBytes: Int {
            func heap(_ text: String) -> Int {
                let count = text.utf8.count
                return count > 15 ? 32 + count : 0
            }
            return MemoryLayout<Self>.stride + heap(severityText) + heap(body) + heap(attributes)
        }
    }

    /// A store whose region table always holds `reservedRegions` (the configured ones).
    public init(limits: LogStoreLimits = LogStoreLimits(), reservedRegions: [String] = []) {
        var limits = limits
        limits.maxRegions += reservedRegions.count
        self.limits = limits
        for name in reservedRegions {
            regions.reserve(name)
            ensureQueue(regions.id(of: name) ?? 0)
        }
    }

    /// How many records the store holds and how many it evicted.
    public var recordBound: StoreBound {
        StoreBound(name: "log records", count: recordCount, capacity: limits.maxRecords, forgotten: counters.evicted)
    }

    /// Records kept from `region`.
    public func recordCount(in region: String) -> Int {
        guard let id = regions.id(of: region), Int(id) < queues.count else { return 0 }
        return queues[Int(id)].count
    }

    /// Regions records came from, in first-seen order.
    public var regionNames: [String] { regions.names }

    // MARK: Inserting

    /// What inserting a batch did, for derived signals.
    public struct InsertOutcome: Equatable, Sendable {
        public var accepted = 0
        /// Records per region, and those of level ERROR or above.
        public var recordsByRegion: [String: Int] = [:]
        public var errorsByRegion: [String: Int] = [:]
    }

    /// Adds a batch; records that cannot be kept are rejected and counted with their reason.
    public mutating func insert(_ batch: LogBatch) -> InsertOutcome {
        var outcome = InsertOutcome()
        counters.received += batch.records.count
        // Per resource, once: its interned id and its region's (a record would otherwise hash
        // its region name), and per region the records and errors counted (named at the end).
        var resourceIDs = [UInt32?](repeating: nil, count: batch.resources.count)
        var regionIDs = [UInt16](repeating: 0, count: batch.resources.count)
        var recordsByRegion: [Int] = [], errorsByRegion: [Int] = []
        // Read through a buffer: binding each record copied it (retaining its strings).
        batch.records.withUnsafeBufferPointer { records in
            for position in records.indices {
                let resourceIndex = records[position].resourceIndex
                guard batch.resources.indices.contains(resourceIndex) else {
                    reject("inconsistent batch")
                    continue
                }
                let resourceID: UInt32
                if let known = resourceIDs[resourceIndex] {
                    resourceID = known
                } else {
                    // Only what the logs screen shows: a resource's attributes (any size, from
                    // outside) are not kept for records, so the byte limit holds.
                    let resource = batch.resources[resourceIndex]
                    resourceID = resources.intern(
                        SpanResource(
                            region: resource.region, provider: resource.provider,
                            service: StoredTrace.truncated(resource.service, to: 256), serviceVersion: nil,
                            attributes: []))
                    resourceIDs[resourceIndex] = resourceID
                    regionIDs[resourceIndex] = regions.id(for: resource.region, limit: limits.maxRegions)
                    // Held for the batch, so a later new name cannot take over the id meanwhile.
                    regions.retain(regionIDs[resourceIndex])
                }
                let regionID = regionIDs[resourceIndex]
                let stored = store(records.baseAddress! + position, resourceID: resourceID)
                resources.retain(resourceID)
                regions.retain(regionID)
                ensureQueue(regionID)
                queues[Int(regionID)].append(stored)
                recordCount += 1
                approximateBytes += stored.approximateBytes
                counters.accepted += 1
                outcome.accepted += 1
                while recordsByRegion.count <= Int(regionID) {
                    recordsByRegion.append(0)
                    errorsByRegion.append(0)
                }
                recordsByRegion[Int(regionID)] += 1
                if let severity = records[position].severity, severity >= .error { errorsByRegion[Int(regionID)] += 1 }
            }
        }
        for (region, count) in recordsByRegion.enumerated() where count > 0 {
            let name = regions.name(of: UInt16(region))
            outcome.recordsByRegion[name] = count
            if errorsByRegion[region] > 0 { outcome.errorsByRegion[name] = errorsByRegion[region] }
        }
        for (resourceIndex, id) in resourceIDs.enumerated() where id != nil {
            regions.release(regionIDs[resourceIndex])
        }
        for id in resourceIDs.compactMap({ $0 }) { resources.release(id, ifUnreferenced: true) }
        enforceLimits()
        return outcome
    }

    /// The record `pointer` points to (in the batch's buffer), as kept.
    private mutating func store(_ pointer: UnsafePointer<IncomingLogRecord>, resourceID: UInt32) -> StoredLogRecord {
        var truncated = false
        var attributes = ""
        for (position, attribute) in pointer.pointee.attributes.enumerated() {
            guard position < limits.maxAttributes else {
                attributes += "\n(\(pointer.pointee.attributes.count - position) more attributes dropped)"
                truncated = true
                break
            }
            if !attributes.isEmpty { attributes.append("\n") }
            // Appended piece by piece: `key + "=" + value` built two temporary strings.
            attributes.append(attribute.key)
            attributes.append("=")
            attributes.append(attribute.value.description)
        }
        if attributes.utf8.count > limits.maxAttributeBytes {
            attributes = StoredTrace.truncated(attributes, to: limits.maxAttributeBytes)
            truncated = true
        }
        var body = pointer.pointee.body
        if body.utf8.count > limits.maxBodyBytes {
            body = StoredTrace.truncated(body, to: limits.maxBodyBytes)
            truncated = true
        }
        if truncated { counters.truncated += 1 }
        defer { nextSequence += 1 }
        return StoredLogRecord(
            sequence: nextSequence, timeUnixNano: pointer.pointee.timeUnixNano, traceID: pointer.pointee.traceID,
            spanID: pointer.pointee.spanID, resourceID: resourceID, severityNumber: pointer.pointee.severityNumber,
            severityText: StoredTrace.truncated(pointer.pointee.severityText, to: 32),
            body: body, attributes: attributes)
    }

    private mutating func reject(_ reason: String) {
        counters.rejected += 1
        if counters.rejectionReasons[reason] != nil || counters.rejectionReasons.count < 32 {
            counters.rejectionReasons[reason, default: 0] += 1
        }
    }

    private mutating func ensureQueue(_ id: UInt16) {
        while queues.count <= Int(id) { queues.append(Deque()) }
    }

    /// Evicts the oldest records of the fullest region until within the limits: in runs, so a
    /// full store costs one scan of the regions per run, not per record.
    private mutating func enforceLimits() {
        while recordCount > limits.maxRecords || approximateBytes > limits.maxBytes {
            var fullest = 0, second = 0
            for index in queues.indices {
                if queues[index].count > queues[fullest].count {
                    second = queues[fullest].count
                    fullest = index
                } else if index != fullest, queues[index].count > second {
                    second = queues[index].count
                }
            }
            guard !queues[fullest].isEmpty else { return }
            let run = max(1, min(queues[fullest].count - second + 1, max(1, recordCount - limits.maxRecords)))
            for _ in 0..<run {
                guard recordCount > limits.maxRecords || approximateBytes > limits.maxBytes,
                    let evicted = queues[fullest].popFirst()
                else { break }
                recordCount -= 1
                approximateBytes -= evicted.approximateBytes
                counters.evicted += 1
                resources.release(evicted.resourceID)
                regions.release(UInt16(fullest))
            }
        }
    }

    // MARK: Reading

    /// Up to `limit` records matching `query`, newest first, older than `sequence` when given
    /// (to page back). Reads at most `scanLimit` records, so a filter that matches little
    /// costs a bounded amount per frame; `complete` says whether everything was read.
    public func newest(
        matching query: LogQuery, limit: Int, olderThan sequence: UInt64? = nil, scanLimit: Int = 500_000
    ) -> (records: [LogView], complete: Bool) {
        guard limit > 0 else { return ([], true) }
        let matcher = LogMatcher(query: query, regions: regions, resources: resources)
        guard let matcher else { return ([], true) }
        // A k-way merge from the newest end of every region's queue.
        var cursors = queues.map { queue -> Int in
            guard let sequence else { return queue.count - 1 }
            return (Self.partition(queue) { $0.sequence < sequence }) - 1
        }
        var found: [LogView] = []
        var scanned = 0
        while found.count < limit {
            var best = -1
            for index in cursors.indices where cursors[index] >= 0 {
                if best < 0 || queues[index][cursors[index]].sequence > queues[best][cursors[best]].sequence {
                    best = index
                }
            }
            guard best >= 0 else { return (found, true) }
            let record = queues[best][cursors[best]]
            cursors[best] -= 1
            scanned += 1
            if matcher.matches(record, regionID: UInt16(best)) { found.append(view(of: record, regionID: best)) }
            if scanned >= scanLimit { return (found, false) }
        }
        return (found, true)
    }

    /// Up to `limit` records matching `query` that arrived after `sequence`, oldest first (the
    /// rows below a picked record). Reads at most `scanLimit` records.
    public func newer(
        matching query: LogQuery, than sequence: UInt64, limit: Int, scanLimit: Int = 500_000
    ) -> [LogView] {
        guard limit > 0, let matcher = LogMatcher(query: query, regions: regions, resources: resources) else {
            return []
        }
        var cursors = queues.map { Self.partition($0) { $0.sequence <= sequence } }
        var found: [LogView] = []
        var scanned = 0
        while found.count < limit, scanned < scanLimit {
            var best = -1
            for index in cursors.indices where cursors[index] < queues[index].count {
                if best < 0 || queues[index][cursors[index]].sequence < queues[best][cursors[best]].sequence {
                    best = index
                }
            }
            guard best >= 0 else { break }
            let record = queues[best][cursors[best]]
            cursors[best] += 1
            scanned += 1
            if matcher.matches(record, regionID: UInt16(best)) { found.append(view(of: record, regionID: best)) }
        }
        return found
    }

    /// Every kept record of `trace` (of one span when `span` is given), oldest first.
    public func records(ofTrace trace: TraceID, span: SpanID? = nil) -> [LogView] {
        var found: [LogView] = []
        for (regionID, queue) in queues.enumerated() {
            for record in queue where record.traceID == trace && (span == nil || record.spanID == span) {
                found.append(view(of: record, regionID: regionID))
            }
        }
        return found.sorted { ($0.timeUnixNano, $0.sequence) < ($1.timeUnixNano, $1.sequence) }
    }

    /// How many kept records carry `trace` (and `span`, when given).
    public func recordCount(ofTrace trace: TraceID, span: SpanID? = nil) -> Int {
        queues.reduce(0) { total, queue in
            total + queue.count { $0.traceID == trace && (span == nil || $0.spanID == span) }
        }
    }

    /// The first position in `queue` whose record is not `below`.
    private static func partition(_ queue: Deque<StoredLogRecord>, below: (StoredLogRecord) -> Bool) -> Int {
        var low = 0, high = queue.count
        while low < high {
            let middle = (low + high) / 2
            if below(queue[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func view(of record: StoredLogRecord, regionID: Int) -> LogView {
        let resource = resources[record.resourceID]
        return LogView(
            sequence: record.sequence, timeUnixNano: record.timeUnixNano, severityNumber: record.severityNumber,
            severityText: record.severityText, body: record.body,
            attributes: record.attributes.isEmpty ? [] : record.attributes.split(separator: "\n").map(String.init),
            traceID: record.traceID.isValid ? record.traceID : nil, spanID: record.spanID.isValid ? record.spanID : nil,
            region: regions.name(of: UInt16(regionID)), service: resource.service)
    }
}

/// A log query prepared against the store's tables.
struct LogMatcher {
    private let query: LogQuery
    private let tables: StoreMatchTables
    private let words: [String]

    /// `nil` when the query names a region no record came from.
    init?(query: LogQuery, regions: RegionTable, resources: SharedTable<SpanResource>) {
        guard
            let tables = StoreMatchTables(
                region: query.region, service: query.service, words: query.words, regions: regions,
                resources: resources)
        else { return nil }
        self.query = query
        self.tables = tables
        words = query.words.map { $0.lowercased() }
    }

    func matches(_ record: LogStore.StoredLogRecord, regionID: UInt16) -> Bool {
        if let minimum = query.minimumSeverity {
            guard let severity = LogSeverity(number: record.severityNumber) ?? LogSeverity(text: record.severityText),
                severity >= minimum
            else { return false }
        }
        if let wanted = tables.regionID, wanted != regionID { return false }
        if query.service != nil, !tables.isService(record.resourceID) { return false }
        if let trace = query.traceID, record.traceID != trace { return false }
        if let span = query.spanID, record.spanID != span { return false }
        for (index, word) in words.enumerated() {
            if tables.word(index, inService: record.resourceID) { continue }
            if tables.word(index, inRegion: regionID) { continue }
            if TraceMatcher.contains(record.body, lowercasedNeedle: Array(word.utf8)) { continue }
            if TraceMatcher.contains(record.attributes, lowercasedNeedle: Array(word.utf8)) { continue }
            if record.traceID.isValid, record.traceID.hex.hasPrefix(word) { continue }
            return false
        }
        return true
    }
}
