/// Which region is the topology's primary, as the servers say.
///
/// The primary is the region that accepts writes, on the newest timeline. Two regions that
/// both accept writes at the same time are split brain: the loudest alarm the dashboard has.
public struct PrimaryStatus: Equatable, Sendable {
    /// The region accepting writes on the newest timeline; `nil` when none does.
    public internal(set) var current: String?
    /// The region most recently known as primary (it may now be unreachable or fenced): the
    /// `from` of an emergency failover.
    public internal(set) var lastKnown: String?
    /// More than one region accepting writes at the same time.
    public internal(set) var splitBrain: SplitBrain?

    public init(current: String? = nil, lastKnown: String? = nil, splitBrain: SplitBrain? = nil) {
        self.current = current
        self.lastKnown = lastKnown
        self.splitBrain = splitBrain
    }
}

/// Two or more regions accepting writes at the same time.
public struct SplitBrain: Equatable, Sendable {
    /// The regions that accept writes, in configuration order.
    public var regions: [String]
    /// When it was first seen.
    public var since: Timestamp
    /// Members not observed now (not refusing connections, so possibly still taking writes),
    /// with when they were last seen accepting writes: the alarm stays until they are seen
    /// fenced, in recovery or down.
    public var unobserved: [String: Timestamp]
    /// Members fenced (read-only by default) in which a transaction has written all the same,
    /// with when that was first seen.
    public var writtenWhileFenced: [String: Timestamp]

    public init(
        regions: [String], since: Timestamp, unobserved: [String: Timestamp] = [:],
        writtenWhileFenced: [String: Timestamp] = [:]
    ) {
        self.regions = regions
        self.since = since
        self.unobserved = unobserved
        self.writtenWhileFenced = writtenWhileFenced
    }

    /// `split brain: us-east-1 and eu-west-1 both accept writes`, and which member is not
    /// observed now.
    public var message: String {
        let names =
            regions.count <= 2
            ? regions.joined(separator: " and ")
            : regions.dropLast().joined(separator: ", ") + " and " + (regions.last ?? "")
        let notes = regions.compactMap { name in
            unobserved[name].map { "\(name) not observed since \($0.utcTimeOfDay) UTC" }
                ?? writtenWhileFenced[name].map { "\(name) is fenced, yet written to since \($0.utcTimeOfDay) UTC" }
        }
        return "split brain: \(names) \(regions.count == 2 ? "both" : "all") accept writes"
            + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
    }
}
