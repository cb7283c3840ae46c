import RegionWatchCore

/// A strict protobuf reader over a request body the receiver owns: every read is checked
/// against its message's end, and damage (a truncated field, an overlong varint, a field
/// number 0, an unknown wire type, an unmatched group) throws the error swift-protobuf's
/// parser gave for it, so clients see the same messages. Unknown fields are skipped, as
/// protobuf requires. Nothing is copied: fields are handed out as offsets into the body.
///
/// The ingest decoders read the hot messages (spans, log records) with it directly: parsing
/// them into swift-protobuf's generated messages first allocated several objects per item,
/// which the receiver then converted and freed (see docs/DECISIONS.md §28).
struct ProtobufCursor {
    let body: UnsafeRawBufferPointer
    private(set) var position: Int
    /// Where the message being read ends.
    let end: Int

    /// A cursor over the whole of `body`.
    init(_ body: UnsafeRawBufferPointer) {
        self.init(body, range: 0..<body.count)
    }

    /// A cursor over the message at `range` of `body`.
    init(_ body: UnsafeRawBufferPointer, range: Range<Int>) {
        self.body = body
        position = range.lowerBound
        end = range.upperBound
    }

    /// Whether the message has been read to its end.
    var isAtEnd: Bool { position >= end }

    static let truncated = OTLPDecodingError("malformed protobuf body: truncated message")
    static let malformed = OTLPDecodingError("malformed protobuf body: malformed protobuf")
    static let invalidUTF8 = OTLPDecodingError("malformed protobuf body: a string field is not valid UTF-8")

    /// A base-128 varint of at most ten bytes.
    mutating func varint() throws(OTLPDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < end {
            let byte = body[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift >= 70 { throw Self.malformed }
        }
        // As swift-protobuf: a number cut off part-way is malformed; none at all, truncated.
        throw shift > 0 ? Self.malformed : Self.truncated
    }

    /// The next field's number and wire type.
    mutating func tag() throws(OTLPDecodingError) -> (field: Int, wire: Int) {
        let key = try varint()
        let field = key >> 3
        guard field > 0, field < 1 << 29, key & 7 <= 5 else { throw Self.malformed }
        return (Int(field), Int(key & 7))
    }

    /// A length-delimited field's bytes, as offsets into the body.
    mutating func lengthDelimited() throws(OTLPDecodingError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw Self.truncated }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// A `fixed64` field.
    mutating func fixed64() throws(OTLPDecodingError) -> UInt64 {
        guard end - position >= 8 else { throw Self.truncated }
        let value = body.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    /// A length-delimited field read as UTF-8 text; invalid UTF-8 throws, as protobuf's
    /// `string` requires.
    mutating func string() throws(OTLPDecodingError) -> String {
        try Self.string(body, lengthDelimited())
    }

    /// The text at `range` of `body`, which must be valid UTF-8.
    static func string(_ body: UnsafeRawBufferPointer, _ range: Range<Int>) throws(OTLPDecodingError) -> String {
        if range.isEmpty { return "" }
        let utf8 = UnsafeBufferPointer(
            start: body.baseAddress!.advanced(by: range.lowerBound).assumingMemoryBound(to: UInt8.self),
            count: range.count)
        guard let text = ValidatedUTF8.string(utf8) else { throw invalidUTF8 }
        return text
    }

    /// Skips a field of `wire` type (a group to its matching end).
    mutating func skip(field: Int, wire: Int, depth: Int = 0) throws(OTLPDecodingError) {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard end - position >= 8 else { throw Self.truncated }
            position += 8
        case 2: _ = try lengthDelimited()
        case 3:
            guard depth < OTLPProtobufDecoder.depthLimit else {
                throw OTLPDecodingError(
                    "malformed protobuf body: nesting deeper than \(OTLPProtobufDecoder.depthLimit) levels")
            }
            while true {
                let (inner, innerWire) = try tag()
                if innerWire == 4 {
                    guard inner == field else { throw Self.malformed }
                    return
                }
                try skip(field: inner, wire: innerWire, depth: depth + 1)
            }
        case 5:
            guard end - position >= 4 else { throw Self.truncated }
            position += 4
        default:
            // An end-group without its start.
            throw Self.malformed
        }
    }

    /// Calls `read` with each length-delimited field `number` of the message, in order; other
    /// fields are skipped. Always inlined: through a call, the readers' hot loops inside `read`
    /// measured 15 % slower.
    @inline(__always)
    mutating func forEach(
        field number: Int, _ read: (Range<Int>) throws(OTLPDecodingError) -> Void
    ) throws(OTLPDecodingError) {
        while !isAtEnd {
            let (field, wire) = try tag()
            if field == number, wire == 2 {
                try read(lengthDelimited())
            } else {
                try skip(field: field, wire: wire)
            }
        }
    }

    /// The bytes at `range` of the body.
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: body[range])
    }
}
