import RegionWatchCore
import Testing
@testable import RegionWatchCollectors

@Suite("PostgreSQL replication interpretation")
struct PostgresInterpretationTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let primaryMapping = PostgresTopologyMapping(region: "us", standbysByApplicationName: ["eu-app": "eu"], knownRegions: ["us", "eu", "ap"])
    static let standbyMapping = PostgresTopologyMapping(region: "eu", knownRegions: ["us", "eu", "ap"], upstream: "us")

    func replication(_ round: CollectionRound) -> [ReplicationSample] {
        round.events.compactMap { if case .replication(let sample) = $0 { sample } else { nil } }
    }

    func primaryRound(_ rows: [StandbyRow], history: WALPositionHistory = WALPositionHistory(), at now: Timestamp = t0) -> CollectionRound {
        PostgresReplicationInterpreter.events(for: .primary(PrimaryReading(timeline: 1, currentLSN: 5000, standbys: rows)), mapping: Self.primaryMapping, history: history, source: "pg-us", at: now, roundMilliseconds: 3)
    }

    @Test func idlePrimaryWithNullLagColumnsIsCaughtUpNotUnknown() {
        let round = primaryRound([StandbyRow(applicationName: "eu-app", clientAddress: "127.0.0.1", state: "streaming", replayLagSeconds: nil, replayBytesBehind: 0, replayLSN: 5000)])
        #expect(replication(round) == [ReplicationSample(from: "us", to: "eu", source: "pg-us", observedAt: Self.t0, lagSeconds: 0, lagBytes: 0, state: .streaming)])
        #expect(round.errors.isEmpty)
        #expect(round.events.contains(.regionSample(RegionSample(region: "us", source: "pg-us", observedAt: Self.t0, role: .primary))))
    }

    @Test func lagGrowsFromWALHistoryWhenReplayLagIsFrozenOrNull() {
        var history = WALPositionHistory()
        history.record(lsn: 1000, at: Self.t0)
        history.record(lsn: 2000, at: Self.t0.adding(seconds: 5))
        history.record(lsn: 3000, at: Self.t0.adding(seconds: 10))
        // Replay stopped at 1500: the first unreplayed write was seen at t0+5.
        let row = StandbyRow(applicationName: "eu-app", clientAddress: nil, state: "streaming", replayLagSeconds: 0.2, replayBytesBehind: 1500, replayLSN: 1500)
        let sample = replication(primaryRound([row], history: history, at: Self.t0.adding(seconds: 30))).first
        #expect(sample?.lagSeconds == 25)
        #expect(sample?.lagBytes == 1500)
        // A larger reported replay_lag wins.
        var slow = row
        slow.replayLagSeconds = 40
        #expect(replication(primaryRound([slow], history: history, at: Self.t0.adding(seconds: 30))).first?.lagSeconds == 40)
    }

    @Test func applicationNameEqualToARegionMapsAndUnknownStandbysAreReported() {
        let round = primaryRound([
            StandbyRow(applicationName: "ap", clientAddress: "10.0.0.9", state: "catchup", replayLagSeconds: 3, replayBytesBehind: 10, replayLSN: 4990),
            StandbyRow(applicationName: "walreceiver", clientAddress: "10.0.0.7", state: "streaming", replayLagSeconds: nil, replayBytesBehind: 0, replayLSN: 5000),
        ])
        let samples = replication(round)
        #expect(samples.map(\.to) == ["ap", "eu"])
        #expect(samples[0].state == .catchingUp)
        #expect(samples[1].state == .broken, "eu-app is expected but not connected")
        #expect(round.errors == [
            "standby 'walreceiver' from 10.0.0.7 is not mapped to a region (set standbys: or hosts:)",
            "standby eu is not connected (no row in pg_stat_replication)",
        ])
    }

    @Test func standbyCaughtUpOnAnIdlePrimaryIsNotLagging() {
        // now() - pg_last_xact_replay_timestamp() is 600 s only because nothing was written.
        let reading = StandbyReading(timeline: 1, isReplayPaused: false, receivedNotReplayedBytes: 0, secondsSinceLastReplayedTransaction: 600, receiverStatus: "streaming")
        let round = PostgresReplicationInterpreter.events(for: .standby(reading), mapping: Self.standbyMapping, history: WALPositionHistory(), source: "pg-eu", at: Self.t0, roundMilliseconds: 2)
        #expect(replication(round) == [ReplicationSample(from: "us", to: "eu", source: "pg-eu", observedAt: Self.t0, lagSeconds: 0, lagBytes: 0, state: .streaming)])
    }

    @Test func pausedStandbyWithUnreplayedWALShowsPausedAndGrowingLag() {
        let reading = StandbyReading(timeline: 1, isReplayPaused: true, receivedNotReplayedBytes: 8192, secondsSinceLastReplayedTransaction: 42, receiverStatus: "streaming")
        let round = PostgresReplicationInterpreter.events(for: .standby(reading), mapping: Self.standbyMapping, history: WALPositionHistory(), source: "pg-eu", at: Self.t0, roundMilliseconds: 2)
        #expect(replication(round).first == ReplicationSample(from: "us", to: "eu", source: "pg-eu", observedAt: Self.t0, lagSeconds: 42, lagBytes: 8192, state: .paused))
    }

    @Test func standbyWithoutAWALReceiverIsDisconnectedNotHealthy() {
        let reading = StandbyReading(timeline: 1, isReplayPaused: false, receivedNotReplayedBytes: 0, secondsSinceLastReplayedTransaction: 5, receiverStatus: nil)
        let round = PostgresReplicationInterpreter.events(for: .standby(reading), mapping: Self.standbyMapping, history: WALPositionHistory(), source: "pg-eu", at: Self.t0, roundMilliseconds: 2)
        #expect(replication(round).first?.state == .broken)
        #expect(replication(round).first?.lagSeconds == nil)
        #expect(round.errors == ["WAL receiver is not running: disconnected from us"])
    }

    @Test func unreachablePrimaryBreaksItsLinksAndRefusalIsDefinitive() {
        let events = PostgresReplicationInterpreter.unreachableEvents(mapping: Self.primaryMapping, source: "pg-us", at: Self.t0, message: "connection refused", isRefused: true)
        #expect(events == [
            .probe(ProbeResult(region: "us", source: "pg-us", observedAt: Self.t0, isSuccess: false, latencyMilliseconds: nil, message: "PostgreSQL: connection refused", isDefinitive: true)),
            .replication(ReplicationSample(from: "us", to: "eu", source: "pg-us", observedAt: Self.t0, lagSeconds: nil, lagBytes: nil, state: .broken)),
        ])
    }

    @Test func historyBeforeItsOldestPointIsALowerBound() {
        var history = WALPositionHistory()
        history.record(lsn: 100, at: Self.t0)
        history.record(lsn: 100, at: Self.t0.adding(seconds: 1))
        #expect(history.secondsBehind(replayed: 100, now: Self.t0.adding(seconds: 9)) == 0)
        #expect(history.secondsBehind(replayed: 50, now: Self.t0.adding(seconds: 9)) == 9)
    }

    @Test func dsnForms() throws {
        let url = try PostgresDSN(parsing: "postgres://mon%40itor:p%2Fss@db.internal:6432/app?sslmode=disable")
        #expect(url == PostgresDSN(host: "db.internal", port: 6432, user: "mon@itor", password: "p/ss", database: "app", tlsMode: .disable))
        #expect(url.displayAddress == "db.internal:6432/app")
        let keywords = try PostgresDSN(parsing: "host=127.0.0.1 port=5433 user=postgres password='x y' dbname=postgres sslmode=require")
        #expect(keywords.host == "127.0.0.1")
        #expect(keywords.port == 5433)
        #expect(keywords.tlsMode == .require)
        #expect(try PostgresDSN(parsing: "postgresql://u@[::1]/d").host == "::1")
        for (bad, message) in [
            ("mysql://x", "expected postgres://user:password@host:port/database or key=value pairs"),
            ("postgres://u:secret@host:0/db", "port '0' is not 1–65535"),
            ("postgres://:secret@host/db", "no user"),
            ("host=h user=u sslmode=maybe", "sslmode 'maybe' is not one of disable, prefer, require, verify-ca, verify-full"),
            ("host=h user=u colour=blue", "unknown parameter 'colour'"),
        ] {
            #expect(throws: PostgresDSNError(message)) { try PostgresDSN(parsing: bad) }
        }
    }
}

extension PostgresInterpretationTests {
    @Test func keywordDSNQuotes() throws {
        #expect(try PostgresDSN(parsing: "host=h user=u password='it\\'s a secret'").password == "it's a secret")
        #expect(throws: PostgresDSNError("the value of 'password' is not closed with '")) { try PostgresDSN(parsing: "host=h user=u password='open") }
    }
}

extension PostgresInterpretationTests {
    @Test func probeMessageNamesRoleTimelineAndReceiver() {
        #expect(PostgresReplicationInterpreter.describe(.primary(PrimaryReading(timeline: 3, currentLSN: 1, standbys: []))) == "PostgreSQL primary, timeline 3, 0 standbys connected")
        let standby = StandbyReading(timeline: 2, isReplayPaused: true, receivedNotReplayedBytes: 0, secondsSinceLastReplayedTransaction: nil, receiverStatus: "streaming", senderHost: "127.0.0.1", receiveLSN: "0/3000148", replayLSN: "0/3000060")
        #expect(PostgresReplicationInterpreter.describe(.standby(standby)) == "PostgreSQL standby, timeline 2, receiver streaming from 127.0.0.1, replay PAUSED, received 0/3000148, replayed 0/3000060")
    }
}

extension PostgresInterpretationTests {
    @Test func aFencedPrimarySaysSo() {
        #expect(PostgresReplicationInterpreter.describe(.primary(PrimaryReading(timeline: 1, currentLSN: 1, standbys: [], isFenced: true))) == "PostgreSQL primary FENCED (default_transaction_read_only), timeline 1, 0 standbys connected")
    }
}
