/// A position in a PostgreSQL-style write-ahead log (an LSN): a byte offset into the log.
///
/// Positions are exact 64-bit integers (`16/B374D848` is `0x16_B374D848`); differences are
/// byte counts. Positions on one timeline are ordered; after a promotion the new timeline
/// continues from the fork point, so positions stay comparable up to it.
public struct WALPosition: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// Bytes since the start of the log.
    public var offset: UInt64

    public init(offset: UInt64) {
        self.offset = offset
    }

    /// Parses PostgreSQL's text form, two hexadecimal halves separated by a slash.
    public init?(text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
            let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
        else { return nil }
        offset = high << 32 | low
    }

    /// PostgreSQL's text form: `16/B374D848`.
    public var description: String {
        String(offset >> 32, radix: 16, uppercase: true) + "/"
            + String(offset & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// Bytes from `earlier` to this position; 0 when `earlier` is not behind.
    public func bytes(after earlier: WALPosition) -> Double {
        offset > earlier.offset ? Double(offset - earlier.offset) : 0
    }

    public static func < (lhs: WALPosition, rhs: WALPosition) -> Bool { lhs.offset < rhs.offset }
}

/// A WAL segment file name (`000000010000000000000003`): timeline, then the segment number in
/// two halves. Archiving reports the last archived segment by name.
public struct WALSegmentName: Equatable, Sendable {
    public var timeline: Int
    /// The position just after the segment's last byte: everything before it is archived.
    public var end: WALPosition

    /// Parses a segment name given the server's segment size (`wal_segment_size`, bytes).
    /// Names with a suffix (`.partial`, `.history`, `.backup`) are not plain segments: `nil`.
    public init?(_ name: String, segmentSize: UInt64) {
        let bytes = Array(name.utf8)
        guard bytes.count == 24, segmentSize > 0, segmentSize <= 1 << 32,
            let timeline = UInt64(name.prefix(8), radix: 16),
            let log = UInt64(name.dropFirst(8).prefix(8), radix: 16),
            let segment = UInt64(name.suffix(8), radix: 16)
        else { return nil }
        let segmentsPerLog = (UInt64(1) << 32) / segmentSize
        guard segment < segmentsPerLog else { return nil }
        self.timeline = Int(timeline)
        end = WALPosition(offset: (log << 32) + (segment + 1) * segmentSize)
    }
}
