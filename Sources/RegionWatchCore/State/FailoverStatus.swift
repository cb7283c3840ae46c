/// Phase of the failover process as the dashboard shows it.
public enum FailoverPhase: String, Sendable, Equatable, Codable {
    /// No failover in progress.
    case steady
}

/// The failover panel's facts: what is happening now and what happened last.
public struct FailoverStatus: Equatable, Sendable {
    public internal(set) var phase: FailoverPhase = .steady

    public init() {}

    /// One-line description for the panel.
    public var summary: String {
        switch phase {
        case .steady: "no failover in progress"
        }
    }
}
