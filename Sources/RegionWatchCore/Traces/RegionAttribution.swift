/// Decides which region and provider spans come from, from their resource attributes:
/// `cloud.region` first, then each configured rule in order, else "unknown".
public struct RegionAttribution: Equatable, Sendable {
    /// Takes the region from a resource attribute, optionally translating values.
    public struct Rule: Equatable, Sendable {
        public var attribute: String
        /// Attribute value → region; when empty, the value itself is the region.
        public var mapping: [String: String]

        public init(attribute: String, mapping: [String: String] = [:]) {
            self.attribute = attribute
            self.mapping = mapping
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule] = []) {
        self.rules = rules
    }

    /// Builds the resource facts regionwatch needs from OTLP resource attributes.
    public func resource(from attributes: [Attribute]) -> SpanResource {
        var values: [String: String] = [:]
        for attribute in attributes {
            if case .string(let value) = attribute.value, !value.isEmpty { values[attribute.key] = value }
        }
        return SpanResource(
            region: region(from: values),
            provider: values["cloud.provider"],
            service: values["service.name"] ?? "unknown",
            serviceVersion: values["service.version"],
            attributes: attributes
        )
    }

    func region(from values: [String: String]) -> String {
        if let region = values["cloud.region"] { return region }
        for rule in rules {
            guard let value = values[rule.attribute] else { continue }
            if rule.mapping.isEmpty { return value }
            if let mapped = rule.mapping[value] { return mapped }
        }
        return SpanResource.unknownRegion
    }
}

/// Checks that make a span unusable; shared by the decoders (which answer the client with a
/// partial success) and the store (which never keeps an invalid span).
public enum SpanValidation {
    /// Why `span` must be rejected, or `nil` when it is valid.
    public static func problem(of span: IncomingSpan) -> String? {
        if !span.traceID.isValid { return "invalid trace id" }
        if !span.spanID.isValid { return "invalid span id" }
        if span.startUnixNano == 0 { return "missing start time" }
        if span.endUnixNano < span.startUnixNano { return "end time before start time" }
        return nil
    }
}
