/// Derives a region's health from its signals, the configured thresholds and the time.
///
/// Rules, most severe first: no fresh data at all → STALE (never the last colour); consecutive
/// probe failures or an error rate past the down threshold → DOWN; error rate, p99 latency,
/// single probe failures, replication lag past the RPO, a broken inbound link, a failed or old
/// backup, or any health signal gone stale → DEGRADED. A stale signal can never keep a region OK.
public struct HealthEvaluator: Equatable, Sendable {
    public var thresholds: HealthThresholds
    public var objectives: RecoveryObjectives

    /// A certificate closer than this to expiry degrades the region (7 days).
    public static let certificateWarningSeconds = 7.0 * 86_400

    public init(thresholds: HealthThresholds, objectives: RecoveryObjectives) {
        self.thresholds = thresholds
        self.objectives = objectives
    }

    /// Assesses `region` at `now`.
    ///
    /// - Parameters:
    ///   - inboundLinks: replication links that feed this region.
    ///   - staleAfter: the stale threshold, in seconds, of data from a given source.
    public func assess(
        _ region: RegionState,
        inboundLinks: [ReplicationLinkState],
        staleAfter: (String?) -> Double,
        at now: Timestamp
    ) -> HealthAssessment {
        guard let newest = region.newestObservation else { return .awaitingData }
        let regionStaleAfter = region.sources.map { staleAfter($0) }.max() ?? staleAfter(nil)
        let age = max(0, now.seconds(since: newest))
        if age > regionStaleAfter {
            return HealthAssessment(
                health: .stale,
                reasons: ["no data for \(Format.age(age)) (stale after \(Format.age(regionStaleAfter)))"]
            )
        }

        var findings: [(Health, String)] = []
        func isFresh(_ signal: Signal) -> Bool {
            guard let signalAge = signal.age(at: now) else { return false }
            return signalAge <= staleAfter(signal.source)
        }
        func staleFinding(_ signal: Signal, _ name: String) {
            if let signalAge = signal.age(at: now), !isFresh(signal) {
                findings.append((.degraded, "\(name) data stale (last \(Format.age(signalAge)) ago)"))
            }
        }

        for probe in region.probes {
            assessProbe(probe, isFresh: isFresh, into: &findings)
            if let expiry = probe.lastResult?.certificateExpiry, isFresh(probe.latencyMilliseconds) || probe.lastResult.map({ now.seconds(since: $0.observedAt) <= staleAfter($0.source) }) == true {
                let remaining = expiry.seconds(since: now)
                if remaining < Self.certificateWarningSeconds {
                    findings.append((.degraded, remaining < 0 ? "TLS certificate expired \(Format.duration(-remaining)) ago" : "TLS certificate expires in \(Format.duration(remaining))"))
                }
            }
            staleFinding(probe.latencyMilliseconds, region.probes.count > 1 ? "health probe \(probe.lastResult?.source ?? "")" : "health probe")
        }

        if isFresh(region.errorRate), let errorRate = region.errorRate.latest {
            if errorRate >= thresholds.errorRateDown {
                findings.append((.down, "error rate \(Format.percent(errorRate)) ≥ \(Format.percent(thresholds.errorRateDown))"))
            } else if errorRate >= thresholds.errorRateDegraded {
                findings.append((.degraded, "error rate \(Format.percent(errorRate)) ≥ \(Format.percent(thresholds.errorRateDegraded))"))
            }
        }
        staleFinding(region.errorRate, "error rate")

        if isFresh(region.p99Milliseconds), let p99 = region.p99Milliseconds.latest,
           p99 >= thresholds.p99DegradedMilliseconds {
            findings.append((.degraded, "p99 latency \(Format.milliseconds(p99)) ≥ \(Format.milliseconds(thresholds.p99DegradedMilliseconds))"))
        }
        staleFinding(region.p99Milliseconds, "p99 latency")

        // A primary replicates from nobody: links into a region that has been promoted (from a
        // primary that is gone) say nothing about its health.
        for link in inboundLinks where region.role != .primary {
            let linkStaleAfter = staleAfter(link.source)
            if link.state == .broken {
                findings.append((.degraded, "replication from \(link.from) broken"))
            }
            if let lag = link.effectiveLag(at: now, staleAfter: linkStaleAfter), lag.seconds > objectives.rpoSeconds {
                let prefix = lag.isLowerBound ? "at least " : ""
                // One decimal below 100 s, so a lag just past the RPO never reads "30s exceeds 30s".
                let shown = lag.seconds < 100 ? Format.fixed(lag.seconds, decimals: 1) + "s" : Format.duration(lag.seconds)
                findings.append((.degraded, "replication lag \(prefix)\(shown) exceeds RPO \(Format.duration(objectives.rpoSeconds))"))
            }
        }

        if let backup = region.backup {
            if backup.integrity == .failed {
                findings.append((.degraded, "last backup failed its integrity check"))
            }
            let backupAge = now.seconds(since: backup.completedAt)
            if let maximum = thresholds.backupMaxAgeSeconds, backupAge > maximum {
                findings.append((.degraded, "last backup \(Format.duration(backupAge)) old (max \(Format.duration(maximum)))"))
            }
        }

        guard let worst = findings.map(\.0).max() else { return HealthAssessment(health: .ok) }
        let ordered = findings.enumerated().sorted { lhs, rhs in
            lhs.element.0 != rhs.element.0 ? lhs.element.0 > rhs.element.0 : lhs.offset < rhs.offset
        }
        return HealthAssessment(health: worst, reasons: ordered.map(\.element.1))
    }

    private func assessProbe(_ probe: ProbeState, isFresh: (Signal) -> Bool, into findings: inout [(Health, String)]) {
        guard let last = probe.lastResult, !last.isSuccess else { return }
        let failures = probe.consecutiveFailures
        let detail = "health probe failed \(failures) time\(failures == 1 ? "" : "s") in a row: \(last.message)"
        if failures >= thresholds.probeFailuresDown || last.isDefinitive {
            findings.append((.down, detail))
        } else if failures >= thresholds.probeFailuresDegraded {
            findings.append((.degraded, detail))
        }
    }
}
