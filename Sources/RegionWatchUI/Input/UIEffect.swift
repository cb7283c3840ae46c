import RegionWatchCore
/// A demo-only disturbance the view asks the simulator for.
public struct ChaosRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case takeDown
        case injectLag
        case recover
    }

    public var kind: Kind
    public var region: String

    public init(kind: Kind, region: String) {
        self.kind = kind
        self.region = region
    }
}

/// Something the view cannot do itself (it never does I/O); the run loop carries it out.
public enum UIEffect: Equatable, Sendable {
    case quit
    /// Asks the failover driver to act.
    case failover(FailoverIntent)
    case switchTheme(String)
    case chaos(ChaosRequest)
    /// The display was paused (`true`) or resumed.
    case pauseChanged(Bool)
    /// Repaint everything (Ctrl-L, resize).
    case redraw
}

/// What the operator asks of the failover driver.
public enum FailoverIntent: Equatable, Sendable {
    case begin(kind: FailoverKind, target: String, forcedGates: [FailoverGateKind: String] = [:])
    case confirm(typedTarget: String, reason: String)
    /// Esc: cancel before confirmation, abort between steps while running.
    case abort
    /// Clear a finished attempt.
    case acknowledge
    /// Mark an interrupted attempt (found in the audit log) as seen.
    case acknowledgeInterrupted(id: String)
    /// Continue the attempt that stopped half-way from its next step (forcing `forcedGates`
    /// when a refusal was forced).
    case resume(forcedGates: [FailoverGateKind: String] = [:])
    /// Undo the completed steps of the attempt that stopped half-way.
    case rollBack(forcedGates: [FailoverGateKind: String] = [:])
}
