/// What a region's health depends on besides its own signals.
public struct HealthContext: Equatable, Sendable {
    /// The link the region replicates through (from the server it follows).
    public var upstreamLink: ReplicationLinkState?
    /// Split brain the region is part of.
    public var splitBrain: SplitBrain?
    /// Why its replication follows a server that is no longer the primary.
    public var followingFormerPrimary: String?
    /// The current primary, for advice to a fenced former primary.
    public var currentPrimary: String?
    /// WAL archiving of a primary.
    public var archive: ArchiveStatus?

    public init(
        upstreamLink: ReplicationLinkState? = nil,
        splitBrain: SplitBrain? = nil,
        followingFormerPrimary: String? = nil,
        currentPrimary: String? = nil,
        archive: ArchiveStatus? = nil
    ) {
        self.upstreamLink = upstreamLink
        self.splitBrain = splitBrain
        self.followingFormerPrimary = followingFormerPrimary
        self.currentPrimary = currentPrimary
        self.archive = archive
    }
}

/// One reason a region is not OK.
public struct HealthFinding: Equatable, Sendable {
    public var health: Health
    public var reason: String
    /// Published at once, without waiting for the sustain time: a refused connection, a probe
    /// failure streak, split brain.
    public var isImmediate: Bool

    public init(_ health: Health, _ reason: String, isImmediate: Bool = false) {
        self.health = health
        self.reason = reason
        self.isImmediate = isImmediate
    }
}

/// Derives a region's health from its signals, the configured thresholds and the time.
///
/// Rules, most severe first: no fresh data at all → STALE (never the last colour); split brain,
/// consecutive probe failures or an error rate past the down threshold → DOWN; error rate, p99
/// latency, single probe failures, replication lag past the RPO, a broken or unobserved
/// upstream link, following a former primary, being fenced, WAL archiving failing or behind
/// the RPO, a failed or old backup, or any health signal gone stale → DEGRADED. A stale signal
/// can never keep a region OK. This is the raw verdict; `DashboardState` publishes it through
/// the hysteresis.
public struct HealthEvaluator: Equatable, Sendable {
    public var thresholds: HealthThresholds
    public var objectives: RecoveryObjectives

    /// A certificate closer than this to expiry degrades the region (7 days).
    public static let certificateWarningSeconds = 7.0 * 86_400

    public init(thresholds: HealthThresholds, objectives: RecoveryObjectives) {
        self.thresholds = thresholds
        self.objectives = objectives
    }

    /// Assesses `region` at `now`: the raw verdict (stale, or OK with findings).
    ///
    /// - Parameters:
    ///   - context: the upstream link, split brain, and what else depends on the topology.
    ///   - staleAfter: the stale threshold, in seconds, of data from a given source.
    public func assess(
        _ region: RegionState,
        context: HealthContext,
        staleAfter: (String?) -> Double,
        at now: Timestamp
    ) -> (stale: HealthAssessment?, findings: [HealthFinding]) {
        guard let newest = region.newestObservation else { return (.awaitingData, []) }
        let regionStaleAfter = region.sources.map { staleAfter($0) }.max() ?? staleAfter(nil)
        let age = max(0, now.seconds(since: newest))
        if age > regionStaleAfter {
            return (
                HealthAssessment(
                    health: .stale,
                    reasons: ["no data for \(Format.age(age)) (stale after \(Format.age(regionStaleAfter)))"]
                ), []
            )
        }

        var findings: [HealthFinding] = []
        func isFresh(_ signal: Signal) -> Bool {
            guard let signalAge = signal.age(at: now) else { return false }
            return signalAge <= staleAfter(signal.source)
        }
        func staleFinding(_ signal: Signal, _ name: String) {
            if let signalAge = signal.age(at: now), !isFresh(signal) {
                findings.append(HealthFinding(.degraded, "\(name) data stale (last \(Format.age(signalAge)) ago)"))
            }
        }

        for probe in region.probes {
            assessProbe(probe, isFresh: isFresh, into: &findings)
            if let expiry = probe.lastResult?.certificateExpiry,
                isFresh(probe.latencyMilliseconds)
                    || probe.lastResult.map({ now.seconds(since: $0.observedAt) <= staleAfter($0.source) }) == true
            {
                let remaining = expiry.seconds(since: now)
                if remaining < Self.certificateWarningSeconds {
                    findings.append(
                        HealthFinding(
                            .degraded,
                            remaining < 0
                                ? "TLS certificate expired \(Format.duration(-remaining)) ago"
                                : "TLS certificate expires in \(Format.duration(remaining))"))
                }
            }
            staleFinding(
                probe.latencyMilliseconds,
                region.probes.count > 1 ? "health probe \(probe.lastResult?.source ?? "")" : "health probe")
        }

        if isFresh(region.errorRate), let errorRate = region.errorRate.latest {
            if errorRate >= thresholds.errorRateDown {
                findings.append(
                    HealthFinding(
                        .down, "error rate \(Format.percent(errorRate)) ≥ \(Format.percent(thresholds.errorRateDown))"))
            } else if errorRate >= thresholds.errorRateDegraded {
                findings.append(
                    HealthFinding(
                        .degraded,
                        "error rate \(Format.percent(errorRate)) ≥ \(Format.percent(thresholds.errorRateDegraded))"))
            }
        }
        staleFinding(region.errorRate, "error rate")

        if isFresh(region.p99Milliseconds), let p99 = region.p99Milliseconds.latest,
            p99 >= thresholds.p99DegradedMilliseconds
        {
            findings.append(
                HealthFinding(
                    .degraded,
                    "p99 latency \(Format.milliseconds(p99)) ≥ \(Format.milliseconds(thresholds.p99DegradedMilliseconds))"
                ))
        }
        staleFinding(region.p99Milliseconds, "p99 latency")

        if isFresh(region.logErrorsPerSecond), let rate = region.logErrorsPerSecond.latest {
            let text = "log errors \(Format.rate(rate))/s"
            if let down = thresholds.logErrorsPerSecondDown, rate >= down {
                findings.append(HealthFinding(.down, "\(text) ≥ \(Format.rate(down))/s"))
            } else if let degraded = thresholds.logErrorsPerSecondDegraded, rate >= degraded {
                findings.append(HealthFinding(.degraded, "\(text) ≥ \(Format.rate(degraded))/s"))
            }
        }

        if let splitBrain = context.splitBrain {
            findings.append(HealthFinding(.down, splitBrain.message, isImmediate: true))
        }
        assessReplication(region, context: context, staleAfter: staleAfter, at: now, into: &findings)
        if let archive = context.archive, region.role == .primary {
            assessArchive(archive, into: &findings)
        }

        if let backup = region.backup {
            if backup.integrity == .failed {
                findings.append(HealthFinding(.degraded, "last backup failed its integrity check"))
            }
            let backupAge = now.seconds(since: backup.completedAt)
            if let maximum = thresholds.backupMaxAgeSeconds, backupAge > maximum {
                findings.append(
                    HealthFinding(
                        .degraded, "last backup \(Format.duration(backupAge)) old (max \(Format.duration(maximum)))"))
            }
        }

        let ordered = findings.enumerated().sorted { lhs, rhs in
            lhs.element.health != rhs.element.health ? lhs.element.health > rhs.element.health : lhs.offset < rhs.offset
        }
        return (nil, ordered.map(\.element))
    }

    /// The upstream link (broken, unobserved, lag past the RPO), following a former primary,
    /// being fenced. A primary replicates from nobody.
    private func assessReplication(
        _ region: RegionState, context: HealthContext, staleAfter: (String?) -> Double, at now: Timestamp,
        into findings: inout [HealthFinding]
    ) {
        if region.role == .fenced {
            let advice = context.currentPrimary.map { "; rebuild it as a standby of \($0)" } ?? ""
            // Never shown OK, not even for the sustain time: a fenced server refuses writes now.
            if let written = region.server?.writesWhileFenced {
                findings.append(
                    HealthFinding(
                        .degraded,
                        "fenced, yet table rows have changed there since \(written.utcTimeOfDay) UTC (read-only is only a default)\(advice)",
                        isImmediate: true))
            } else {
                findings.append(
                    HealthFinding(
                        .degraded,
                        "fenced: transactions are read-only by default (default_transaction_read_only), it replicates from nobody\(advice)",
                        isImmediate: true))
            }
            if let share = region.trafficShare.latest, share >= 0.005 {
                findings.append(
                    HealthFinding(
                        .down, "fenced, yet it serves \(Format.percent(share)) of the traffic: writes there fail",
                        isImmediate: true))
            }
        }
        if let following = context.followingFormerPrimary {
            findings.append(HealthFinding(.degraded, following))
        }
        guard region.role != .primary, region.role != .fenced, let link = context.upstreamLink else { return }
        // The link's raw state: the region's own hysteresis smooths it (never twice).
        switch link.rawState {
        case .broken:
            findings.append(HealthFinding(.degraded, "replication from \(link.from) broken"))
        case .stale:
            let age = link.observedAt.map { " (last seen \(Format.age(now.seconds(since: $0))) ago)" } ?? ""
            findings.append(HealthFinding(.degraded, "replication from \(link.from) not observed\(age)"))
        default:
            break
        }
        if let lag = link.reading.time, lag.certainlyExceeds(objectives.rpoSeconds) {
            let prefix = lag.bound == .exact ? "" : "at least "
            // One decimal below 100 s, so a lag just past the RPO never reads "30s exceeds 30s".
            let shown = Format.lag(lag.bound == .exact ? max(lag.seconds, lag.atLeast) : lag.atLeast)
            findings.append(
                HealthFinding(
                    .degraded, "replication lag \(prefix)\(shown) exceeds RPO \(Format.duration(objectives.rpoSeconds))"
                ))
        }
    }

    /// WAL archiving failing, or the oldest write not archived older than the RPO.
    private func assessArchive(_ archive: ArchiveStatus, into findings: inout [HealthFinding]) {
        let facts = archive.facts
        if facts.isFailing {
            let segment = facts.lastFailedSegment.map { " \($0)" } ?? ""
            let at = facts.lastFailedAt.map { " at \($0.utcTimeOfDay) UTC" } ?? ""
            findings.append(HealthFinding(.degraded, "WAL archiving failing: last failure\(segment)\(at)"))
        }
        if let unarchived = archive.unarchived, unarchived.certainlyExceeds(objectives.rpoSeconds) {
            let prefix = unarchived.bound == .exact ? "" : "at least "
            findings.append(
                HealthFinding(
                    .degraded,
                    "WAL archive behind: oldest unarchived write \(prefix)\(Format.duration(unarchived.atLeast)) old exceeds RPO \(Format.duration(objectives.rpoSeconds))"
                ))
        }
    }

    private func assessProbe(_ probe: ProbeState, isFresh: (Signal) -> Bool, into findings: inout [HealthFinding]) {
        guard let last = probe.lastResult, !last.isSuccess else { return }
        let failures = probe.consecutiveFailures
        let detail = "health probe failed \(failures) time\(failures == 1 ? "" : "s") in a row: \(last.message)"
        if failures >= thresholds.probeFailuresDown || last.isDefinitive {
            findings.append(HealthFinding(.down, detail, isImmediate: true))
        } else if failures >= thresholds.probeFailuresDegraded {
            findings.append(HealthFinding(.degraded, detail))
        }
    }
}
