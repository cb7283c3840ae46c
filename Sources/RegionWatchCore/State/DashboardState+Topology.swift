/// Roles, the primary, split brain, replication links and their readings: derived from what
/// the database servers say about themselves and what senders list, every time either
/// changes and at every tick.
extension DashboardState {
    // MARK: Events

    mutating func applyServer(_ sample: ServerSample) {
        guard let index = regionIndex[sample.region] else {
            noteUnknownRegion(sample.region)
            return
        }
        if regions[index].server == nil { regions[index].server = ServerState(source: sample.source) }
        regions[index].server?.record(sample)
        regions[index].noteObservation(at: sample.observedAt, source: sample.source)
        requestReassessment(PendingReassessment(cause: sample.observedAt, regions: [sample.region], topology: true))
    }

    mutating func applyReplication(_ sample: ReplicationSample) {
        guard regionIndex[sample.from] != nil, regionIndex[sample.to] != nil, sample.from != sample.to else {
            for name in [sample.from, sample.to] where regionIndex[name] == nil { noteUnknownRegion(name) }
            return
        }
        let key = LinkKey(from: sample.from, to: sample.to)
        if let index = linkIndex[key] {
            replicationLinks[index].record(sample)
        } else {
            // An absence claim creates no link from a server that is not the primary.
            if sample.isExpectationOnly, !isPrimaryOrLastKnown(sample.from) { return }
            linkIndex[key] = replicationLinks.count
            inboundIndex[sample.to, default: []].append(replicationLinks.count)
            var link = ReplicationLinkState(from: sample.from, to: sample.to)
            link.record(sample)
            replicationLinks.append(link)
        }
        // A claim that the standby is absent is not news about the standby.
        if !sample.isExpectationOnly, let position = regionIndex[sample.to] {
            regions[position].noteObservation(at: sample.observedAt, source: sample.source)
        }
        requestReassessment(
            PendingReassessment(cause: sample.observedAt, regions: [sample.from, sample.to], topology: true))
    }

    // MARK: Reading

    /// The region `standby` replicates from: what its own server says (its connected sender,
    /// else its settings), else the sender that lists it most recently, else what the
    /// configuration assumes. `nil` when unknown.
    public func upstream(of standby: String) -> String? {
        // Reads the region in place: copying a whole region here, called for every row and
        // link at every refresh, was most of a refresh's cost.
        guard let position = regionIndex[standby] else { return nil }
        let facts = freshFacts(of: regions[position]).flatMap { $0.role == .recovering ? $0 : nil }
        if let upstream = facts?.upstream, upstream != standby { return upstream }
        let own = regions[position].server?.source
        var best: (from: String, at: Timestamp)?
        for index in inboundIndex[standby] ?? [] {
            let link = replicationLinks[index]
            for view in link.views where view.source != own && !view.isExpectationOnly && isFresh(view) {
                if best.map({ view.observedAt > $0.at }) ?? true { best = (link.from, view.observedAt) }
            }
        }
        return best?.from ?? facts?.assumedUpstream
    }

    /// The server at the root of `standby`'s replication chain: following upstreams through
    /// cascading standbys (and standbys not observed now) to the first server that is not one.
    /// `nil` when unknown.
    public func writeSource(of standby: String) -> String? {
        var current = standby
        var seen: Set<String> = [standby]
        while let next = upstream(of: current) {
            guard seen.insert(next).inserted, let region = region(named: next) else { return nil }
            if !Self.isStandbyLike(region) { return next }
            current = next
        }
        return nil
    }

    /// A standby, or a server not observed now that was one when last seen.
    static func isStandbyLike(_ region: RegionState) -> Bool {
        region.role == .standby || (region.role == .unknown && region.lastKnownRole == .standby)
    }

    /// The server whose log a link's standby lacks writes of: its sender, or the root of the
    /// sender's chain when the sender is itself a standby.
    func root(of link: ReplicationLinkState) -> String? {
        guard let sender = region(named: link.from) else { return nil }
        return Self.isStandbyLike(sender) ? writeSource(of: link.from) : link.from
    }

    /// When the root server was last observed, if it is not observed now (never observed:
    /// `nil`, nothing to say "after").
    func unobservedSince(_ root: RegionState?) -> Timestamp? {
        guard let root, let server = root.server, freshFacts(of: root) == nil else { return nil }
        return server.factsObservedAt
    }

    /// The data a promotion of `target` would lose now: what it had not received at the last
    /// observation of the primary, and (when the primary is not observed now) the window since.
    public func dataLoss(promoting target: String) -> DataLossEstimate {
        guard let region = region(named: target), region.role == .standby || region.role == .unknown,
            let index = upstreamLinkIndex(of: target)
        else { return .unknown }
        let link = replicationLinks[index]
        guard let from = primary.current ?? primary.lastKnown, root(of: link) == from else { return .unknown }
        let rootRegion = self.region(named: from)
        let unknownAfter = unobservedSince(rootRegion)
        // What the standby has for certain: the furthest flushed position any source saw.
        guard let flushed = link.views.compactMap({ $0.positions?.flushed }).max() else {
            // A source that measures lag itself (metrics, the simulator): a replay lag, which
            // bounds the age of what was not received from above (and its bytes likewise).
            let upper = link.reading.time.map { LagEstimate(atLeast: 0, atMost: $0.atMost, resolution: $0.resolution) }
            return DataLossEstimate(
                known: upper, knownBytes: nil, unknownAfter: unknownAfter ?? link.reading.unknownAfter)
        }
        guard let server = rootRegion?.server, server.history.newest != nil else {
            // Positions, but the primary never observed: nothing is known of what it wrote.
            return .unknown
        }
        // The standby's own view of the sender's log end extends what is known of the primary.
        var history = server.history
        if let receiver = freshFacts(of: region)?.receiver, let end = receiver.senderEnd, let at = receiver.senderEndAt,
            let newest = history.newest, end > newest.position
        {
            history.record(end, timeline: history.timeline, at: at)
        }
        guard let newest = history.newest else { return .unknown }
        let known = ReplicationEvidence.lag(
            replayed: flushed, observedAt: max(newest.lastSeen, newest.firstSeen), history: history,
            resolution: 1.5 * collectorInterval(server.source))
        return DataLossEstimate(
            known: known, knownBytes: newest.position.bytes(after: flushed), unknownAfter: unknownAfter)
    }

    /// Facts of the region's server when its latest round reached it and is fresh.
    func freshFacts(of region: RegionState) -> ServerFacts? {
        guard let server = region.server, server.isReachable, let at = server.factsObservedAt,
            now.seconds(since: at) <= staleAfter(source: server.source)
        else { return nil }
        return server.facts
    }

    func isFresh(_ view: ReplicationSample) -> Bool {
        now.seconds(since: view.observedAt) <= staleAfter(source: view.source)
    }

    func collectorInterval(_ source: String?) -> Double {
        staleness.interval(of: source)
    }

    func isPrimaryOrLastKnown(_ region: String) -> Bool {
        region == (primary.current ?? primary.lastKnown)
    }

    /// Position in `replicationLinks` of the link feeding `region` (see `inboundLinks(of:)`).
    func upstreamLinkIndex(of region: String) -> Int? {
        if let upstream = upstream(of: region), let index = linkIndex[LinkKey(from: upstream, to: region)] {
            return index
        }
        if let primary = primary.current ?? primary.lastKnown, let index = linkIndex[LinkKey(from: primary, to: region)]
        {
            return index
        }
        return (inboundIndex[region] ?? [])
            .max {
                (replicationLinks[$0].observedAt?.secondsSinceEpoch ?? 0)
                    < (replicationLinks[$1].observedAt?.secondsSinceEpoch ?? 0)
            }
    }

    // MARK: Reassessing

    /// Re-derives roles, the primary, links and the health of `affected` regions (all of them
    /// when roles or the primary changed, or at a tick).
    mutating func reassessTopology(cause: Timestamp? = nil, affected: Set<String>? = nil) {
        let time = max(now, cause ?? now)
        let rolesChanged = updateRoles(at: time)
        let primaryChanged = updatePrimary(at: time)
        updateLinks(at: time)
        if rolesChanged { resolveNotFenced() }
        let everyone = affected == nil || rolesChanged || primaryChanged
        for index in regions.indices
        where everyone || affected?.contains(regions[index].name) == true || isDownstream(regions[index], of: affected)
        {
            reassess(regionAt: index, at: time)
        }
    }

    /// Drops "not fenced" notices of old primaries now seen fenced or in recovery.
    mutating func resolveNotFenced() {
        guard !failover.notFenced.isEmpty else { return }
        let safe = Set(regions.filter { $0.role == .fenced || $0.role == .standby }.map(\.name))
        failover.resolveNotFenced(where: safe.contains)
    }

    /// Whether `region` replicates from one of `names` (its health reads their links).
    private func isDownstream(_ region: RegionState, of names: Set<String>?) -> Bool {
        guard let names, region.role != .primary else { return false }
        return upstream(of: region.name).map(names.contains) ?? false
    }

    /// The role each region's server gives now. Returns whether any changed.
    private mutating func updateRoles(at time: Timestamp) -> Bool {
        var changed = false
        for index in regions.indices {
            let previous = regions[index].role
            let role = derivedRole(of: regions[index])
            guard role != previous else { continue }
            changed = true
            regions[index].role = role
            if role == .unknown {
                // A server never reached has no last known role (its configured one is a guess).
                let wasObserved = regions[index].server?.facts != nil
                regions[index].lastKnownRole =
                    previous == .unknown ? regions[index].lastKnownRole : (wasObserved ? previous : nil)
            } else {
                regions[index].lastKnownRole = nil
            }
            let name = regions[index].name
            let message =
                role == .unknown
                ? "\(name) role unknown: its server cannot be observed (\(regions[index].lastKnownRole.map { "was \($0.rawValue)" } ?? "never reached"))"
                : "\(name) role: \(previous.rawValue) → \(role.rawValue)"
            addNotice(
                Notice(
                    at: time, severity: role == .unknown || role == .fenced ? .warning : .info, region: name,
                    message: message))
        }
        return changed
    }

    private func derivedRole(of region: RegionState) -> RegionRole {
        guard let server = region.server else {
            return region.role == .unknown ? region.configuration.role : region.role
        }
        guard let facts = freshFacts(of: region) else {
            return server.facts == nil && server.failedAt == nil ? region.role : .unknown
        }
        switch facts.role {
        case .writable: return .primary
        case .fenced: return .fenced
        case .recovering: return .standby
        }
    }

    /// The writable region on the newest timeline, and split brain. Returns whether either
    /// changed.
    private mutating func updatePrimary(at time: Timestamp) -> Bool {
        let previous = primary
        let writable = regions.filter { $0.role == .primary }
        let ordered = writable.sorted { lhs, rhs in
            let (left, right) = (lhs.timeline ?? 0, rhs.timeline ?? 0)
            if left != right { return left > right }
            return (lhs.server?.writableSince?.secondsSinceEpoch ?? -.infinity)
                < (rhs.server?.writableSince?.secondsSinceEpoch ?? -.infinity)
        }
        primary.current = ordered.first?.name
        if let current = primary.current {
            primary.lastKnown = current
        } else if primary.lastKnown == nil {
            primary.lastKnown = regions.first { $0.lastKnownRole == .primary }?.name ?? topology.primaryRegion?.name
        }
        // Split brain: two servers each seen accepting writes after the other started to. A
        // member that goes quiet (a timeout, not a refusal) stays in the alarm.
        let quiet = regions.filter { region in
            region.role == .unknown && region.lastKnownRole == .primary && !(region.server?.isRefusing ?? true)
                && previous.splitBrain?.regions.contains(region.name) == true
        }
        var observed = (writable + quiet).compactMap { region -> (String, Timestamp, Timestamp)? in
            guard let since = region.server?.writableSince, let last = region.server?.lastWritableAt else { return nil }
            return (region.name, since, last)
        }
        // Fenced, yet written to: it takes writes all the same.
        let fencedWriters = regions.filter { $0.role == .fenced && $0.server?.writesWhileFenced != nil }
        observed += fencedWriters.compactMap { region in
            guard let since = region.server?.writesWhileFenced, let last = region.server?.factsObservedAt else {
                return nil
            }
            return (region.name, since, last)
        }
        let split = observed.filter { candidate in
            observed.contains { other in other.0 != candidate.0 && candidate.2 >= other.1 && other.2 >= candidate.1 }
        }
        if split.count >= 2 {
            let names = regions.map(\.name).filter { name in split.contains { $0.0 == name } }
            let since =
                previous.splitBrain.map { $0.regions == names ? $0.since : time } ?? split.map(\.1).max() ?? time
            let unobserved = Dictionary(
                uniqueKeysWithValues: quiet.filter { names.contains($0.name) }.compactMap { region in
                    region.server?.lastWritableAt.map { (region.name, $0) }
                })
            let written = Dictionary(
                uniqueKeysWithValues: fencedWriters.filter { names.contains($0.name) }.compactMap { region in
                    region.server?.writesWhileFenced.map { (region.name, $0) }
                })
            primary.splitBrain = SplitBrain(
                regions: names, since: since, unobserved: unobserved, writtenWhileFenced: written)
            if previous.splitBrain?.regions != names {
                addNotice(
                    Notice(at: time, severity: .critical, message: "SPLIT BRAIN: \(primary.splitBrain?.message ?? "")"))
            }
        } else {
            primary.splitBrain = nil
            if previous.splitBrain != nil {
                addNotice(
                    Notice(
                        at: time, severity: .info,
                        message:
                            "split brain over: \(primary.current.map { "only \($0) is seen accepting writes" } ?? "no region is seen accepting writes")"
                    ))
            }
        }
        if previous.current != primary.current, let current = primary.current, previous.current != nil {
            addNotice(
                Notice(
                    at: time, severity: .warning, region: current,
                    message: "primary is now \(current)\(previous.current.map { " (was \($0))" } ?? "")"))
        }
        return previous != primary
    }

    /// Each standby's own view of its link, derived from its server's facts: on the link from
    /// the server it follows now (as it says, else a sender that lists it, else the
    /// configuration's assumption), and on no other.
    private mutating func attachOwnViews() {
        for region in regions {
            guard let server = region.server, let facts = freshFacts(of: region), facts.role == .recovering,
                facts.walPosition != nil, let at = server.factsObservedAt
            else { continue }
            let follows = upstream(of: region.name)
            for index in inboundIndex[region.name] ?? [] where replicationLinks[index].from != follows {
                replicationLinks[index].views.removeAll { $0.source == server.source }
            }
            guard let follows, follows != region.name, regionIndex[follows] != nil else { continue }
            let view = ReplicationSample(
                from: follows, to: region.name, source: server.source, observedAt: at, lagSeconds: nil, lagBytes: nil,
                state: facts.replicationState,
                positions: StandbyPositions(flushed: facts.receivedPosition, replayed: facts.walPosition)
            )
            if let index = linkIndex[LinkKey(from: follows, to: region.name)] {
                replicationLinks[index].record(view)
            } else {
                linkIndex[LinkKey(from: follows, to: region.name)] = replicationLinks.count
                inboundIndex[region.name, default: []].append(replicationLinks.count)
                var link = ReplicationLinkState(from: follows, to: region.name)
                link.record(view)
                replicationLinks.append(link)
            }
        }
    }

    /// Re-derives every link's state and reading; removes links nobody observes that come from
    /// a server that is no longer the primary.
    private mutating func updateLinks(at time: Timestamp) {
        attachOwnViews()
        var ended: [(index: Int, reason: String)] = []
        let timing = topology.thresholds.hysteresis
        for index in replicationLinks.indices {
            var link = replicationLinks[index]
            let fresh = link.views.filter { isFresh($0) && isCredible($0, in: link) }
            if fresh.isEmpty, let why = endingReason(link) {
                ended.append((index, why))
                continue
            }
            let previous = link.reassessState(fresh: fresh, at: time, timing: timing)
            if previous != link.state, previous != .unknown || link.state == .broken {
                let severity: NoticeSeverity =
                    switch link.state {
                    case .broken: .critical
                    case .streaming: .info
                    default: .warning
                    }
                addNotice(
                    Notice(
                        at: time, severity: severity, region: link.to,
                        message: "replication \(link.from) → \(link.to): \(previous.rawValue) → \(link.state.rawValue)")
                )
            }
            link.update(reading: reading(for: link, fresh: fresh))
            replicationLinks[index] = link
        }
        guard !ended.isEmpty else { return }
        for (index, reason) in ended.reversed() {
            let link = replicationLinks.remove(at: index)
            addNotice(
                Notice(
                    at: time, severity: .info, region: link.to,
                    message: "replication \(link.from) → \(link.to) ended: nobody observes it and \(reason)"))
        }
        linkIndex = Dictionary(
            uniqueKeysWithValues: replicationLinks.enumerated().map { (LinkKey(from: $1.from, to: $1.to), $0) })
        inboundIndex = Dictionary(grouping: replicationLinks.indices) { replicationLinks[$0].to }
    }

    /// Why a link nobody observes ends, or `nil` while it is kept (it comes from the primary and
    /// the standby does not say it follows someone else).
    private func endingReason(_ link: ReplicationLinkState) -> String? {
        if !isPrimaryOrLastKnown(link.from) { return "\(link.from) is not the primary" }
        if let upstream = region(named: link.to).flatMap(freshFacts(of:))?.upstream, upstream != link.from {
            return "\(link.to) follows \(upstream)"
        }
        return nil
    }

    /// An absence claim ("expected standby not listed") counts only from the primary, and only
    /// while the standby does not say it follows someone else.
    private func isCredible(_ view: ReplicationSample, in link: ReplicationLinkState) -> Bool {
        guard view.isExpectationOnly else { return true }
        return isPrimaryOrLastKnown(link.from) && !followsSomeoneElse(link.to, than: link.from)
    }

    /// Whether `standby`'s own server says it follows a server other than `sender`.
    private func followsSomeoneElse(_ standby: String, than sender: String) -> Bool {
        guard let region = region(named: standby), let upstream = freshFacts(of: region)?.upstream else { return false }
        return upstream != sender
    }

    /// What is known of the standby's lag and bytes behind on `link`, recomputed every pass:
    /// from fresh positions (the standby's own view first), else a fresh measured lag, else the
    /// last positions seen (what still holds of them: see `unobservedLag`).
    private func reading(for link: ReplicationLinkState, fresh: [ReplicationSample]) -> ReplicationReading {
        guard let standby = region(named: link.to) else { return link.reading }
        let rootName = root(of: link)
        let root = rootName.flatMap { region(named: $0) }
        let rootFacts = root.flatMap(freshFacts(of:))
        let unknownAfter = unobservedSince(root)
        let own = standby.server?.source
        let positional = fresh.filter { $0.positions?.replayed != nil }
        if let chosen = positional.first(where: { $0.source == own })
            ?? positional.max(by: { $0.observedAt < $1.observedAt }),
            let replayed = chosen.positions?.replayed
        {
            let resolution = 1.5 * max(collectorInterval(root?.server?.source), collectorInterval(chosen.source))
            // With the primary not observed now, the known lag is as of its last observation;
            // what came after is the unknown window, reported apart.
            let knownAsOf = unknownAfter.map { min($0, chosen.observedAt) } ?? chosen.observedAt
            var time = root?.server.flatMap { server in
                ReplicationEvidence.lag(
                    replayed: replayed, observedAt: knownAsOf, history: server.history, resolution: resolution)
            }
            var senderEnd: WALPosition?
            if unknownAfter == nil, chosen.source == own, let facts = standby.server?.facts,
                standby.server?.factsObservedAt == chosen.observedAt
            {
                senderEnd = facts.receiver?.senderEnd
                if let timeline = facts.timeline, let rootTimeline = root?.timeline, timeline < rootTimeline {
                    // On an older timeline than its source: positions past the fork are not the
                    // source's, so only a lower bound holds.
                    time = time.map { LagEstimate(atLeast: $0.atLeast, atMost: nil, resolution: $0.resolution) }
                }
                let bounds = [
                    ReplicationEvidence.standbyBounds(
                        facts, observedAt: chosen.observedAt,
                        senderIsPrimary: link.from == rootName && rootFacts?.role != .recovering),
                    ReplicationEvidence.heartbeatBounds(
                        replayed: facts.heartbeat, written: rootFacts?.heartbeat, observedAt: chosen.observedAt),
                    root?.server.flatMap { server in
                        ReplicationEvidence.transactionBounds(
                            standbyNext: facts.nextTransaction, observedAt: chosen.observedAt, history: server.history)
                    },
                ]
                for bound in bounds.compactMap({ $0 }) {
                    time = time.map { $0.intersected(with: bound) } ?? bound
                }
            }
            let flushed = chosen.positions?.flushed
            // Only what the primary is known to have had by the standby's observation: comparing
            // positions read at different moments would count writes still in flight.
            let primaryPosition = [root?.server?.history.position(asOf: chosen.observedAt), senderEnd].compactMap { $0 }
                .max()
            return ReplicationReading(
                time: time,
                bytesNotReceived: primaryPosition.flatMap { position in flushed.map { position.bytes(after: $0) } },
                bytesNotReplayed: flushed.map { $0.bytes(after: replayed) },
                observedAt: chosen.observedAt,
                unknownAfter: unknownAfter,
                unobservedSource: rootName
            )
        }
        let reported = fresh.filter { !$0.isExpectationOnly && ($0.lagSeconds != nil || $0.lagBytes != nil) }
        if let worst = reported.max(by: { ($0.lagSeconds ?? -1) < ($1.lagSeconds ?? -1) }) {
            return ReplicationReading(
                time: worst.lagSeconds.map { LagEstimate.exact(max(0, $0)) },
                bytesBehind: worst.lagBytes.map { max(0, $0) },
                observedAt: worst.observedAt,
                unknownAfter: unknownAfter,
                unobservedSource: rootName
            )
        }
        if let last = link.views.filter({ $0.positions?.replayed != nil }).max(by: { $0.observedAt < $1.observedAt }),
            let replayed = last.positions?.replayed, let history = root?.server?.history
        {
            let time = unobservedLag(
                replayed: replayed, standby: standby, history: history,
                resolution: 1.5 * collectorInterval(root?.server?.source))
            return ReplicationReading(
                time: time, observedAt: now, unknownAfter: unknownAfter, unobservedSource: rootName)
        }
        return ReplicationReading(
            time: nil, observedAt: link.reading.observedAt, unknownAfter: unknownAfter, unobservedSource: rootName)
    }

    /// The lag now of a standby nobody observes, last seen replayed up to `replayed`. Its position
    /// can only have moved forward since, which lowers its lag: what it was then is an upper
    /// bound now. A standby whose server refuses connections is not running: it certainly lacks
    /// what the primary wrote after it was found down, which bounds the lag from below.
    private func unobservedLag(
        replayed: WALPosition, standby: RegionState, history: WALHistory, resolution: Double
    ) -> LagEstimate? {
        guard
            let then = ReplicationEvidence.lag(
                replayed: replayed, observedAt: now, history: history, resolution: resolution)
        else { return nil }
        var lower = 0.0
        if let server = standby.server, server.isRefusing, let downAt = server.refusingSince,
            let had = history.position(asOf: downAt) ?? history.oldest?.position,
            let lacking = ReplicationEvidence.lag(
                replayed: max(had, replayed), observedAt: now, history: history, resolution: resolution)
        {
            lower = lacking.atLeast
        }
        return LagEstimate(atLeast: lower, atMost: then.atMost, resolution: resolution)
    }
}
