/// How much a lag figure is known.
public enum LagBound: String, Sendable, Equatable, Codable {
    /// Known to within the evidence's resolution (about one collection interval).
    case exact
    /// At least this much; how much more is not known.
    case lower
    /// At most this much; it may be much less.
    case upper
    /// Somewhere between two known values, further apart than the resolution.
    case range
}

/// A time lag (seconds) as an interval the truth is known to lie in.
///
/// Readings from different sources are combined by intersecting their intervals. The figure
/// shown is the lower end when the interval is narrow (exact) or open above (a lower bound),
/// and the upper end when nothing better than an upper bound is known.
public struct LagEstimate: Equatable, Sendable, Codable {
    /// The lag is at least this, in seconds.
    public var atLeast: Double
    /// The lag is at most this, in seconds; `nil` when no upper bound is known.
    public var atMost: Double?
    /// Intervals no wider than this count as exact: the resolution of the evidence.
    public var resolution: Double
    /// The most likely value inside the interval, when the evidence has one (a heartbeat: the
    /// next beat was due one interval after the last one replayed); else the lower end is shown.
    public var likely: Double?

    public init(atLeast: Double, atMost: Double?, resolution: Double, likely: Double? = nil) {
        let lower = max(0, atLeast)
        self.atLeast = lower
        self.atMost = atMost.map { max(lower, $0) }
        self.resolution = max(0, resolution)
        self.likely = likely.map { min(max(lower, $0), atMost.map { max(lower, $0) } ?? $0) }
    }

    /// A lag known exactly (a source that measures it directly).
    public static func exact(_ seconds: Double, resolution: Double = 0) -> LagEstimate {
        LagEstimate(atLeast: seconds, atMost: seconds, resolution: resolution)
    }

    /// Nothing left to replay.
    public static let caughtUp = LagEstimate.exact(0)

    /// How well the lag is known.
    public var bound: LagBound {
        guard let atMost else { return .lower }
        if atMost - atLeast <= resolution { return .exact }
        return atLeast <= resolution ? .upper : .range
    }

    /// The figure to show and compare: for an exact interval its likely value (else its lower
    /// end, never above the truth); the lower end of a lower bound or a range; the upper end of an
    /// upper bound.
    public var seconds: Double {
        switch bound {
        case .exact: likely ?? atLeast
        case .lower, .range: atLeast
        case .upper: atMost ?? atLeast
        }
    }

    /// The worst case: the upper end, or `nil` when unbounded.
    public var worstCase: Double? { atMost }

    /// Both readings at once: the interval both allow. When they contradict each other (two
    /// observations taken at slightly different moments), the upper bound is trusted: it
    /// comes from hard evidence of what has been replayed.
    public func intersected(with other: LagEstimate) -> LagEstimate {
        let upper: Double? =
            switch (atMost, other.atMost) {
            case (let a?, let b?): min(a, b)
            case (let a?, nil): a
            case (nil, let b?): b
            case (nil, nil): nil
            }
        let lower = min(max(atLeast, other.atLeast), upper ?? .infinity)
        return LagEstimate(
            atLeast: lower, atMost: upper, resolution: max(resolution, other.resolution), likely: likely ?? other.likely
        )
    }

    /// `3.2s`, `≥3.2s`, `≤15s`, `3.2s–15s`.
    public var text: String {
        switch bound {
        case .exact: Format.lag(seconds)
        case .lower: "≥" + Format.lag(atLeast)
        case .upper: "≤" + Format.lag(atMost ?? atLeast)
        case .range: Format.lag(atLeast) + "–" + Format.lag(atMost ?? atLeast)
        }
    }

    /// Like `text`, but a range shows only its worst case (`≤15s`), for narrow columns.
    public var compactText: String {
        bound == .range ? "≤" + Format.lag(atMost ?? atLeast) : text
    }

    /// Whether the lag is known to exceed `limit`: even its lower end does. Decisions use
    /// the bounds, never the shown figure.
    public func certainlyExceeds(_ limit: Double) -> Bool { atLeast > limit }

    /// Whether the lag is known to be within `limit`: even its upper end is.
    public func certainlyWithin(_ limit: Double) -> Bool { atMost.map { $0 <= limit } ?? false }
}

/// What is known of one standby's replication at one instant.
public struct ReplicationReading: Equatable, Sendable {
    /// Time lag: how long ago the oldest write the standby has not replayed was committed.
    /// `nil` when nothing is known.
    public var time: LagEstimate?
    /// Bytes the primary has that the standby has not received and flushed: what a promotion
    /// now would lose.
    public var bytesNotReceived: Double?
    /// Bytes the standby has received but not yet replayed: what reads on it do not see yet.
    public var bytesNotReplayed: Double?
    /// Bytes behind in all, as a source reported them when it does not split them.
    private var reportedBytesBehind: Double?
    /// When the evidence was observed.
    public var observedAt: Timestamp?
    /// The primary has not been observed since this time: what it committed afterwards is
    /// unknown, and is never counted in the figures above.
    public var unknownAfter: Timestamp?
    /// The region whose primary is not observed since `unknownAfter` (the root of the chain,
    /// which is not the link's own upstream when the standby cascades).
    public var unobservedSource: String?

    public init(
        time: LagEstimate?,
        bytesNotReceived: Double? = nil,
        bytesNotReplayed: Double? = nil,
        bytesBehind: Double? = nil,
        observedAt: Timestamp? = nil,
        unknownAfter: Timestamp? = nil,
        unobservedSource: String? = nil
    ) {
        self.time = time
        self.bytesNotReceived = bytesNotReceived
        self.bytesNotReplayed = bytesNotReplayed
        reportedBytesBehind = bytesBehind
        self.observedAt = observedAt
        self.unknownAfter = unknownAfter
        self.unobservedSource = unknownAfter == nil ? nil : unobservedSource
    }

    /// Bytes behind in all: not received plus received but not replayed.
    public var bytesBehind: Double? {
        switch (bytesNotReceived, bytesNotReplayed) {
        case (nil, nil): reportedBytesBehind
        case (let received, let replayed): (received ?? 0) + (replayed ?? 0)
        }
    }

    /// The lag as shown in a table cell: `3.2s`, `≥3.2s`, `≤15s`, and `+?` when writes after
    /// the last observation of the primary are unknown.
    public var compactText: String? {
        guard let time else { return unknownAfter == nil ? nil : Format.unknown }
        return time.compactText + (unknownAfter == nil ? "" : "+?")
    }
}

/// The data a promotion of a standby would lose: what is known, and the window that is not.
public struct DataLossEstimate: Sendable, Equatable, Codable {
    /// Time span of the writes the target had not received at the last observation of the
    /// primary; `nil` when unknown.
    public var known: LagEstimate?
    /// Bytes the target had not received at the last observation of the primary.
    public var knownBytes: Double?
    /// When the primary was last observed, if it is not observed now: what it may have
    /// committed after this is an unknown window, never added to the known loss.
    public var unknownAfter: Timestamp?

    public init(known: LagEstimate?, knownBytes: Double?, unknownAfter: Timestamp? = nil) {
        self.known = known
        self.knownBytes = knownBytes
        self.unknownAfter = unknownAfter
    }

    public static let unknown = DataLossEstimate(known: nil, knownBytes: nil)

    private enum CodingKeys: String, CodingKey {
        case knownSeconds, knownBound, knownAtLeastSeconds, knownAtMostSeconds, knownResolutionSeconds, knownBytes
        case unknownAfter, unknownAfterEpochSeconds
        // Written before the known loss and the unknown window were told apart.
        case seconds, bytes, isLowerBound
    }

    /// The audit log's form: flat, named fields; the window as ISO 8601 and epoch seconds.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(known?.seconds, forKey: .knownSeconds)
        try container.encode(known?.bound, forKey: .knownBound)
        try container.encode(known?.atLeast, forKey: .knownAtLeastSeconds)
        try container.encode(known?.atMost, forKey: .knownAtMostSeconds)
        try container.encode(known?.resolution, forKey: .knownResolutionSeconds)
        try container.encode(knownBytes, forKey: .knownBytes)
        try container.encode(unknownAfter?.iso8601, forKey: .unknownAfter)
        try container.encode(unknownAfter?.secondsSinceEpoch, forKey: .unknownAfterEpochSeconds)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let atLeast = try container.decodeIfPresent(Double.self, forKey: .knownAtLeastSeconds) {
            known = LagEstimate(
                atLeast: atLeast, atMost: try container.decodeIfPresent(Double.self, forKey: .knownAtMostSeconds),
                resolution: try container.decodeIfPresent(Double.self, forKey: .knownResolutionSeconds) ?? 0
            )
        } else if let seconds = try container.decodeIfPresent(Double.self, forKey: .seconds) {
            let isLowerBound = try container.decodeIfPresent(Bool.self, forKey: .isLowerBound) ?? false
            known = LagEstimate(atLeast: seconds, atMost: isLowerBound ? nil : seconds, resolution: 0)
        }
        knownBytes =
            try container.decodeIfPresent(Double.self, forKey: .knownBytes)
            ?? container.decodeIfPresent(Double.self, forKey: .bytes)
        unknownAfter = try container.decodeIfPresent(Double.self, forKey: .unknownAfterEpochSeconds).map(
            Timestamp.init(secondsSinceEpoch:))
    }

    /// The known loss in seconds as shown (see `LagEstimate.seconds`).
    public var seconds: Double? { known?.seconds }

    /// `0B known (0s)`, `at most 15s, 12.0MiB known`, plus `; writes after 23:14:02 UTC (41s
    /// ago) unknown` when the primary is not observed. `ageWord` words the age of that window
    /// relative to `now` (`earlier` for a record read later).
    public func text(at now: Timestamp, ageWord: String = "ago") -> String {
        var parts: [String] = []
        if let known {
            let amount: String =
                switch known.bound {
                case .exact: Format.lag(known.atLeast)
                case .lower: "at least " + Format.lag(known.atLeast)
                case .upper: "at most " + Format.lag(known.atMost ?? known.atLeast)
                case .range: "between \(Format.lag(known.atLeast)) and \(Format.lag(known.atMost ?? known.atLeast))"
                }
            parts.append(amount + (knownBytes.map { ", " + Format.bytes($0) } ?? "") + " known")
        } else if let knownBytes {
            parts.append(Format.bytes(knownBytes) + " known")
        } else {
            parts.append("known loss unknown")
        }
        var text = parts.joined()
        if let unknownAfter {
            text +=
                "; writes after \(unknownAfter.utcTimeOfDay) UTC (\(Format.age(now.seconds(since: unknownAfter))) \(ageWord)) unknown"
        }
        return text
    }
}
