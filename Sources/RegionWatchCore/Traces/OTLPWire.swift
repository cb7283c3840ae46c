/// The protobuf wire encoding of OTLP's span details (`Span` fields 9 attributes, 10 dropped
/// attributes count, 11 events, 13 links, 15 status), which is how the trace store keeps them.
/// Spans received as protobuf keep their original bytes; other spans are written in the same
/// form. Decoding happens only for the one span whose detail is shown, and is bounded: it never
/// reads past its input, limits nesting, and yields what it could read from damaged input.
public enum OTLPWire {
    /// Field tags (field number << 3 | wire type) of the `Span` fields kept as details.
    public enum SpanTag {
        public static let attribute: UInt8 = 0x4A  // 9, length-delimited
        public static let droppedAttributes: UInt8 = 0x50  // 10, varint
        public static let event: UInt8 = 0x5A  // 11, length-delimited
        public static let link: UInt8 = 0x6A  // 13, length-delimited
        public static let status: UInt8 = 0x7A  // 15, length-delimited
    }

    /// Nesting allowed in attribute values.
    static let depthLimit = 32

    // MARK: Writing

    public static func writeVarint(_ value: UInt64, into bytes: inout ContiguousArray<UInt8>) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// A length-delimited field with an already encoded body.
    public static func writeField<Body: Collection>(
        _ tag: UInt8, _ body: Body, into bytes: inout ContiguousArray<UInt8>
    ) where Body.Element == UInt8 {
        bytes.append(tag)
        writeVarint(UInt64(body.count), into: &bytes)
        bytes.append(contentsOf: body)
    }

    static func writeString(_ tag: UInt8, _ text: String, into bytes: inout ContiguousArray<UInt8>) {
        bytes.append(tag)
        writeVarint(UInt64(text.utf8.count), into: &bytes)
        bytes.append(contentsOf: text.utf8)
    }

    // Every message is written in one pass into the output: its length prefix comes from
    // `size(of:)`, computed first, instead of encoding each part into an array of its own
    // and copying it in (two allocations per attribute).

    /// Bytes of `value`'s base-128 encoding.
    static func varintSize(_ value: UInt64) -> Int {
        value < 0x80 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Bytes of a length-delimited field whose body takes `body` bytes (one-byte tag).
    static func fieldSize(_ body: Int) -> Int { 1 + varintSize(UInt64(body)) + body }

    /// Bytes of the `AnyValue` message for `value`.
    static func size(of value: AttributeValue) -> Int {
        switch value {
        case .string(let text): fieldSize(text.utf8.count)
        case .bool: 2
        case .int(let number): 1 + varintSize(UInt64(bitPattern: number))
        case .double: 9
        case .array(let values): fieldSize(values.reduce(0) { $0 + fieldSize(size(of: $1)) })
        case .map(let entries): fieldSize(entries.reduce(0) { $0 + fieldSize(size(of: $1)) })
        case .bytes(let data): fieldSize(data.count)
        case .empty: 0
        }
    }

    /// Bytes of the `KeyValue` message for `attribute`.
    static func size(of attribute: Attribute) -> Int {
        fieldSize(attribute.key.utf8.count) + fieldSize(size(of: attribute.value))
    }

    /// Writes `attribute` as a `KeyValue` field with `tag`.
    static func write(_ attribute: Attribute, tag: UInt8, into bytes: inout ContiguousArray<UInt8>) {
        bytes.append(tag)
        writeVarint(UInt64(size(of: attribute)), into: &bytes)
        writeString(0x0A, attribute.key, into: &bytes)
        bytes.append(0x12)
        writeVarint(UInt64(size(of: attribute.value)), into: &bytes)
        writeBody(of: attribute.value, into: &bytes)
    }

    /// Writes the fields of the `AnyValue` message for `value`.
    static func writeBody(of value: AttributeValue, into bytes: inout ContiguousArray<UInt8>) {
        switch value {
        case .string(let text): writeString(0x0A, text, into: &bytes)
        case .bool(let flag):
            bytes.append(0x10)
            bytes.append(flag ? 1 : 0)
        case .int(let number):
            bytes.append(0x18)
            writeVarint(UInt64(bitPattern: number), into: &bytes)
        case .double(let number):
            bytes.append(0x21)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .array(let values):
            bytes.append(0x2A)
            writeVarint(UInt64(values.reduce(0) { $0 + fieldSize(size(of: $1)) }), into: &bytes)
            for element in values {
                bytes.append(0x0A)
                writeVarint(UInt64(size(of: element)), into: &bytes)
                writeBody(of: element, into: &bytes)
            }
        case .map(let entries):
            bytes.append(0x32)
            writeVarint(UInt64(entries.reduce(0) { $0 + fieldSize(size(of: $1)) }), into: &bytes)
            for entry in entries { write(entry, tag: 0x0A, into: &bytes) }
        case .bytes(let data): writeField(0x3A, data, into: &bytes)
        case .empty: break
        }
    }

    /// Encodes typed span details as `Span` fields.
    public static func writeDetails(
        attributes: [Attribute], droppedAttributes: Int, events: [SpanEvent], links: [SpanLink], statusMessage: String,
        into bytes: inout ContiguousArray<UInt8>
    ) {
        for attribute in attributes { write(attribute, tag: SpanTag.attribute, into: &bytes) }
        if droppedAttributes > 0 {
            bytes.append(SpanTag.droppedAttributes)
            writeVarint(UInt64(droppedAttributes), into: &bytes)
        }
        for event in events {
            let body =
                9 + fieldSize(event.name.utf8.count) + event.attributes.reduce(0) { $0 + fieldSize(size(of: $1)) }
            bytes.append(SpanTag.event)
            writeVarint(UInt64(body), into: &bytes)
            bytes.append(0x09)
            withUnsafeBytes(of: event.timeUnixNano.littleEndian) { bytes.append(contentsOf: $0) }
            writeString(0x12, event.name, into: &bytes)
            for attribute in event.attributes { write(attribute, tag: 0x1A, into: &bytes) }
        }
        for link in links {
            let body = fieldSize(16) + fieldSize(8) + link.attributes.reduce(0) { $0 + fieldSize(size(of: $1)) }
            bytes.append(SpanTag.link)
            writeVarint(UInt64(body), into: &bytes)
            writeField(0x0A, traceIDBytes(link.traceID), into: &bytes)
            writeField(0x12, spanIDBytes(link.spanID), into: &bytes)
            for attribute in link.attributes { write(attribute, tag: 0x22, into: &bytes) }
        }
        if !statusMessage.isEmpty {
            bytes.append(SpanTag.status)
            writeVarint(UInt64(fieldSize(statusMessage.utf8.count)), into: &bytes)
            writeString(0x12, statusMessage, into: &bytes)
        }
    }

    static func traceIDBytes(_ id: TraceID) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id.high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: id.low >> (56 - 8 * $0)) }
    }

    static func spanIDBytes(_ id: SpanID) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id.value >> (56 - 8 * $0)) }
    }

    // MARK: Reading

    /// Span details decoded from `Span` fields.
    public struct Details: Equatable, Sendable {
        public var attributes: [Attribute] = []
        public var droppedAttributes = 0
        public var events: [SpanEvent] = []
        public var links: [SpanLink] = []
        public var statusMessage = ""
    }

    /// Decodes the span detail fields in `bytes`; other fields are skipped.
    public static func readDetails<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Details
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var reader = Reader(bytes: Array(bytes))
        var details = Details()
        while let (field, wire) = reader.tag() {
            switch (field, wire) {
            case (9, 2):
                if let body = reader.lengthDelimited() { details.attributes.append(readKeyValue(body, depth: 0)) }
            case (10, 0): details.droppedAttributes = Int(clamping: reader.varint() ?? 0)
            case (11, 2): if let body = reader.lengthDelimited() { details.events.append(readEvent(body)) }
            case (13, 2):
                if let body = reader.lengthDelimited(), let link = readLink(body) { details.links.append(link) }
            case (15, 2): if let body = reader.lengthDelimited() { details.statusMessage = readStatusMessage(body) }
            default: if !reader.skip(wire) { return details }
            }
        }
        return details
    }

    static func readKeyValue(_ bytes: ArraySlice<UInt8>, depth: Int) -> Attribute {
        var reader = Reader(bytes: bytes)
        var key = "", value = AttributeValue.empty
        while let (field, wire) = reader.tag() {
            switch (field, wire) {
            case (1, 2): key = reader.string() ?? key
            case (2, 2): if let body = reader.lengthDelimited() { value = readAnyValue(body, depth: depth + 1) }
            default: if !reader.skip(wire) { return Attribute(key, value) }
            }
        }
        return Attribute(key, value)
    }

    static func readAnyValue(_ bytes: ArraySlice<UInt8>, depth: Int) -> AttributeValue {
        guard depth <= depthLimit else { return .string("(nested deeper than \(depthLimit) levels)") }
        var reader = Reader(bytes: bytes)
        var value = AttributeValue.empty
        while let (field, wire) = reader.tag() {
            switch (field, wire) {
            case (1, 2): value = reader.string().map(AttributeValue.string) ?? value
            case (2, 0): value = .bool((reader.varint() ?? 0) != 0)
            case (3, 0): value = .int(Int64(bitPattern: reader.varint() ?? 0))
            case (4, 1): value = reader.fixed64().map { .double(Double(bitPattern: $0)) } ?? value
            case (5, 2):
                var values: [AttributeValue] = []
                if let body = reader.lengthDelimited() {
                    var list = Reader(bytes: body)
                    while let (inner, innerWire) = list.tag() {
                        if inner == 1, innerWire == 2, let element = list.lengthDelimited() {
                            values.append(readAnyValue(element, depth: depth + 1))
                        } else if !list.skip(innerWire) {
                            break
                        }
                    }
                }
                value = .array(values)
            case (6, 2):
                var entries: [Attribute] = []
                if let body = reader.lengthDelimited() {
                    var list = Reader(bytes: body)
                    while let (inner, innerWire) = list.tag() {
                        if inner == 1, innerWire == 2, let element = list.lengthDelimited() {
                            entries.append(readKeyValue(element, depth: depth + 1))
                        } else if !list.skip(innerWire) {
                            break
                        }
                    }
                }
                value = .map(entries)
            case (7, 2): value = reader.lengthDelimited().map { .bytes(Array($0)) } ?? value
            default: if !reader.skip(wire) { return value }
            }
        }
        return value
    }

    static func readEvent(_ bytes: ArraySlice<UInt8>) -> SpanEvent {
        var reader = Reader(bytes: bytes)
        var event = SpanEvent(timeUnixNano: 0, name: "")
        while let (field, wire) = reader.tag() {
            switch (field, wire) {
            case (1, 1): event.timeUnixNano = reader.fixed64() ?? 0
            case (2, 2): event.name = reader.string() ?? ""
            case (3, 2):
                if let body = reader.lengthDelimited() { event.attributes.append(readKeyValue(body, depth: 0)) }
            default: if !reader.skip(wire) { return event }
            }
        }
        return event
    }

    static func readLink(_ bytes: ArraySlice<UInt8>) -> SpanLink? {
        var reader = Reader(bytes: bytes)
        var traceID: TraceID?, spanID: SpanID?, attributes: [Attribute] = []
        while let (field, wire) = reader.tag() {
            switch (field, wire) {
            case (1, 2): traceID = reader.lengthDelimited().flatMap { TraceID(bytes: $0) }
            case (2, 2): spanID = reader.lengthDelimited().flatMap { SpanID(bytes: $0) }
            case (4, 2): if let body = reader.lengthDelimited() { attributes.append(readKeyValue(body, depth: 0)) }
            default: if !reader.skip(wire) { break }
            }
        }
        guard let traceID, let spanID else { return nil }
        return SpanLink(traceID: traceID, spanID: spanID, attributes: attributes)
    }

    static func readStatusMessage(_ bytes: ArraySlice<UInt8>) -> String {
        var reader = Reader(bytes: bytes)
        var message = ""
        while let (field, wire) = reader.tag() {
            if field == 2, wire == 2 { message = reader.string() ?? message } else if !reader.skip(wire) { break }
        }
        return message
    }

    /// A bounded protobuf reader: every read checks the remaining length.
    struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        init(bytes: [UInt8]) {
            self.init(bytes: bytes[...])
        }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.endIndex, shift < 64 {
                let byte = bytes[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            position = bytes.endIndex
            return nil
        }

        /// The next field number and wire type, or `nil` at the end (or on damage).
        mutating func tag() -> (Int, Int)? {
            guard position < bytes.endIndex, let key = varint(), key >> 3 > 0, key >> 3 < 1 << 29 else { return nil }
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func lengthDelimited() -> ArraySlice<UInt8>? {
            guard let length = varint(), length <= UInt64(bytes.endIndex - position) else {
                position = bytes.endIndex
                return nil
            }
            defer { position += Int(length) }
            return bytes[position..<(position + Int(length))]
        }

        mutating func string() -> String? {
            lengthDelimited().map { String(decoding: $0, as: UTF8.self) }
        }

        mutating func fixed64() -> UInt64? {
            guard bytes.endIndex - position >= 8 else {
                position = bytes.endIndex
                return nil
            }
            var value: UInt64 = 0
            for offset in (0..<8).reversed() { value = value << 8 | UInt64(bytes[position + offset]) }
            position += 8
            return value
        }

        /// Skips a field of `wire` type; `false` when the type is unknown or the data ends.
        mutating func skip(_ wire: Int) -> Bool {
            switch wire {
            case 0: return varint() != nil
            case 1: return fixed64() != nil
            case 2: return lengthDelimited() != nil
            case 5:
                guard bytes.endIndex - position >= 4 else {
                    position = bytes.endIndex
                    return false
                }
                position += 4
                return true
            default:
                // Groups and unknown wire types: nothing after them can be trusted.
                position = bytes.endIndex
                return false
            }
        }
    }
}
