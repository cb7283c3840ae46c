/// Health: the evaluator's raw verdict, published through the hysteresis, one notice per
/// published change.
extension DashboardState {
    /// Level of a non-stale health for the hysteresis.
    private static func level(_ health: Health) -> Int {
        switch health {
        case .ok, .stale: 0
        case .degraded: 1
        case .down: 2
        }
    }

    private static func health(level: Int) -> Health {
        switch level {
        case 0: .ok
        case 1: .degraded
        default: .down
        }
    }

    /// What `region`'s health depends on in the rest of the topology.
    func healthContext(for region: RegionState) -> HealthContext {
        let split = primary.splitBrain.flatMap { $0.regions.contains(region.name) ? $0 : nil }
        return HealthContext(
            upstreamLink: upstreamLinkIndex(of: region.name).map { replicationLinks[$0] },
            splitBrain: split,
            followingFormerPrimary: followingFormerPrimary(region),
            currentPrimary: primary.current,
            archive: archiveStatus(of: region)
        )
    }

    /// Why `region` follows a server that is no longer the primary, or `nil`.
    func followingFormerPrimary(_ region: RegionState) -> String? {
        guard region.role == .standby, let primaryName = primary.current, let current = self.region(named: primaryName),
            let facts = freshFacts(of: region)
        else { return nil }
        let primaryTimeline = current.timeline.map { " is on timeline \($0)" } ?? ""
        guard let root = writeSource(of: region.name) else {
            if let timeline = facts.timeline, let newest = current.timeline, timeline < newest {
                return "on timeline \(timeline); primary \(primaryName)\(primaryTimeline)"
            }
            return nil
        }
        guard root != primaryName else {
            // Following the primary but still on an older timeline: it has not crossed over to
            // the promotion's timeline (one that replayed past the fork never will).
            guard let timeline = facts.timeline, let newest = current.timeline, timeline < newest else { return nil }
            return
                "on timeline \(timeline), not on primary \(primaryName)'s timeline \(newest): it has not followed the promotion (past the fork it needs pg_rewind)"
        }
        let rootTimeline = self.region(named: root)?.timeline.map { ", timeline \($0)" } ?? ""
        return "following former primary \(root)\(rootTimeline); primary \(primaryName)\(primaryTimeline)"
    }

    /// WAL archiving of a region whose server is not in recovery.
    func archiveStatus(of region: RegionState) -> ArchiveStatus? {
        guard let server = region.server, let facts = server.facts, facts.role != .recovering,
            let archiver = facts.archiver, let at = server.factsObservedAt
        else { return nil }
        let resolution = 1.5 * collectorInterval(server.source)
        let lag = ReplicationEvidence.archiveLag(
            archiver, observedAt: at, history: server.history, resolution: resolution)
        return ArchiveStatus(facts: archiver, unarchived: lag, observedAt: at)
    }

    /// Re-derives one region's health; a published change becomes a notice stamped with the
    /// time of the observation (or tick) that caused it.
    mutating func reassess(regionAt index: Int, at cause: Timestamp) {
        let time = max(now, cause)
        var region = regions[index]
        let context = healthContext(for: region)
        region.followingFormerPrimary = context.followingFormerPrimary
        region.archive = context.archive
        let previous = region.assessment
        let staleness = self.staleness
        let (stale, findings) = evaluator.assess(
            region, context: context, staleAfter: { staleness.staleAfter($0) }, at: now)
        let raw =
            stale ?? HealthAssessment(health: findings.map(\.health).max() ?? .ok, reasons: findings.map(\.reason))
        region.rawAssessment = raw
        if stale != nil {
            region.healthLevels.reset()
            region.assessment = raw
        } else {
            let rawLevel = Self.level(raw.health)
            let immediate = findings.filter(\.isImmediate).map { Self.level($0.health) }.max() ?? 0
            let timing = topology.thresholds.hysteresis
            let publishedLevel = region.healthLevels.update(
                raw: rawLevel, immediate: immediate, at: time, timing: timing)
            region.assessment = Self.published(
                level: publishedLevel, raw: raw, findings: findings, previous: previous, levels: region.healthLevels,
                timing: timing, at: time)
        }
        regions[index] = region
        guard region.assessment.health != previous.health, previous != .awaitingData else { return }
        let reason = region.assessment.reasons.first.map { ": \($0)" } ?? ""
        addNotice(
            Notice(
                at: time,
                severity: noticeSeverity(for: region.assessment.health),
                region: region.name,
                message: "\(region.name) \(previous.health.label) → \(region.assessment.health.label)\(reason)"
            ))
    }

    /// The published assessment: the raw one when the levels agree; otherwise the published
    /// level with reasons that say what is pending or recovering.
    private static func published(
        level: Int,
        raw: HealthAssessment,
        findings: [HealthFinding],
        previous: HealthAssessment,
        levels: Hysteresis,
        timing: HysteresisTiming,
        at now: Timestamp
    ) -> HealthAssessment {
        let rawLevel = Self.level(raw.health)
        guard level != rawLevel else { return raw }
        let health = health(level: level)
        if level < rawLevel {
            let held = levels.heldFor(level: rawLevel, at: now) ?? 0
            let pending =
                "not yet \(raw.health.label) (\(Format.age(held)) of \(Format.age(timing.sustainSeconds))): \(raw.reasons.first ?? "")"
            let kept = findings.filter { Self.level($0.health) <= level }.map(\.reason)
            return HealthAssessment(health: health, reasons: kept + [pending])
        }
        let since = levels.sinceLast(level: level, at: now) ?? 0
        let recovering = "recovering (\(Format.age(since)) of \(Format.age(timing.recoverSeconds)) within thresholds)"
        let earlier = previous.reasons.filter {
            !$0.hasPrefix("recovering (") && !$0.hasPrefix("was: ") && !raw.reasons.contains($0)
        }
        return HealthAssessment(
            health: health, reasons: [recovering] + raw.reasons + earlier.prefix(1).map { "was: " + $0 })
    }
}
