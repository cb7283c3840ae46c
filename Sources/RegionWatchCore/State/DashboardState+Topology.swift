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
            var link = ReplicationLinkState(from: sample.from, to: sample.to)
            link.record(sample)
            replicationLinks.append(link)
        }
        if let position = regionIndex[sample.to] {
            regions[position].noteObservation(at: sample.observedAt, source: sample.source)
        }
        requestReassessment(PendingReassessment(cause: sample.observedAt, regions: [sample.from, sample.to], topology: true))
    }

    // MARK: Reading

    /// The region `standby` replicates from: what its own server says (its connected sender,
    /// else its settings), else the sender that lists it most recently. `nil` when unknown.
    public func upstream(of standby: String) -> String? {
        guard let region = region(named: standby) else { return nil }
        if let facts = freshFacts(of: region), facts.role == .recovering, let upstream = facts.upstream, upstream != standby {
            return upstream
        }
        let own = region.server?.source
        var best: (from: String, at: Timestamp)?
        for link in replicationLinks where link.to == standby {
            for view in link.views where view.source != own && !view.isExpectationOnly && isFresh(view) {
                if best.map({ view.observedAt > $0.at }) ?? true { best = (link.from, view.observedAt) }
            }
        }
        return best?.from
    }

    /// The server at the root of `standby`'s replication chain: following upstreams through
    /// cascading standbys to the first server that is not a standby. `nil` when unknown.
    public func writeSource(of standby: String) -> String? {
        var current = standby
        var seen: Set<String> = [standby]
        while let next = upstream(of: current) {
            guard seen.insert(next).inserted, let region = region(named: next) else { return nil }
            if region.role != .standby { return next }
            current = next
        }
        return nil
    }

    /// The data a promotion of `target` would lose now: what it had not received at the last
    /// observation of the primary, and (when the primary is not observed now) the window since.
    public func dataLoss(promoting target: String) -> DataLossEstimate {
        guard let region = region(named: target), region.role == .standby || region.role == .unknown,
              let index = upstreamLinkIndex(of: target) else { return .unknown }
        let link = replicationLinks[index]
        let from = primary.current ?? primary.lastKnown
        let root = self.region(named: link.from)?.role == .standby ? writeSource(of: link.from) : link.from
        guard let from, root == from else { return .unknown }
        let rootRegion = self.region(named: from)
        let unknownAfter = link.reading.unknownAfter
        // What the standby has for certain: the furthest flushed position any source saw.
        let flushedPositions = link.views.compactMap { $0.positions?.flushed }
        guard let flushed = flushedPositions.max() else {
            // A source that measures lag itself (metrics, the simulator): its figure.
            return DataLossEstimate(known: link.reading.time, knownBytes: link.reading.bytesBehind, unknownAfter: unknownAfter)
        }
        guard let server = rootRegion?.server, let newest = server.history.newest else {
            // Positions, but the primary never observed: nothing is known of what it wrote.
            return DataLossEstimate(known: nil, knownBytes: nil, unknownAfter: rootRegion?.server?.failedAt)
        }
        let resolution = 1.5 * collectorInterval(server.source)
        let known = ReplicationEvidence.lag(replayed: flushed, observedAt: newest.lastSeen, history: server.history, resolution: resolution)
        var primaryPosition = newest.position
        if let end = freshFacts(of: region)?.receiver?.senderEnd, end > primaryPosition { primaryPosition = end }
        return DataLossEstimate(known: known, knownBytes: primaryPosition.bytes(after: flushed), unknownAfter: unknownAfter)
    }

    /// Facts of the region's server when its latest round reached it and is fresh.
    func freshFacts(of region: RegionState) -> ServerFacts? {
        guard let server = region.server, server.isReachable, let at = server.factsObservedAt,
              now.seconds(since: at) <= staleAfter(source: server.source) else { return nil }
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
        if let upstream = upstream(of: region), let index = linkIndex[LinkKey(from: upstream, to: region)] { return index }
        if let primary = primary.current ?? primary.lastKnown, let index = linkIndex[LinkKey(from: primary, to: region)] { return index }
        return replicationLinks.indices.filter { replicationLinks[$0].to == region }
            .max { (replicationLinks[$0].observedAt?.secondsSinceEpoch ?? 0) < (replicationLinks[$1].observedAt?.secondsSinceEpoch ?? 0) }
    }

    // MARK: Reassessing

    /// Re-derives roles, the primary, links and the health of `affected` regions (all of them
    /// when roles or the primary changed, or at a tick).
    mutating func reassessTopology(cause: Timestamp? = nil, affected: Set<String>? = nil) {
        let time = max(now, cause ?? now)
        let rolesChanged = updateRoles(at: time)
        let primaryChanged = updatePrimary(at: time)
        updateLinks(at: time)
        let everyone = affected == nil || rolesChanged || primaryChanged
        for index in regions.indices where everyone || affected?.contains(regions[index].name) == true || isDownstream(regions[index], of: affected) {
            reassess(regionAt: index, at: time)
        }
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
                regions[index].lastKnownRole = previous == .unknown ? regions[index].lastKnownRole : previous
            } else {
                regions[index].lastKnownRole = nil
            }
            let name = regions[index].name
            let message = role == .unknown
                ? "\(name) role unknown: its server cannot be observed (was \(previous.rawValue))"
                : "\(name) role: \(previous.rawValue) → \(role.rawValue)"
            recentNotices.append(Notice(at: time, severity: role == .unknown || role == .fenced ? .warning : .info, region: name, message: message))
        }
        return changed
    }

    private func derivedRole(of region: RegionState) -> RegionRole {
        guard let server = region.server else { return region.role == .unknown ? region.configuration.role : region.role }
        guard let facts = freshFacts(of: region) else { return server.facts == nil && server.failedAt == nil ? region.role : .unknown }
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
            return (lhs.server?.writableSince?.secondsSinceEpoch ?? -.infinity) < (rhs.server?.writableSince?.secondsSinceEpoch ?? -.infinity)
        }
        primary.current = ordered.first?.name
        if let current = primary.current {
            primary.lastKnown = current
        } else if primary.lastKnown == nil {
            primary.lastKnown = regions.first { $0.lastKnownRole == .primary }?.name ?? topology.primaryRegion?.name
        }
        // Split brain: two servers each seen accepting writes after the other started to.
        let observed = writable.compactMap { region -> (String, Timestamp, Timestamp)? in
            guard let since = region.server?.writableSince, let last = region.server?.lastWritableAt else { return nil }
            return (region.name, since, last)
        }
        let split = observed.filter { candidate in
            observed.contains { other in other.0 != candidate.0 && candidate.2 >= other.1 && other.2 >= candidate.1 }
        }
        if split.count >= 2 {
            let names = split.map(\.0)
            let since = previous.splitBrain.map { $0.regions == names ? $0.since : time } ?? split.map(\.1).max() ?? time
            primary.splitBrain = SplitBrain(regions: names, since: since)
            if previous.splitBrain?.regions != names {
                recentNotices.append(Notice(at: time, severity: .critical, message: "SPLIT BRAIN: \(primary.splitBrain?.message ?? "")"))
            }
        } else {
            primary.splitBrain = nil
            if previous.splitBrain != nil {
                recentNotices.append(Notice(at: time, severity: .info, message: "split brain over: \(primary.current.map { "only \($0) accepts writes" } ?? "no region accepts writes")"))
            }
        }
        if previous.current != primary.current, let current = primary.current, previous.current != nil {
            recentNotices.append(Notice(at: time, severity: .warning, region: current, message: "primary is now \(current)\(previous.current.map { " (was \($0))" } ?? "")"))
        }
        return previous != primary
    }

    /// Re-derives every link's state and reading; removes links nobody observes that come from
    /// a server that is no longer the primary.
    private mutating func updateLinks(at time: Timestamp) {
        var ended: [Int] = []
        let timing = topology.thresholds.hysteresis
        for index in replicationLinks.indices {
            var link = replicationLinks[index]
            let fresh = link.views.filter { isFresh($0) && isCredible($0, in: link) }
            if fresh.isEmpty, !isPrimaryOrLastKnown(link.from) || followsSomeoneElse(link.to, than: link.from) {
                ended.append(index)
                continue
            }
            let previous = link.reassessState(fresh: fresh, at: time, timing: timing)
            if previous != link.state, previous != .unknown || link.state == .broken {
                let severity: NoticeSeverity = switch link.state {
                case .broken: .critical
                case .streaming: .info
                default: .warning
                }
                recentNotices.append(Notice(at: time, severity: severity, region: link.to, message: "replication \(link.from) → \(link.to): \(previous.rawValue) → \(link.state.rawValue)"))
            }
            if !fresh.isEmpty { link.update(reading: reading(for: link, fresh: fresh)) }
            replicationLinks[index] = link
        }
        guard !ended.isEmpty else { return }
        for index in ended.reversed() {
            let link = replicationLinks.remove(at: index)
            recentNotices.append(Notice(at: time, severity: .info, region: link.to, message: "replication \(link.from) → \(link.to) ended: nobody observes it and \(link.from) is not the primary"))
        }
        linkIndex = Dictionary(uniqueKeysWithValues: replicationLinks.enumerated().map { (LinkKey(from: $1.from, to: $1.to), $0) })
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

    /// The view whose positions decide a link's reading: the standby's own when it has one,
    /// else the sender's freshest.
    private func bestPositions(for link: ReplicationLinkState, standby: RegionState) -> ReplicationSample? {
        let positional = link.views.filter { $0.positions?.replayed != nil && isFresh($0) }
        let own = standby.server?.source
        return positional.first { $0.source == own } ?? positional.max { $0.observedAt < $1.observedAt }
            ?? link.views.filter { $0.positions?.replayed != nil }.max { $0.observedAt < $1.observedAt }
    }

    /// What is known of the standby's lag and bytes behind on `link`.
    private func reading(for link: ReplicationLinkState, fresh: [ReplicationSample]) -> ReplicationReading {
        guard let standby = region(named: link.to) else { return link.reading }
        let rootName = region(named: link.from)?.role == .standby ? writeSource(of: link.from) : link.from
        let root = rootName.flatMap { region(named: $0) }
        let rootFacts = root.flatMap(freshFacts(of:))
        let unknownAfter: Timestamp? = root.flatMap { root in
            guard let server = root.server, rootFacts == nil else { return nil }
            return server.factsObservedAt ?? server.failedAt
        }
        if let chosen = bestPositions(for: link, standby: standby), let replayed = chosen.positions?.replayed {
            let isCurrent = isFresh(chosen)
            let observedAt = isCurrent ? chosen.observedAt : now
            let resolution = 1.5 * max(collectorInterval(root?.server?.source), collectorInterval(chosen.source))
            var time = root?.server.flatMap { server in
                ReplicationEvidence.lag(replayed: replayed, observedAt: observedAt, history: server.history, resolution: resolution)
            }
            if !isCurrent {
                // Nobody sees the standby now: its position can only have moved forward, so
                // only the lower end still holds.
                time = time.map { LagEstimate(atLeast: $0.atLeast, atMost: nil, resolution: $0.resolution) }
            }
            var senderEnd: WALPosition?
            if isCurrent, chosen.source == standby.server?.source, let facts = standby.server?.facts, standby.server?.factsObservedAt == chosen.observedAt {
                senderEnd = facts.receiver?.senderEnd
                let bounds = [
                    ReplicationEvidence.standbyBounds(facts, observedAt: observedAt, senderIsPrimary: rootName == link.from),
                    ReplicationEvidence.heartbeatBounds(replayed: facts.heartbeat, written: rootFacts?.heartbeat, observedAt: observedAt),
                ]
                for bound in bounds.compactMap({ $0 }) {
                    time = time.map { $0.intersected(with: bound) } ?? bound
                }
            }
            let flushed = chosen.positions?.flushed
            // Only what the primary is known to have had by the standby's observation: comparing
            // positions read at different moments would count writes still in flight.
            let primaryPosition = [root?.server?.history.position(asOf: chosen.observedAt), senderEnd].compactMap { $0 }.max()
            return ReplicationReading(
                time: time,
                bytesNotReceived: primaryPosition.flatMap { position in flushed.map { position.bytes(after: $0) } },
                bytesNotReplayed: flushed.map { $0.bytes(after: replayed) },
                observedAt: chosen.observedAt,
                unknownAfter: unknownAfter
            )
        }
        let reported = fresh.filter { !$0.isExpectationOnly && ($0.lagSeconds != nil || $0.lagBytes != nil) }
        if let worst = reported.max(by: { ($0.lagSeconds ?? -1) < ($1.lagSeconds ?? -1) }) {
            return ReplicationReading(
                time: worst.lagSeconds.map { LagEstimate.exact(max(0, $0)) },
                bytesBehind: worst.lagBytes.map { max(0, $0) },
                observedAt: worst.observedAt,
                unknownAfter: unknownAfter
            )
        }
        var kept = link.reading
        kept.unknownAfter = unknownAfter
        return kept
    }
}
