/// Encodes a span's details (status message, attributes, events, links) into a compact byte
/// form kept in its trace's blob, and decodes them back for the span detail screen. Storing
/// bytes instead of nested Swift values keeps a retained span to a few hundred bytes.
enum SpanDetailCodec {
    /// Details of one span.
    struct Details: Equatable, Sendable {
        var statusMessage: String
        var attributes: [Attribute]
        var events: [SpanEvent]
        var links: [SpanLink]
        var droppedAttributes: Int
    }

    static func isEmpty(_ span: IncomingSpan) -> Bool {
        span.statusMessage.isEmpty && span.attributes.isEmpty && span.events.isEmpty && span.links.isEmpty
    }

    static func encode(_ span: IncomingSpan, droppedAttributes: Int, into bytes: inout ContiguousArray<UInt8>) {
        writeString(span.statusMessage, into: &bytes)
        writeVarint(UInt64(droppedAttributes), into: &bytes)
        writeAttributes(span.attributes, into: &bytes)
        writeVarint(UInt64(span.events.count), into: &bytes)
        for event in span.events {
            writeVarint(event.timeUnixNano, into: &bytes)
            writeString(event.name, into: &bytes)
            writeAttributes(event.attributes, into: &bytes)
        }
        writeVarint(UInt64(span.links.count), into: &bytes)
        for link in span.links {
            writeVarint(link.traceID.high, into: &bytes)
            writeVarint(link.traceID.low, into: &bytes)
            writeVarint(link.spanID.value, into: &bytes)
            writeAttributes(link.attributes, into: &bytes)
        }
    }

    static func decode(_ bytes: ContiguousArray<UInt8>, at offset: Int) -> Details {
        var reader = Reader(bytes: bytes, position: offset)
        let message = reader.string()
        let dropped = Int(reader.varint())
        let attributes = reader.attributes()
        var events: [SpanEvent] = []
        for _ in 0..<reader.count() {
            let time = reader.varint()
            let name = reader.string()
            events.append(SpanEvent(timeUnixNano: time, name: name, attributes: reader.attributes()))
        }
        var links: [SpanLink] = []
        for _ in 0..<reader.count() {
            let high = reader.varint(), low = reader.varint(), span = reader.varint()
            links.append(SpanLink(traceID: TraceID(high: high, low: low), spanID: SpanID(span), attributes: reader.attributes()))
        }
        return Details(statusMessage: message, attributes: attributes, events: events, links: links, droppedAttributes: dropped)
    }

    // MARK: Writing

    static func writeVarint(_ value: UInt64, into bytes: inout ContiguousArray<UInt8>) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    static func writeString(_ string: String, into bytes: inout ContiguousArray<UInt8>) {
        var copy = string
        copy.withUTF8 { buffer in
            writeVarint(UInt64(buffer.count), into: &bytes)
            bytes.append(contentsOf: buffer)
        }
    }

    static func writeAttributes(_ attributes: [Attribute], into bytes: inout ContiguousArray<UInt8>) {
        writeVarint(UInt64(attributes.count), into: &bytes)
        for attribute in attributes {
            writeString(attribute.key, into: &bytes)
            writeValue(attribute.value, into: &bytes)
        }
    }

    static func writeValue(_ value: AttributeValue, into bytes: inout ContiguousArray<UInt8>) {
        switch value {
        case .empty:
            bytes.append(0)
        case .string(let string):
            bytes.append(1)
            writeString(string, into: &bytes)
        case .bool(let flag):
            bytes.append(flag ? 2 : 3)
        case .int(let number):
            bytes.append(4)
            writeVarint(UInt64(bitPattern: number), into: &bytes)
        case .double(let number):
            bytes.append(5)
            writeVarint(number.bitPattern, into: &bytes)
        case .bytes(let data):
            bytes.append(6)
            writeVarint(UInt64(data.count), into: &bytes)
            bytes.append(contentsOf: data)
        case .array(let values):
            bytes.append(7)
            writeVarint(UInt64(values.count), into: &bytes)
            for element in values { writeValue(element, into: &bytes) }
        case .map(let entries):
            bytes.append(8)
            writeAttributes(entries, into: &bytes)
        }
    }

    // MARK: Reading

    /// Reads what `encode` wrote. The blob is produced only by this codec, so a malformed blob
    /// is a programming error; reads past the end yield empty values rather than trapping.
    struct Reader {
        let bytes: ContiguousArray<UInt8>
        var position: Int

        mutating func byte() -> UInt8 {
            guard position < bytes.count else { return 0 }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func varint() -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count, shift < 64 {
                let byte = bytes[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            return result
        }

        mutating func count() -> Int { Int(min(varint(), UInt64(bytes.count))) }

        mutating func string() -> String {
            let length = count()
            let end = min(bytes.count, position + length)
            defer { position = end }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }

        mutating func attributes() -> [Attribute] {
            (0..<count()).map { _ in Attribute(string(), value()) }
        }

        mutating func value() -> AttributeValue {
            switch byte() {
            case 1: return .string(string())
            case 2: return .bool(true)
            case 3: return .bool(false)
            case 4: return .int(Int64(bitPattern: varint()))
            case 5: return .double(Double(bitPattern: varint()))
            case 6:
                let length = count()
                let end = min(bytes.count, position + length)
                defer { position = end }
                return .bytes(Array(bytes[position..<end]))
            case 7: return .array((0..<count()).map { _ in value() })
            case 8: return .map(attributes())
            default: return .empty
            }
        }
    }
}
