import RegionWatchCore
import Testing
@testable import RegionWatchCollectors

@Suite("PostgreSQL replication interpretation")
struct PostgresInterpretationTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let primaryMapping = PostgresTopologyMapping(
        region: "us", standbysByApplicationName: ["eu-app": "eu"], knownRegions: ["us", "eu", "ap"])
    static let standbyMapping = PostgresTopologyMapping(region: "eu", knownRegions: ["us", "eu", "ap"], upstream: "us")

    func replication(_ round: CollectionRound) -> [ReplicationSample] {
        round.events.compactMap { if case .replication(let sample) = $0 { sample } else { nil } }
    }

    func servers(_ round: CollectionRound) -> [ServerSample] {
        round.events.compactMap { if case .server(let sample) = $0 { sample } else { nil } }
    }

    static func position(_ text: String) -> WALPosition { WALPosition(text: text)! }

    func primaryRound(_ rows: [StandbyRow], isFenced: Bool = false, at now: Timestamp = t0) -> CollectionRound {
        PostgresReplicationInterpreter.events(
            for: .primary(
                PrimaryReading(
                    timeline: 1, version: "15.18", currentLSN: Self.position("0/5000"), readWindow: 0.001...0.003,
                    standbys: rows, isFenced: isFenced)), mapping: Self.primaryMapping, source: "pg-us", at: now,
            roundMilliseconds: 3)
    }

    @Test func aPrimaryReportsItselfWritableWithItsPositionAndTheStandbysItLists() {
        let round = primaryRound([
            StandbyRow(
                applicationName: "eu-app", clientAddress: "127.0.0.1", state: "streaming",
                flushLSN: Self.position("0/5000"), replayLSN: Self.position("0/4F00"))
        ])
        let server = servers(round).first
        #expect(server?.facts?.role == .writable)
        #expect(server?.facts?.walPosition == Self.position("0/5000"))
        #expect(
            server?.facts?.walPositionReadBetween == Self.t0.adding(seconds: 0.001)...Self.t0.adding(seconds: 0.003))
        #expect(server?.facts?.version == "15.18")
        #expect(
            replication(round) == [
                ReplicationSample(
                    from: "us", to: "eu", source: "pg-us", observedAt: Self.t0, lagSeconds: nil, lagBytes: nil,
                    state: .streaming,
                    positions: StandbyPositions(flushed: Self.position("0/5000"), replayed: Self.position("0/4F00"))
                )
            ])
        #expect(round.errors.isEmpty)
    }

    @Test func applicationNameEqualToARegionMapsAndUnknownStandbysAreReported() {
        let round = primaryRound([
            StandbyRow(
                applicationName: "ap", clientAddress: "10.0.0.9", state: "catchup", flushLSN: nil, replayLSN: nil),
            StandbyRow(
                applicationName: "walreceiver", clientAddress: "10.0.0.7", state: "streaming", flushLSN: nil,
                replayLSN: nil),
        ])
        let samples = replication(round)
        #expect(samples.map(\.to) == ["ap", "eu"])
        #expect(samples[0].state == .catchingUp)
        #expect(
            samples[1].state == .broken && samples[1].isExpectationOnly,
            "eu-app is expected but not listed: a claim about an absence")
        // An unmapped standby is a configuration problem of this collector; an absent one is an
        // observation (it may cascade from another standby), not a failed round.
        #expect(
            round.errors == ["standby 'walreceiver' from 10.0.0.7 is not mapped to a region (set standbys: or hosts:)"])
    }

    @Test func aFencedFormerPrimaryClaimsNoMissingStandbys() {
        let round = primaryRound([], isFenced: true)
        #expect(servers(round).first?.facts?.role == .fenced)
        #expect(
            replication(round).isEmpty,
            "after a switchover the fenced server's standbys follow the new primary: not news")
        #expect(round.errors.isEmpty)
    }

    @Test func aStandbyNamesWhatItFollowsFromItsSenderAddress() {
        var mapping = Self.standbyMapping
        mapping.regionsByAddress = ["127.0.0.1:5432": "us", "127.0.0.1:5434": "ap"]
        let reading = StandbyReading(
            timeline: 2, version: "15.18", isReplayPaused: true, receiveLSN: Self.position("0/9000"),
            replayLSN: Self.position("0/8000"),
            lastReplayedCommitAgeSeconds: 42, receiverStatus: "streaming", senderHost: "127.0.0.1", senderPort: 5434,
            senderEndLSN: Self.position("0/9000"), senderEndAgeSeconds: 3, configuredSenderHost: "127.0.0.1",
            configuredSenderPort: 5434
        )
        let round = PostgresReplicationInterpreter.events(
            for: .standby(reading), mapping: mapping, source: "pg-eu", at: Self.t0, roundMilliseconds: 2)
        let facts = servers(round).first?.facts
        #expect(facts?.role == .recovering)
        #expect(
            facts?.receiver?.upstream == "ap",
            "the sender at 127.0.0.1:5434 is ap's server, whatever the configuration said")
        #expect(facts?.upstream == "ap")
        #expect(facts?.lastReplayedCommitAt == Self.t0.adding(seconds: -42))
        #expect(facts?.receiver?.senderEndAt == Self.t0.adding(seconds: -3))
        #expect(facts?.replicationState == .paused)
        #expect(facts?.receivedPosition == Self.position("0/9000") && facts?.walPosition == Self.position("0/8000"))
        #expect(
            replication(round).isEmpty,
            "the dashboard derives the standby's link from its facts; the age of the last replayed commit is never reported as lag"
        )
    }

    @Test func aDisconnectedStandbyFollowsWhatItsSettingsName() {
        var mapping = Self.standbyMapping
        mapping.regionsByAddress = ["db-us:5432": "us", "db-ap:6432": "ap"]
        let reading = StandbyReading(
            timeline: 1, isReplayPaused: false, receiveLSN: Self.position("0/10"), replayLSN: Self.position("0/10"),
            receiverStatus: nil, configuredSenderHost: "db-ap", configuredSenderPort: 6432)
        let round = PostgresReplicationInterpreter.events(
            for: .standby(reading), mapping: mapping, source: "pg-eu", at: Self.t0, roundMilliseconds: 2)
        #expect(servers(round).first?.facts?.upstream == "ap")
        #expect(servers(round).first?.facts?.replicationState == .broken)
        #expect(round.errors == ["WAL receiver is not running: disconnected from ap"])
        // Settings that cannot be matched: the configuration's assumption, kept apart.
        var unmatched = reading
        unmatched.configuredSenderHost = "10.9.9.9"
        let assumed = PostgresReplicationInterpreter.events(
            for: .standby(unmatched), mapping: mapping, source: "pg-eu", at: Self.t0, roundMilliseconds: 2)
        #expect(servers(assumed).first?.facts?.upstream == nil)
        #expect(servers(assumed).first?.facts?.assumedUpstream == "us")
        #expect(assumed.errors == ["WAL receiver is not running: disconnected from us"])
    }

    @Test func unreachableServerSaysSoAndClaimsNothingAboutItsLinks() {
        let events = PostgresReplicationInterpreter.unreachableEvents(
            mapping: Self.primaryMapping, source: "pg-us", at: Self.t0, message: "connection refused", isRefused: true)
        #expect(
            events == [
                .probe(
                    ProbeResult(
                        region: "us", source: "pg-us", observedAt: Self.t0, isSuccess: false, latencyMilliseconds: nil,
                        message: "PostgreSQL: connection refused", isDefinitive: true)),
                .server(
                    ServerSample(
                        region: "us", source: "pg-us", observedAt: Self.t0, unreachable: "connection refused",
                        isRefused: true)),
            ])
    }

    @Test func connectionStringsNameHostAndPort() {
        typealias I = PostgresReplicationInterpreter
        #expect(
            I.hostAndPort(
                inConnectionString:
                    "user=postgres passfile='/var/lib/postgresql/.pgpass' host=10.0.0.5 port=5433 application_name=eu")
                == ("10.0.0.5", 5433))
        #expect(I.hostAndPort(inConnectionString: "host='db primary' sslmode=prefer") == ("db primary", nil))
        #expect(I.hostAndPort(inConnectionString: "hostaddr=10.1.1.1 port=6000") == ("10.1.1.1", 6000))
        #expect(I.hostAndPort(inConnectionString: "postgres://rep:secret@db-us:5432/postgres") == ("db-us", 5432))
        #expect(I.hostAndPort(inConnectionString: "") == (nil, nil))
        #expect(I.hostAndPort(inConnectionString: "garbage without equals") == (nil, nil))
        #expect(I.hostAndPort(inConnectionString: "host='unterminated") == ("unterminated", nil))
    }

    @Test func sendersResolveByAddressThenHost() {
        let mapping = PostgresTopologyMapping(
            region: "eu", standbysByHost: ["10.0.0.9": "ap"],
            regionsByAddress: [
                "10.0.0.5:5432": "us", "10.0.0.6:5432": "ap", "10.0.0.6:5433": "sa", "127.0.0.1:5433": "eu",
            ])
        #expect(mapping.region(host: "10.0.0.5", port: nil) == "us", "the default port")
        #expect(mapping.region(host: "10.0.0.6", port: 5433) == "sa")
        #expect(mapping.region(host: "10.0.0.9", port: 7000) == "ap", "client address mapping")
        #expect(mapping.region(host: "10.0.0.6", port: 9999) == nil, "no server configured at that port")
        #expect(mapping.region(host: "127.0.0.1", port: 5433) == nil, "never its own region")
        #expect(
            mapping.region(host: "127.0.0.1", port: 5432) == nil,
            "an unconfigured server on the same host is not this one")
        #expect(mapping.region(host: nil, port: 5432) == nil)
    }

    @Test func dsnForms() throws {
        let url = try PostgresDSN(parsing: "postgres://mon%40itor:p%2Fss@db.internal:6432/app?sslmode=disable")
        #expect(
            url
                == PostgresDSN(
                    host: "db.internal", port: 6432, user: "mon@itor", password: "p/ss", database: "app",
                    tlsMode: .disable))
        #expect(url.displayAddress == "db.internal:6432/app")
        let keywords = try PostgresDSN(
            parsing: "host=127.0.0.1 port=5433 user=postgres password='x y' dbname=postgres sslmode=require")
        #expect(keywords.host == "127.0.0.1")
        #expect(keywords.port == 5433)
        #expect(keywords.tlsMode == .require)
        #expect(try PostgresDSN(parsing: "postgresql://u@[::1]/d").host == "::1")
        for (bad, message) in [
            ("mysql://x", "expected postgres://user:password@host:port/database or key=value pairs"),
            (
                "postgres://u:secret@host:0/db",
                "the port is not a number 1–65535 (a password with / or @ must be percent-encoded)"
            ),
            ("postgres://:secret@host/db", "no user"),
            ("host=h user=u sslmode=maybe", "sslmode is not one of disable, prefer, require, verify-ca, verify-full"),
            (
                "host=h user=u colour=blue",
                "an unknown parameter (known: host, port, user, password, dbname, sslmode, application_name, connect_timeout)"
            ),
        ] {
            #expect(throws: PostgresDSNError(message)) { try PostgresDSN(parsing: bad) }
        }
        // No message repeats any part of the text: a DSN holds a password.
        for bad in ["postgres://u:pa/ss@db/x", "host=h user=u password=hunter2 x", "host=h user=u sslmode=hunter2"] {
            do {
                _ = try PostgresDSN(parsing: bad)
            } catch {
                #expect(!error.description.contains("pa/ss") && !error.description.contains("'pa'"), "\(error)")
                #expect(!error.description.contains("hunter2"), "\(error)")
            }
        }
    }
}

extension PostgresInterpretationTests {
    @Test func keywordDSNQuotes() throws {
        #expect(try PostgresDSN(parsing: "host=h user=u password='it\\'s a secret'").password == "it's a secret")
        #expect(throws: PostgresDSNError("the value of 'password' is not closed with '")) {
            try PostgresDSN(parsing: "host=h user=u password='open")
        }
    }
}

extension PostgresInterpretationTests {
    @Test func probeMessageNamesRoleTimelineAndReceiver() {
        #expect(
            PostgresReplicationInterpreter.describe(
                .primary(PrimaryReading(timeline: 3, version: "15.18", currentLSN: Self.position("0/1"), standbys: [])))
                == "PostgreSQL 15.18 primary, timeline 3, at 0/1, 0 standbys connected")
        let standby = StandbyReading(
            timeline: 2, isReplayPaused: true, receiveLSN: Self.position("0/3000148"),
            replayLSN: Self.position("0/3000060"), receiverStatus: "streaming", senderHost: "127.0.0.1",
            senderPort: 5432)
        #expect(
            PostgresReplicationInterpreter.describe(.standby(standby))
                == "PostgreSQL standby, timeline 2, receiver streaming from 127.0.0.1:5432, replay PAUSED, received 0/3000148, replayed 0/3000060"
        )
    }
}

extension PostgresInterpretationTests {
    @Test func aFencedPrimarySaysSo() {
        #expect(
            PostgresReplicationInterpreter.describe(
                .primary(PrimaryReading(timeline: 1, currentLSN: Self.position("0/1"), standbys: [], isFenced: true)))
                == "PostgreSQL primary FENCED (default_transaction_read_only), timeline 1, at 0/1, 0 standbys connected"
        )
    }
}
