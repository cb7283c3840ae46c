/// A trace query prepared against a store's tables, so matching one trace allocates nothing.
///
/// Per-resource and per-region answers (does this service equal `service=`, does it contain a
/// word) are computed once per query; span names are searched with an ASCII case-insensitive
/// byte scan, falling back to Unicode lower-casing only for names that are not ASCII.
struct TraceMatcher {
    private let query: TraceQuery
    private let tables: StoreMatchTables
    /// The query's free words, lower-cased, as UTF-8.
    private let words: [[UInt8]]
    /// Per word: whether it is a prefix of trace ids at all (only hex digits, at most 32).
    private let wordIsHexPrefix: [Bool]

    /// `nil` when the query names a region no span came from (nothing can match).
    init?(query: TraceQuery, regions: RegionTable, resources: SharedTable<SpanResource>) {
        guard
            let tables = StoreMatchTables(
                region: query.region, service: query.service, words: query.words, regions: regions,
                resources: resources)
        else { return nil }
        self.query = query
        self.tables = tables
        words = query.words.map { Array($0.lowercased().utf8) }
        wordIsHexPrefix = words.map {
            $0.count <= 32 && $0.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        }
    }

    func matches(_ trace: StoredTrace) -> Bool {
        if query.errorsOnly, trace.errorCount == 0 { return false }
        let duration = Double(trace.endUnixNano &- trace.startUnixNano) / 1e6
        if let minimum = query.minimumMilliseconds, duration < minimum { return false }
        if let maximum = query.maximumMilliseconds, duration > maximum { return false }
        if let regionID = tables.regionID, !trace.regionIDs.contains(regionID) { return false }
        if query.service != nil, !trace.resourceIDs.contains(where: tables.isService) { return false }
        for word in words.indices where !matches(word: word, trace) { return false }
        return true
    }

    private func matches(word: Int, _ trace: StoredTrace) -> Bool {
        if wordIsHexPrefix[word], trace.traceID.hex.utf8.starts(with: words[word]) { return true }
        if trace.resourceIDs.contains(where: { tables.word(word, inService: $0) }) { return true }
        if trace.regionIDs.contains(where: { tables.word(word, inRegion: $0) }) { return true }
        return trace.strings.contains { Self.contains($0, lowercasedNeedle: words[word]) }
    }

    /// Whether `haystack` contains `needle` (already lower-cased UTF-8), ignoring case.
    static func contains(_ haystack: String, lowercasedNeedle needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            if bytes.contains(where: { $0 >= 0x80 }) {
                return String(decoding: bytes, as: UTF8.self).lowercased().utf8.firstRange(of: needle) != nil
            }
            let first = needle[0]
            var start = 0
            let last = bytes.count - needle.count
            while start <= last {
                if lowercase(bytes[start]) == first {
                    var offset = 1
                    while offset < needle.count, lowercase(bytes[start + offset]) == needle[offset] { offset += 1 }
                    if offset == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }

    private static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}

/// A trace's place in a listing: what sorting and selection need, without the strings a
/// summary carries.
public struct TraceListEntry: Equatable, Sendable, TraceSortable {
    public let traceID: TraceID
    public let startUnixNano: UInt64
    public let durationNanos: UInt64
    public let errorCount: Int

    init(_ trace: StoredTrace) {
        traceID = trace.traceID
        startUnixNano = trace.startUnixNano
        durationNanos = trace.endUnixNano &- trace.startUnixNano
        errorCount = trace.errorCount
    }
}

/// What trace sort orders compare.
public protocol TraceSortable {
    var traceID: TraceID { get }
    var startUnixNano: UInt64 { get }
    var durationNanos: UInt64 { get }
    var errorCount: Int { get }
}

extension TraceSummary: TraceSortable {}

/// What a query asks of a store's shared tables, answered once per query (the trace and log
/// matchers share it): the `region=` id, and per resource and region whether the service equals
/// `service=` and whether a name contains each word (lower-cased).
struct StoreMatchTables {
    let regionID: UInt16?
    /// Indexed by resource id: the resource's service equals the `service=` value.
    private let serviceMatches: [Bool]
    /// Per word, indexed by resource id: the service contains the word.
    private let wordInService: [[Bool]]
    /// Per word, indexed by region id: the region name contains the word.
    private let wordInRegion: [[Bool]]

    /// `nil` when `region` names a region the store never saw (nothing can match).
    init?(
        region: String?, service: String?, words: [String], regions: RegionTable, resources: SharedTable<SpanResource>
    ) {
        if let region {
            guard let id = regions.id(of: region) else { return nil }
            regionID = id
        } else {
            regionID = nil
        }
        let services = (0..<resources.idLimit).map { resources.value(at: $0)?.service.lowercased() }
        let wantedService = service?.lowercased()
        serviceMatches = services.map { $0 != nil && $0 == wantedService }
        let lowered = words.map { $0.lowercased() }
        wordInService = lowered.map { word in services.map { $0?.contains(word) ?? false } }
        wordInRegion = lowered.map { word in regions.names.map { $0.lowercased().contains(word) } }
    }

    /// Whether resource `id`'s service is the one `service=` names.
    func isService(_ id: UInt32) -> Bool { serviceMatches[Int(id)] }

    /// Whether word `index` is in resource `id`'s service.
    func word(_ index: Int, inService id: UInt32) -> Bool { wordInService[index][Int(id)] }

    /// Whether word `index` is in region `id`'s name.
    func word(_ index: Int, inRegion id: UInt16) -> Bool {
        Int(id) < wordInRegion[index].count && wordInRegion[index][Int(id)]
    }
}
