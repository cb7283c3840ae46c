@testable import RegionWatchCore

/// A small model of PostgreSQL streaming replication, for tests: servers with log positions,
/// commits with their times, standbys that receive and replay, promotions that start a new
/// timeline, fences, crashes and partitions. It produces the events the postgres collectors
/// would publish (one collector per region, every second) and knows the truth independently:
/// the commit time of the oldest write each standby has not replayed.
struct ReplicationModel {
    struct Server {
        var name: String
        /// The process runs.
        var isUp = true
        /// Its collector can reach it (false: a partition between regionwatch and the server).
        var isObservable = true
        var role: ServerRole
        var timeline = 1
        /// Writable or fenced: the current position. Standby: the replayed position.
        var position: UInt64 = 1000
        /// Standby: received and flushed.
        var received: UInt64 = 1000
        var isPaused = false
        /// Standby: the region it follows.
        var upstream: String?
        /// Standby: its WAL receiver runs (false: disconnected on purpose or diverged).
        var isReceiving = true
        /// Promoted: the position its timeline forked at (a standby further on cannot follow).
        var forkPosition: UInt64?
        /// Writable or fenced: the next transaction id (advances with every write, not upkeep).
        var nextTransaction: UInt64 = 100
        /// Rows changed in its tables so far (every write changes some; ANALYZE none).
        var rowChanges: UInt64 = 0
        /// Fenced: its row changes when regionwatch first observed it fenced.
        var rowChangesWhenFirstSeenFenced: UInt64?

        /// Fenced, and rows written since regionwatch first saw it fenced.
        var isWrittenWhileFenced: Bool {
            guard role == .fenced, let before = rowChangesWhenFirstSeenFenced else { return false }
            return rowChanges > before
        }
    }

    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]

    static let topology: Topology = {
        var topology = Topology(
            name: "model", pattern: .activePassive,
            objectives: RecoveryObjectives(rpoSeconds: 10, rtoSeconds: 300),
            regions: [
                RegionConfiguration(name: "us-east-1", provider: "local", role: .primary, trafficPercent: 100),
                RegionConfiguration(name: "eu-west-1", provider: "local", role: .standby, trafficPercent: 0),
                RegionConfiguration(name: "ap-southeast-1", provider: "local", role: .standby, trafficPercent: 0),
            ]
        )
        topology.thresholds.hysteresis = HysteresisTiming(sustainSeconds: 2, recoverSeconds: 2)
        return topology
    }()

    private(set) var now = 0.0
    var servers: [String: Server]
    /// Every commit of each timeline (position, time, and the writer's next transaction id once
    /// it ended); a new timeline starts with its parent's commits up to the fork.
    private(set) var commits: [Int: [(position: UInt64, at: Double, next: UInt64)]] = [1: [(1000, -1, 100)]]
    /// The standbys the first primary's collector was configured to expect.
    let expectedStandbys = ["eu-west-1", "ap-southeast-1"]

    init() {
        servers = [
            "us-east-1": Server(name: "us-east-1", role: .writable),
            "eu-west-1": Server(name: "eu-west-1", role: .recovering, upstream: "us-east-1"),
            "ap-southeast-1": Server(name: "ap-southeast-1", role: .recovering, upstream: "us-east-1"),
        ]
    }

    static func at(_ seconds: Double) -> Timestamp { start.adding(seconds: seconds) }

    /// A state with the model's collectors announced.
    static func freshState() -> DashboardState {
        var state = DashboardState(topology: topology, now: start)
        for region in regions {
            state.apply(
                .collectorStatus(
                    CollectorReport(
                        collector: "pg-\(region)", kind: "postgres", observedAt: start, intervalSeconds: 1,
                        regions: [region])))
        }
        return state
    }

    // MARK: Operations

    /// Commits `bytes` on `server` (when it takes writes) at `fraction` into the coming second.
    mutating func write(_ bytes: UInt64, on server: String, fraction: Double = 0.5) {
        guard var writer = servers[server], writer.isUp, writer.role == .writable else { return }
        writer.position += bytes
        writer.nextTransaction += 1
        writer.rowChanges += 1
        commits[writer.timeline, default: []].append((writer.position, now + fraction, writer.nextTransaction))
        servers[server] = writer
    }

    /// A session that overrides a fence's read-only default and writes.
    mutating func writeDespiteFence(_ bytes: UInt64, on server: String) {
        guard var writer = servers[server], writer.isUp, writer.role == .fenced else { return }
        writer.position += bytes
        writer.nextTransaction += 1
        writer.rowChanges += 1
        commits[writer.timeline, default: []].append((writer.position, now + 0.5, writer.nextTransaction))
        servers[server] = writer
    }

    /// Autovacuum's ANALYZE: a transaction (its statistics replicate) that changes no table row,
    /// fenced or not.
    mutating func analyze(on server: String) {
        guard var writer = servers[server], writer.isUp, writer.role != .recovering else { return }
        writer.position += 200
        writer.nextTransaction += 1
        commits[writer.timeline, default: []].append((writer.position, now + 0.5, writer.nextTransaction))
        servers[server] = writer
    }

    /// Log written without a transaction (a checkpoint, vacuum): not a write a standby lags on.
    mutating func upkeep(_ bytes: UInt64, on server: String) {
        guard var writer = servers[server], writer.isUp, writer.role != .recovering else { return }
        writer.position += bytes
        servers[server] = writer
    }

    mutating func promote(_ name: String) {
        guard var server = servers[name], server.isUp, server.role == .recovering else { return }
        // Promotion replays everything received.
        server.position = server.received
        let timeline = (commits.keys.max() ?? 1) + 1
        commits[timeline] = (commits[server.timeline] ?? []).filter { $0.position <= server.received }
        server.role = .writable
        server.isPaused = false
        server.timeline = timeline
        // Its transaction ids go on from what it replayed.
        server.nextTransaction = replayedNextTransaction(server)
        server.forkPosition = server.position
        server.upstream = nil
        servers[name] = server
    }

    mutating func fence(_ name: String) {
        guard servers[name]?.role == .writable else { return }
        servers[name]?.role = .fenced
        servers[name]?.rowChangesWhenFirstSeenFenced = nil
    }

    mutating func repoint(_ name: String, to upstream: String) {
        guard servers[name]?.role == .recovering, name != upstream else { return }
        servers[name]?.upstream = upstream
        servers[name]?.isReceiving = true
    }

    /// Advances one second and returns what the collectors publish at the new time.
    mutating func step() -> [DashboardEvent] {
        now += 1
        stream()
        return observe()
    }

    // MARK: Truth

    /// The server at the root of `name`'s replication chain (not in recovery).
    func lineageRoot(of name: String) -> String? {
        var current = name
        var seen: Set<String> = [name]
        while let server = servers[current], server.role == .recovering {
            guard let next = server.upstream, seen.insert(next).inserted else { return nil }
            current = next
        }
        return current == name ? nil : current
    }

    /// How long ago (at the current time) the oldest write `standby` has not replayed was
    /// committed, in its lineage; 0 when it has them all.
    func trueLag(of standby: String) -> Double? {
        guard let server = servers[standby], server.role == .recovering, let root = lineageRoot(of: standby),
            let timeline = servers[root]?.timeline, let log = commits[timeline]
        else { return nil }
        guard let first = log.first(where: { $0.position > server.position }) else { return 0 }
        return now - first.at
    }

    // MARK: Internals

    /// Standbys receive what their upstream has (a diverged one cannot follow) and replay it.
    private mutating func stream() {
        for name in servers.keys.sorted() {
            guard var standby = servers[name], standby.isUp, standby.role == .recovering else { continue }
            if let upstreamName = standby.upstream, let upstream = servers[upstreamName], upstream.isUp,
                standby.isReceiving
            {
                let available = upstream.role == .recovering ? upstream.received : upstream.position
                if upstream.timeline != standby.timeline {
                    // A newer timeline can be followed only from before its fork.
                    if upstream.timeline > standby.timeline, let fork = upstream.forkPosition, standby.received <= fork
                    {
                        standby.timeline = upstream.timeline
                    } else {
                        standby.isReceiving = false
                    }
                }
                if standby.isReceiving { standby.received = max(standby.received, available) }
            }
            if !standby.isPaused { standby.position = standby.received }
            servers[name] = standby
        }
    }

    /// The next transaction id as of what `server` replayed, on its own timeline.
    private func replayedNextTransaction(_ server: Server) -> UInt64 {
        commits[server.timeline]?.last { $0.position <= server.position }?.next ?? 100
    }

    private func lastCommit(atOrBefore position: UInt64, lineage root: String?) -> Double? {
        guard let root, let timeline = servers[root]?.timeline, let log = commits[timeline] else { return nil }
        return log.last { $0.position <= position }?.at
    }

    private mutating func observe() -> [DashboardEvent] {
        let time = Self.at(now)
        var events: [DashboardEvent] = []
        for name in Self.regions {
            guard let server = servers[name] else { continue }
            let source = "pg-\(name)"
            guard server.isUp, server.isObservable else {
                events.append(
                    .probe(
                        ProbeResult(
                            region: name, source: source, observedAt: time, isSuccess: false, latencyMilliseconds: nil,
                            message: server.isUp ? "timed out" : "connection refused", isDefinitive: !server.isUp)))
                events.append(
                    .server(
                        ServerSample(
                            region: name, source: source, observedAt: time,
                            unreachable: server.isUp ? "timed out" : "connection refused", isRefused: !server.isUp)))
                continue
            }
            events.append(
                .probe(
                    ProbeResult(
                        region: name, source: source, observedAt: time, isSuccess: true, latencyMilliseconds: 1,
                        message: "ok")))
            switch server.role {
            case .writable, .fenced:
                events.append(
                    .server(
                        ServerSample(
                            region: name, source: source, observedAt: time,
                            facts: ServerFacts(
                                role: server.role, timeline: server.timeline,
                                walPosition: WALPosition(offset: server.position),
                                nextTransaction: server.nextTransaction,
                                tableRowChanges: server.role == .fenced ? server.rowChanges : nil
                            ))))
                if server.role == .fenced, server.rowChangesWhenFirstSeenFenced == nil {
                    servers[name]?.rowChangesWhenFirstSeenFenced = server.rowChanges
                }
                var listed: Set<String> = []
                for standby in servers.values.sorted(by: { $0.name < $1.name })
                where standby.isUp && standby.role == .recovering && standby.upstream == name && standby.isReceiving {
                    listed.insert(standby.name)
                    events.append(
                        .replication(
                            ReplicationSample(
                                from: name, to: standby.name, source: source, observedAt: time, lagSeconds: nil,
                                lagBytes: nil,
                                state: .streaming,
                                positions: StandbyPositions(
                                    flushed: WALPosition(offset: standby.received),
                                    replayed: WALPosition(offset: standby.position))
                            )))
                }
                if name == "us-east-1", server.role == .writable {
                    for missing in expectedStandbys where !listed.contains(missing) {
                        events.append(
                            .replication(
                                ReplicationSample(
                                    from: name, to: missing, source: source, observedAt: time, lagSeconds: nil,
                                    lagBytes: nil, state: .broken, isExpectationOnly: true)))
                    }
                }
            case .recovering:
                let root = lineageRoot(of: name)
                let upstream = server.upstream.flatMap { servers[$0] }
                let connected = server.isReceiving && (upstream?.isUp ?? false)
                let senderEnd: WALPosition? =
                    connected
                    ? upstream.map { WALPosition(offset: $0.role == .recovering ? $0.received : $0.position) } : nil
                let senderEndAt =
                    connected ? lastCommit(atOrBefore: senderEnd?.offset ?? 0, lineage: root).map(Self.at) : nil
                let facts = ServerFacts(
                    role: .recovering, timeline: server.timeline, walPosition: WALPosition(offset: server.position),
                    nextTransaction: replayedNextTransaction(server),
                    receivedPosition: WALPosition(offset: server.received), isReplayPaused: server.isPaused,
                    receiver: connected
                        ? WALReceiverFacts(
                            status: "streaming", upstream: server.upstream, senderEnd: senderEnd,
                            senderEndAt: senderEndAt, lastMessageAt: time) : nil,
                    configuredUpstream: server.upstream,
                    lastReplayedCommitAt: lastCommit(atOrBefore: server.position, lineage: root).map(Self.at)
                )
                events.append(.server(ServerSample(region: name, source: source, observedAt: time, facts: facts)))
                if let upstreamName = server.upstream {
                    events.append(
                        .replication(
                            ReplicationSample(
                                from: upstreamName, to: name, source: source, observedAt: time, lagSeconds: nil,
                                lagBytes: nil,
                                state: connected ? (server.isPaused ? .paused : .streaming) : .broken,
                                positions: StandbyPositions(
                                    flushed: WALPosition(offset: server.received),
                                    replayed: WALPosition(offset: server.position))
                            )))
                }
            }
        }
        return events
    }
}

/// SplitMix64: a seeded generator for reproducible random sequences.
struct SplitMix: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
