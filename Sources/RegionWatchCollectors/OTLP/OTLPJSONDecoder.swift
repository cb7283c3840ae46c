import RegionWatchCore

/// Decodes `application/json` OTLP trace exports (OTLP/JSON: lowerCamelCase field names, also
/// accepting the proto names; trace and span ids as hex strings; enums as integers or names;
/// 64-bit integers as strings or numbers; unknown fields ignored).
///
/// A hand-written scanner instead of `JSONDecoder`: it reads straight into spans with no
/// intermediate tree, which is several times faster (see docs/DECISIONS.md).
public enum OTLPJSONDecoder {
    public static func decode(
        _ bytes: [UInt8], attribution: RegionAttribution, source: String, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedExport {
        try DecodedExport.decoding(bytes) { buffer throws(OTLPDecodingError) in
            try decode(buffer, attribution: attribution, source: source, receivedAt: receivedAt)
        }
    }

    /// Decodes bytes the caller owns (the receiver's connection buffer), without copying them.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, attribution: RegionAttribution, source: String, receivedAt: Timestamp
    ) throws(OTLPDecodingError) -> DecodedExport {
        var accumulator = ExportAccumulator()
        try OTLPJSONRequest.read(bytes, request: OTLPSignal.traces.requestName) {
            scanner, key throws(JSONScanner.Failure) in
            guard key.isField("resourceSpans", "resource_spans") else { return false }
            try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                try readResourceSpans(&scanner, attribution: attribution, into: &accumulator)
            }
            return true
        }
        accumulator.encodeDetails()
        return accumulator.export(source: source, receivedAt: receivedAt)
    }

    private static func readResourceSpans(
        _ scanner: inout JSONScanner, attribution: RegionAttribution, into accumulator: inout ExportAccumulator
    ) throws(JSONScanner.Failure) {
        let resourceIndex = accumulator.resources.count
        accumulator.resources.append(attribution.resource(from: []))
        try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
            if key.equals("resource") {
                var attributes: [Attribute] = []
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("attributes") {
                        attributes = try readAttributes(&scanner)
                    } else {
                        try scanner.skipValue()
                    }
                }
                accumulator.resources[resourceIndex] = attribution.resource(from: attributes)
            } else if key.isField("scopeSpans", "scope_spans") {
                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                    try readScopeSpans(&scanner, resourceIndex: resourceIndex, into: &accumulator)
                }
            } else {
                try scanner.skipValue()
            }
        }
    }

    private static func readScopeSpans(
        _ scanner: inout JSONScanner, resourceIndex: Int, into accumulator: inout ExportAccumulator
    ) throws(JSONScanner.Failure) {
        let scopeIndex = accumulator.scopes.count
        accumulator.scopes.append(SpanScope(name: "", version: ""))
        try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
            if key.equals("scope") {
                var scope = SpanScope(name: "", version: "")
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("name") {
                        scope.name = try scanner.string()
                    } else if key.equals("version") {
                        scope.version = try scanner.string()
                    } else {
                        try scanner.skipValue()
                    }
                }
                accumulator.scopes[scopeIndex] = scope
            } else if key.equals("spans") {
                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                    try readSpan(&scanner, resourceIndex: resourceIndex, scopeIndex: scopeIndex, into: &accumulator)
                }
            } else {
                try scanner.skipValue()
            }
        }
    }

    /// Identifier problems reject the span (a partial success); type errors reject the body.
    private static func readSpan(
        _ scanner: inout JSONScanner, resourceIndex: Int, scopeIndex: Int, into accumulator: inout ExportAccumulator
    ) throws(JSONScanner.Failure) {
        var traceID: TraceID?, spanID: SpanID?, parentID = SpanID.none
        var idProblem: String?
        var name = "", kind = SpanKind.unspecified, start: UInt64 = 0, end: UInt64 = 0
        var statusCode = SpanStatusCode.unset, statusMessage = ""
        var attributes: [Attribute] = [], events: [SpanEvent] = [], links: [SpanLink] = []
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            if key.isField("traceId", "trace_id") {
                let hex = try scanner.idText()
                traceID = hex.flatMap { TraceID(hexBytes: $0) }
                if traceID == nil { idProblem = idProblem ?? "invalid trace id" }
            } else if key.isField("spanId", "span_id") {
                let hex = try scanner.idText()
                spanID = hex.flatMap { SpanID(hexBytes: $0) }
                if spanID == nil { idProblem = idProblem ?? "invalid span id" }
            } else if key.isField("parentSpanId", "parent_span_id") {
                if let hex = try scanner.idText(), !hex.isEmpty {
                    if let parsed = SpanID(hexBytes: hex) {
                        parentID = parsed
                    } else {
                        idProblem = idProblem ?? "invalid parent span id"
                    }
                }
            } else if key.equals("name") {
                name = try scanner.string()
            } else if key.equals("kind") {
                kind =
                    try readEnum(
                        &scanner,
                        names: [
                            "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                            "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
                        ]
                    ).flatMap { SpanKind(rawValue: UInt8(clamping: $0)) } ?? .unspecified
            } else if key.isField("startTimeUnixNano", "start_time_unix_nano") {
                start = try scanner.unsigned()
            } else if key.isField("endTimeUnixNano", "end_time_unix_nano") {
                end = try scanner.unsigned()
            } else if key.equals("attributes") {
                attributes = try readAttributes(&scanner)
            } else if key.equals("events") {
                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                    events.append(try readEvent(&scanner))
                }
            } else if key.equals("links") {
                try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                    if let link = try readLink(&scanner) { links.append(link) }
                }
            } else if key.equals("status") {
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("code") {
                        statusCode =
                            try readEnum(&scanner, names: ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"])
                            .flatMap { SpanStatusCode(rawValue: UInt8(clamping: $0)) } ?? .unset
                    } else if key.equals("message") {
                        statusMessage = try scanner.string()
                    } else {
                        try scanner.skipValue()
                    }
                }
            } else {
                try scanner.skipValue()
            }
        }
        if let idProblem {
            accumulator.reject(idProblem)
            return
        }
        guard let traceID, let spanID else {
            accumulator.reject(traceID == nil ? "missing trace id" : "missing span id")
            return
        }
        accumulator.add(
            IncomingSpan(
                traceID: traceID, spanID: spanID, parentSpanID: parentID, name: name, kind: kind,
                startUnixNano: start, endUnixNano: end, statusCode: statusCode, statusMessage: statusMessage,
                attributes: attributes, events: events, links: links, resourceIndex: resourceIndex,
                scopeIndex: scopeIndex
            ))
    }

    /// An enum given as an integer or by name; `nil` for unknown names.
    private static func readEnum(_ scanner: inout JSONScanner, names: [String]) throws(JSONScanner.Failure) -> Int? {
        try OTLPJSONRequest.enumValue(&scanner) { names.firstIndex(of: $0) }
    }

    private static func readEvent(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> SpanEvent {
        var event = SpanEvent(timeUnixNano: 0, name: "")
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            if key.isField("timeUnixNano", "time_unix_nano") {
                event.timeUnixNano = try scanner.unsigned()
            } else if key.equals("name") {
                event.name = try scanner.string()
            } else if key.equals("attributes") {
                event.attributes = try readAttributes(&scanner)
            } else {
                try scanner.skipValue()
            }
        }
        return event
    }

    private static func readLink(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> SpanLink? {
        var traceID: TraceID?, spanID: SpanID?, attributes: [Attribute] = []
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            if key.isField("traceId", "trace_id") {
                traceID = try scanner.idText().flatMap { TraceID(hexBytes: $0) }
            } else if key.isField("spanId", "span_id") {
                spanID = try scanner.idText().flatMap { SpanID(hexBytes: $0) }
            } else if key.equals("attributes") {
                attributes = try readAttributes(&scanner)
            } else {
                try scanner.skipValue()
            }
        }
        guard let traceID, let spanID else { return nil }
        return SpanLink(traceID: traceID, spanID: spanID, attributes: attributes)
    }

    static func readAttributes(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [Attribute] {
        var attributes: [Attribute] = []
        try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
            var key = ""
            var value = AttributeValue.empty
            try scanner.object { scanner, field throws(JSONScanner.Failure) in
                if field.equals("key") {
                    key = try scanner.string()
                } else if field.equals("value") {
                    value = try readValue(&scanner)
                } else {
                    try scanner.skipValue()
                }
            }
            attributes.append(Attribute(key, value))
        }
        return attributes
    }

    static func readValue(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> AttributeValue {
        var value = AttributeValue.empty
        try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
            if key.isField("stringValue", "string_value") {
                value = .string(try scanner.string())
            } else if key.isField("boolValue", "bool_value") {
                value = .bool(try scanner.bool())
            } else if key.isField("intValue", "int_value") {
                value = .int(try scanner.signed())
            } else if key.isField("doubleValue", "double_value") {
                value = .double(try scanner.double())
            } else if key.isField("bytesValue", "bytes_value") {
                let text = try scanner.string()
                guard let decoded = Base64.decode(text) else { throw scanner.fail("bytesValue is not valid base64") }
                value = .bytes(decoded)
            } else if key.isField("arrayValue", "array_value") {
                var values: [AttributeValue] = []
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("values") {
                        try scanner.optionalArray { scanner, _ throws(JSONScanner.Failure) in
                            values.append(try readValue(&scanner))
                        }
                    } else {
                        try scanner.skipValue()
                    }
                }
                value = .array(values)
            } else if key.isField("kvlistValue", "kvlist_value") {
                var entries: [Attribute] = []
                try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
                    if key.equals("values") { entries = try readAttributes(&scanner) } else { try scanner.skipValue() }
                }
                value = .map(entries)
            } else {
                try scanner.skipValue()
            }
        }
        return value
    }
}

extension JSONScanner {
    /// The hex text of an id: a string, `null` or an empty string (returned as empty).
    mutating func idText() throws(Failure) -> UnsafeBufferPointer<UInt8>? {
        switch try peekKind() {
        case .null:
            try literal("null")
            return nil
        case .string:
            return try rawString()
        case let other:
            throw fail("expected a hex string id, found \(Self.describe(other))")
        }
    }
}

extension TraceID {
    /// From 32 hex digit bytes.
    init?(hexBytes: UnsafeBufferPointer<UInt8>) {
        guard hexBytes.count == 32, let high = UInt64(hexDigits: hexBytes.prefix(16)),
            let low = UInt64(hexDigits: hexBytes.dropFirst(16))
        else { return nil }
        self.init(high: high, low: low)
    }
}

extension SpanID {
    /// From 16 hex digit bytes.
    init?(hexBytes: UnsafeBufferPointer<UInt8>) {
        guard hexBytes.count == 16, let value = UInt64(hexDigits: hexBytes[...]) else { return nil }
        self.init(value)
    }
}

/// Standard base64 (RFC 4648, with or without padding).
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return output
    }
}
