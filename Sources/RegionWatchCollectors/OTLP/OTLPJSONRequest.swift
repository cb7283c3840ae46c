import RegionWatchCore

/// What the OTLP/JSON decoders of the three signals share: the request object around the
/// resource list, resource attributes, and enums given as numbers or names.
enum OTLPJSONRequest {
    /// Reads the top-level object of `bytes`, handing each member to `member`, which consumes
    /// the value and returns `true`, or returns `false` to have it skipped. An empty body, or
    /// any problem, is a decoding error naming where it is.
    static func read(
        _ bytes: UnsafeRawBufferPointer, request: String,
        member: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws(JSONScanner.Failure) -> Bool
    ) throws(OTLPDecodingError) {
        guard !bytes.isEmpty else { throw OTLPDecodingError("empty body: expected an \(request)") }
        let result: Result<Void, JSONScanner.Failure> = {
            var scanner = JSONScanner(bytes.bindMemory(to: UInt8.self))
            do throws(JSONScanner.Failure) {
                guard try scanner.peekKind() == .object else {
                    throw scanner.fail(
                        "expected an object (an \(request)), found \(JSONScanner.describe(try scanner.peekKind()))")
                }
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    if try !member(&scanner, key) { try scanner.skipValue() }
                }
                guard scanner.isAtEnd() else {
                    throw scanner.fail("unexpected data after the request at byte \(scanner.position)")
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }()
        if case .failure(let failure) = result {
            throw OTLPDecodingError("malformed JSON body: \(failure.description)")
        }
    }

    /// The `attributes` of a `resource` object.
    static func resourceAttributes(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [Attribute] {
        var attributes: [Attribute] = []
        try scanner.optionalObject { scanner, key throws(JSONScanner.Failure) in
            if key.equals("attributes") {
                attributes = try OTLPJSONDecoder.readAttributes(&scanner)
            } else {
                try scanner.skipValue()
            }
        }
        return attributes
    }

    /// An enum given as an integer, or by name through `byName`; `nil` for null or an unknown
    /// name.
    static func enumValue(
        _ scanner: inout JSONScanner, byName: (String) -> Int?
    ) throws(JSONScanner.Failure) -> Int? {
        switch try scanner.peekKind() {
        case .number:
            return Int(clamping: try scanner.signed())
        case .string:
            return byName(try scanner.string())
        case .null:
            _ = try scanner.consumeNull()
            return nil
        case let other:
            throw scanner.fail("expected an integer enum value, found \(JSONScanner.describe(other))")
        }
    }
}
