import Foundation
import RegionWatchCore
import RegionWatchTerminal

/// Encodes an optional as an explicit `null` when absent (synthesised `Codable` would omit the
/// key, and scripts rely on every key being present).
@propertyWrapper
public struct ExplicitNull<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// The `status` command's report. The JSON names are an interface scripts depend on: null
/// where a value is unknown, never a made-up zero.
public struct StatusReport: Encodable, Sendable {
    public struct TopologyInfo: Encodable, Sendable {
        var name: String
        var pattern: String
        var rpoSeconds: Double
        var rtoSeconds: Double
    }

    /// A lag with how well it is known: `bound` is `exact`, `lower` (at least), `upper` (at
    /// most) or `range`; `seconds` is the figure shown. `unknownAfter` is set when the primary
    /// is not observed: what it wrote after that time is not counted.
    public struct LagInfo: Encodable, Sendable {
        @ExplicitNull var seconds: Double?
        @ExplicitNull var bound: String?
        @ExplicitNull var atLeastSeconds: Double?
        @ExplicitNull var atMostSeconds: Double?
        @ExplicitNull var bytesNotReceived: Double?
        @ExplicitNull var bytesNotReplayed: Double?
        @ExplicitNull var bytesBehind: Double?
        @ExplicitNull var unknownAfter: String?
        @ExplicitNull var observedAgeSeconds: Double?

        init(_ reading: ReplicationReading, now: Timestamp) {
            seconds = reading.time?.seconds
            bound = reading.time?.bound.rawValue
            atLeastSeconds = reading.time?.atLeast
            atMostSeconds = reading.time?.atMost
            bytesNotReceived = reading.bytesNotReceived
            bytesNotReplayed = reading.bytesNotReplayed
            bytesBehind = reading.bytesBehind
            unknownAfter = reading.unknownAfter?.iso8601
            observedAgeSeconds = reading.observedAt.map { max(0, now.seconds(since: $0)) }
        }
    }

    /// WAL archiving of a primary.
    public struct ArchivingInfo: Encodable, Sendable {
        var mode: String
        var archivedCount: Int
        @ExplicitNull var lastArchivedSegment: String?
        @ExplicitNull var lastArchivedAgeSeconds: Double?
        var failedCount: Int
        @ExplicitNull var lastFailedSegment: String?
        @ExplicitNull var lastFailedAgeSeconds: Double?
        var failing: Bool
        /// Age of the oldest write not yet archived.
        @ExplicitNull var unarchivedSeconds: Double?
        @ExplicitNull var unarchivedBound: String?

        init(_ archive: ArchiveStatus, now: Timestamp) {
            let facts = archive.facts
            mode = facts.mode
            archivedCount = facts.archivedCount
            lastArchivedSegment = facts.lastArchivedSegment
            lastArchivedAgeSeconds = facts.lastArchivedAt.map { max(0, now.seconds(since: $0)) }
            failedCount = facts.failedCount
            lastFailedSegment = facts.lastFailedSegment
            lastFailedAgeSeconds = facts.lastFailedAt.map { max(0, now.seconds(since: $0)) }
            failing = facts.isFailing
            unarchivedSeconds = archive.unarchived?.seconds
            unarchivedBound = archive.unarchived?.bound.rawValue
        }
    }

    /// The topology's primary and split brain.
    public struct PrimaryInfo: Encodable, Sendable {
        @ExplicitNull var current: String?
        @ExplicitNull var lastKnown: String?
        @ExplicitNull var splitBrain: SplitBrainInfo?
    }

    /// Regions that accept writes at the same time.
    public struct SplitBrainInfo: Encodable, Sendable {
        var regions: [String]
        var since: String
        var sinceSeconds: Double
        var message: String
    }

    public struct RegionInfo: Encodable, Sendable {
        var name: String
        var provider: String
        var role: String
        /// While the role is unknown: the role it had when last known.
        @ExplicitNull var lastKnownRole: String?
        @ExplicitNull var timeline: Int?
        @ExplicitNull var serverVersion: String?
        /// The region it replicates from.
        @ExplicitNull var upstream: String?
        @ExplicitNull var followingFormerPrimary: String?
        var health: String
        var healthReasons: [String]
        /// Published health changes in the last ten minutes.
        var healthChanges: Int
        @ExplicitNull var errorRate: Double?
        @ExplicitNull var p50Ms: Double?
        @ExplicitNull var p99Ms: Double?
        @ExplicitNull var requestsPerSecond: Double?
        @ExplicitNull var trafficShare: Double?
        @ExplicitNull var availability: Double?
        @ExplicitNull var replicationLagSeconds: Double?
        @ExplicitNull var replicationLagBytes: Double?
        @ExplicitNull var replicationLagIsLowerBound: Bool?
        /// Whether `replicationLagSeconds` is exact (to the evidence's resolution); otherwise read
        /// `replicationLag.bound`.
        @ExplicitNull var replicationLagIsExact: Bool?
        @ExplicitNull var replicationLag: LagInfo?
        @ExplicitNull var version: String?
        var versions: [String: String]
        @ExplicitNull var ageSeconds: Double?
        @ExplicitNull var lastBackupAt: String?
        @ExplicitNull var lastBackupSizeBytes: Double?
        @ExplicitNull var lastBackupIntegrity: String?
        @ExplicitNull var archiving: ArchivingInfo?
        /// Log records of level ERROR or above per second, and all records per second, over the
        /// log window; `null` before the region has sent logs.
        @ExplicitNull var logErrorsPerSecond: Double?
        @ExplicitNull var logRecordsPerSecond: Double?
    }

    public struct ReplicationInfo: Encodable, Sendable {
        var from: String
        var to: String
        @ExplicitNull var lagSeconds: Double?
        @ExplicitNull var lagBytes: Double?
        var lagIsLowerBound: Bool
        var lagIsExact: Bool
        var lag: LagInfo
        var state: String
        @ExplicitNull var ageSeconds: Double?
    }

    public struct FailoverInfo: Encodable, Sendable {
        var state: String
        var summary: String
        var readOnly: Bool
        @ExplicitNull var lastFailover: FailoverRecordInfo?
        @ExplicitNull var lastDrill: FailoverRecordInfo?
        /// Attempts confirmed and never finished (a crash), until acknowledged.
        /// The newest interrupted attempts (at most 20), and how many there are in all.
        var interrupted: [FailoverRecordInfo]
        var interruptedCount: Int
        /// Old primaries a fence step could not reach, until seen fenced or in recovery.
        var notFenced: [String]
        /// An attempt that aborted or failed after changing something, until resumed, rolled
        /// back or superseded by a completed move.
        @ExplicitNull var unresolved: UnresolvedInfo?
    }

    /// The plan state of an attempt that stopped half-way.
    public struct UnresolvedInfo: Encodable, Sendable {
        struct Step: Encodable, Sendable {
            var name: String
            var outcome: String
        }
        struct RegionRole: Encodable, Sendable {
            var region: String
            var role: String
        }
        var id: String
        var kind: String
        var from: String
        var to: String
        var steps: [Step]
        var regions: [RegionRole]

        init(_ unresolved: UnresolvedFailover) {
            let request = unresolved.attempt.request
            id = request.id
            kind = request.kind.rawValue
            from = request.from
            to = request.to
            steps = unresolved.attempt.steps.map { step in
                Step(
                    name: step.name, outcome: step.outcome?.rawValue ?? (step.startedAt == nil ? "not run" : "unknown"))
            }
            regions = unresolved.regionRoles.map { RegionRole(region: $0.region, role: $0.role) }
        }
    }

    public struct FailoverRecordInfo: Encodable, Sendable {
        var id: String
        var at: String
        var kind: String
        var from: String
        var to: String
        var state: String
        @ExplicitNull var measuredRtoSeconds: Double?
        /// The known data loss in seconds as shown (see `dataLoss` for its bound and window).
        @ExplicitNull var dataLossSeconds: Double?
        @ExplicitNull var dataLoss: DataLossEstimate?

        init(_ record: FailoverRecordSummary) {
            id = record.id
            at = record.at.iso8601
            kind = record.kind
            from = record.from
            to = record.to
            state = record.state
            measuredRtoSeconds = record.measuredRTOSeconds
            dataLossSeconds = record.dataLoss?.seconds
            dataLoss = record.dataLoss
        }
    }

    public struct CollectorInfo: Encodable, Sendable {
        var name: String
        var kind: String
        var intervalSeconds: Double
        @ExplicitNull var lastSuccessAgeSeconds: Double?
        @ExplicitNull var lastError: String?
        /// Data refused while the rest was used, and the latest reason.
        var rejected: Int
        @ExplicitNull var lastRejection: String?
    }

    public struct SignalInfo: Encodable, Sendable {
        var requests: Int
        var received: Int
        var rejected: Int
        @ExplicitNull var lastRejection: String?
    }

    public struct LogCounters: Encodable, Sendable {
        var records: Int
        var approximateBytes: Int
        var received: Int
        var rejected: Int
        var evicted: Int
        var truncated: Int
        var rejectionReasons: [String: Int]
    }

    public struct MetricCounters: Encodable, Sendable {
        var series: Int
        var pointsReceived: Int
    }

    public struct EventCounters: Encodable, Sendable {
        var published: Int
        var dropped: Int
    }

    public struct TraceCounters: Encodable, Sendable {
        var traces: Int
        var spans: Int
        var approximateBytes: Int
        var receivedSpans: Int
        var rejectedSpans: Int
        var evictedSpans: Int
        var evictedTraces: Int
        var rejectionReasons: [String: Int]
        var spansFoldedIntoUnknownRegion: Int
    }

    public struct HopInfo: Encodable, Sendable {
        var from: String
        var to: String
        var count: Int
        var p50Ms: Double
        var p99Ms: Double
    }

    public struct ReceiverInfo: Encodable, Sendable {
        var name: String
        var listen: String
        /// `http` or `grpc`.
        var transport: String
        var requestsAccepted: Int
        var requestsRefused: Int
        /// By HTTP status, or by gRPC status code on gRPC.
        var refusalsByStatus: [String: Int]
        /// Connections that spoke the other transport (HTTP/1 on gRPC, HTTP/2 on HTTP).
        var wrongProtocolConnections: Int
        var spansReceived: Int
        var spansRejected: Int
        /// Per signal (`traces`, `metrics`, `logs`): requests accepted, items taken and
        /// rejected inside them, and the last partial-success message.
        var signals: [String: SignalInfo]
        /// Metric values refused on their way to a region signal, and the last reason.
        var metricSignalsRejected: Int
        @ExplicitNull var lastMetricSignalRejection: String?
        @ExplicitNull var lastRefusal: String?
        var connectionsOpen: Int
        var connectionsRefused: Int
        var connectionsTimedOut: Int
        var bodyBytesHeld: Int
    }

    public var generatedAt: String
    public var topology: TopologyInfo
    public var primary: PrimaryInfo
    public var regions: [RegionInfo]
    public var replication: [ReplicationInfo]
    public var failover: FailoverInfo
    public var collectors: [CollectorInfo]
    public var events: EventCounters
    public var traces: TraceCounters
    public var logs: LogCounters
    public var metrics: MetricCounters
    public var crossRegionLatency: [HopInfo]
    public var receivers: [ReceiverInfo]
    public var unknownRegions: UnknownRegionsInfo
    /// Every bounded store: how full it is and what it forgot to stay within its capacity.
    public var bounds: [StoreBound]

    /// Regions observed that are not in the configuration: the 64 most recently observed names
    /// with their observation counts, and how many names were forgotten to make room.
    public struct UnknownRegionsInfo: Encodable, Sendable {
        var observations: [String: Int]
        var forgottenNames: Int
    }

    /// The report for `state` at its current time.
    public init(state: DashboardState) {
        let now = state.now
        generatedAt = now.iso8601
        topology = TopologyInfo(
            name: state.topology.name, pattern: state.topology.pattern.rawValue,
            rpoSeconds: state.topology.objectives.rpoSeconds, rtoSeconds: state.topology.objectives.rtoSeconds
        )
        primary = PrimaryInfo(
            current: state.primary.current, lastKnown: state.primary.lastKnown,
            splitBrain: state.primary.splitBrain.map { split in
                SplitBrainInfo(
                    regions: split.regions, since: split.since.iso8601,
                    sinceSeconds: max(0, now.seconds(since: split.since)), message: split.message)
            }
        )
        regions = state.regions.map { region in
            let lag = state.replicationLag(of: region.name)
            let fresh = region.health != .stale
            return RegionInfo(
                name: region.name, provider: region.configuration.provider, role: region.role.rawValue,
                lastKnownRole: region.role == .unknown ? region.lastKnownRole?.rawValue : nil,
                timeline: region.timeline, serverVersion: region.server?.facts?.version,
                upstream: region.role == .primary ? nil : state.upstream(of: region.name),
                followingFormerPrimary: region.followingFormerPrimary,
                health: region.health.rawValue, healthReasons: region.assessment.reasons,
                healthChanges: region.healthChanges(at: now),
                errorRate: fresh ? region.errorRate.latest : nil,
                p50Ms: fresh ? region.p50Milliseconds.latest : nil,
                p99Ms: fresh ? region.p99Milliseconds.latest : nil,
                requestsPerSecond: fresh ? region.requestsPerSecond.latest : nil,
                trafficShare: fresh ? region.trafficShare.latest : nil,
                availability: region.probe.availability,
                replicationLagSeconds: lag?.time?.seconds, replicationLagBytes: lag?.bytesBehind,
                replicationLagIsLowerBound: lag?.time.map { $0.bound == .lower || $0.bound == .range },
                replicationLagIsExact: lag?.time.map { $0.bound == .exact },
                replicationLag: lag.map { LagInfo($0, now: now) },
                version: region.primaryVersion, versions: region.versions.dictionary,
                ageSeconds: region.dataAge(at: now),
                lastBackupAt: region.backup?.completedAt.iso8601,
                lastBackupSizeBytes: region.backup?.sizeBytes,
                lastBackupIntegrity: region.backup?.integrity.rawValue,
                archiving: region.archive.map { ArchivingInfo($0, now: now) },
                logErrorsPerSecond: region.logErrorsPerSecond.latest,
                logRecordsPerSecond: region.logRecordsPerSecond
            )
        }
        replication = state.replicationLinks.map { link in
            let lag = link.reading
            return ReplicationInfo(
                from: link.from, to: link.to, lagSeconds: lag.time?.seconds, lagBytes: lag.bytesBehind,
                lagIsLowerBound: lag.time.map { $0.bound == .lower || $0.bound == .range } ?? false,
                lagIsExact: lag.time?.bound == .exact, lag: LagInfo(lag, now: now), state: link.state.rawValue,
                ageSeconds: link.observedAt.map { max(0, now.seconds(since: $0)) }
            )
        }
        let history = state.failover.history
        failover = FailoverInfo(
            state: state.failover.stateName, summary: state.failover.summary, readOnly: state.failover.isReadOnly,
            lastFailover: history.lastFailover.map(FailoverRecordInfo.init),
            lastDrill: history.lastDrill.map(FailoverRecordInfo.init),
            interrupted: history.interrupted.map(FailoverRecordInfo.init), interruptedCount: history.interruptedCount,
            notFenced: state.failover.notFenced.map(\.region),
            unresolved: state.unresolvedFailover.map(UnresolvedInfo.init)
        )
        collectors = state.collectors.map { collector in
            CollectorInfo(
                name: collector.name, kind: collector.kind, intervalSeconds: collector.intervalSeconds,
                lastSuccessAgeSeconds: collector.age(at: now),
                lastError: collector.lastError, rejected: collector.rejectedCount,
                lastRejection: collector.lastRejection
            )
        }
        events = EventCounters(published: state.bus.publishedEvents, dropped: state.bus.droppedEvents)
        let counters = state.traces.counters
        traces = TraceCounters(
            traces: state.traces.traceCount, spans: state.traces.spanCount,
            approximateBytes: state.traces.approximateBytes,
            receivedSpans: counters.receivedSpans, rejectedSpans: counters.rejectedSpans,
            evictedSpans: counters.evictedSpans,
            evictedTraces: counters.evictedTraces, rejectionReasons: counters.rejectionReasons,
            spansFoldedIntoUnknownRegion: state.traces.spansFoldedIntoUnknownRegion
        )
        let logCounters = state.logs.counters
        logs = LogCounters(
            records: state.logs.recordCount, approximateBytes: state.logs.approximateBytes,
            received: logCounters.received, rejected: logCounters.rejected, evicted: logCounters.evicted,
            truncated: logCounters.truncated, rejectionReasons: logCounters.rejectionReasons)
        metrics = MetricCounters(series: state.metrics.count, pointsReceived: state.metrics.pointsReceived)
        crossRegionLatency = state.hopLatencies.pairs.sorted { ($0.from, $0.to) < ($1.from, $1.to) }.compactMap {
            pair in
            state.hopLatencies.statistics(from: pair.from, to: pair.to).map {
                HopInfo(
                    from: pair.from, to: pair.to, count: $0.count, p50Ms: $0.p50Milliseconds, p99Ms: $0.p99Milliseconds)
            }
        }
        unknownRegions = UnknownRegionsInfo(
            observations: state.unknownRegionObservations, forgottenNames: state.unknownRegions.forgottenCount)
        bounds = state.storeBounds
        receivers = state.receivers.values.sorted { $0.receiver < $1.receiver }.map { statistics in
            ReceiverInfo(
                name: statistics.receiver, listen: statistics.listenAddress, transport: statistics.transport,
                requestsAccepted: statistics.requestsAccepted,
                requestsRefused: statistics.requestsRefused,
                refusalsByStatus: Dictionary(
                    uniqueKeysWithValues: statistics.refusalsByStatus.map { (String($0.key), $0.value) }),
                wrongProtocolConnections: statistics.wrongProtocolConnections,
                spansReceived: statistics.spansReceived, spansRejected: statistics.spansRejected,
                signals: statistics.signals.mapValues {
                    SignalInfo(
                        requests: $0.requests, received: $0.received, rejected: $0.rejected,
                        lastRejection: $0.lastRejection)
                },
                metricSignalsRejected: statistics.metricSignalsRejected,
                lastMetricSignalRejection: statistics.lastMetricSignalRejection,
                lastRefusal: statistics.lastRefusal,
                connectionsOpen: statistics.connectionsOpen, connectionsRefused: statistics.connectionsRefused,
                connectionsTimedOut: statistics.connectionsTimedOut, bodyBytesHeld: statistics.bodyBytesHeld
            )
        }
    }

    /// Pretty, stable JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// The `status` command's plain-text table, rendered with the same table widget as the UI.
public enum StatusTable {
    /// The report as text lines, `width` columns wide at most.
    public static func render(_ state: DashboardState, width: Int = 132) -> String {
        let now = state.now
        let objectives = state.topology.objectives
        var output =
            "\(state.topology.name) (\(state.topology.pattern.rawValue)) · RPO \(Format.duration(objectives.rpoSeconds)) · RTO \(Format.duration(objectives.rtoSeconds)) · \(now.iso8601)\n"
        if let split = state.primary.splitBrain {
            output += "SPLIT BRAIN since \(split.since.iso8601): \(split.message)\n"
        } else {
            output += "primary \(state.primary.current ?? "none (last known \(state.primary.lastKnown ?? "none"))")\n"
        }
        output += "\n"
        let columns = [
            TableColumn("REGION", width: 16), TableColumn("PROVIDER", width: 8), TableColumn("ROLE", width: 8),
            TableColumn("HEALTH", width: 8), TableColumn("ERR", width: 6, alignment: .right),
            TableColumn("P99", width: 7, alignment: .right), TableColumn("REQ/S", width: 6, alignment: .right),
            TableColumn("TRAFFIC", width: 7, alignment: .right), TableColumn("LAG", width: 8, alignment: .right),
            TableColumn("VERSION", width: 8), TableColumn("AGE", width: 6, alignment: .right),
        ]
        let rows: [[Line]] = state.regions.map { region in
            let fresh = region.health != .stale
            let lag = state.replicationLag(of: region.name)
            let isSource = state.inboundLinks(of: region.name).isEmpty
            let thresholds = state.topology.thresholds
            func value(_ text: String) -> Line { Line(fresh ? text : Format.unknown) }
            let role =
                region.role == .unknown
                ? (region.lastKnownRole.map { "\($0.rawValue)?" } ?? "unknown") : region.role.rawValue
            return [
                Line(region.name), Line(region.configuration.provider), Line(role),
                Line(region.health.label),
                value(
                    region.errorRate.latest.map {
                        Format.keepingBelow(
                            $0 < thresholds.errorRateDegraded ? thresholds.errorRateDegraded : thresholds.errorRateDown,
                            $0, Format.percent)
                    } ?? Format.unknown),
                value(
                    region.p99Milliseconds.latest.map {
                        Format.keepingBelow(thresholds.p99DegradedMilliseconds, $0, Format.milliseconds)
                    } ?? Format.unknown),
                value(region.requestsPerSecond.latest.map(Format.rate) ?? Format.unknown),
                value(region.trafficShare.latest.map { Format.fixed($0 * 100, decimals: 0) + "%" } ?? Format.unknown),
                Line(
                    isSource
                        ? (region.role == .primary || region.role == .fenced ? "source" : Format.unknown)
                        : lag?.compactText ?? Format.unknown),
                Line(region.primaryVersion ?? Format.unknown),
                Line(region.dataAge(at: now).map(Format.age) ?? "never"),
            ]
        }
        output += tableText(columns: columns, rows: rows, width: width)
        let reasons = state.regions.filter { !$0.assessment.reasons.isEmpty }
        if !reasons.isEmpty {
            output += "\nWHY\n"
            for region in reasons {
                for reason in region.assessment.reasons { output += "  \(region.name): \(reason)\n" }
            }
        }
        if !state.replicationLinks.isEmpty {
            output += "\nREPLICATION\n"
            let linkRows: [[Line]] = state.replicationLinks.map { link in
                let lag = link.reading
                return [
                    Line("\(link.from) → \(link.to)"), Line(link.state.rawValue),
                    Line(lag.time?.text ?? Format.unknown),
                    Line(lag.bytesNotReceived.map(Format.bytes) ?? Format.unknown),
                    Line(lag.bytesNotReplayed.map(Format.bytes) ?? lag.bytesBehind.map(Format.bytes) ?? Format.unknown),
                    Line(lag.unknownAfter.map { "primary not observed since \($0.utcTimeOfDay) UTC" } ?? ""),
                ]
            }
            output += tableText(
                columns: [
                    TableColumn("LINK", width: 34), TableColumn("STATE", width: 11),
                    TableColumn("LAG", width: 12, alignment: .right),
                    TableColumn("NOT RECV", width: 9, alignment: .right),
                    TableColumn("NOT REPLAYED", width: 12, alignment: .right), TableColumn("", width: 40),
                ], rows: linkRows, width: width)
        }
        output += "\nFAILOVER  \(state.failover.summary)\(state.failover.isReadOnly ? " (read-only)" : "")\n"
        for interrupted in state.failover.history.interrupted {
            output +=
                "  INTERRUPTED \(interrupted.kind) \(interrupted.from) → \(interrupted.to) at \(interrupted.at.iso8601): started, never finished (regionwatch audit)\n"
        }
        if let last = state.failover.history.lastFailover {
            output +=
                "  last \(last.kind) \(last.from) → \(last.to) \(last.state) at \(last.at.iso8601), RTO \(last.measuredRTOSeconds.map { Format.fixed($0, decimals: 2) + "s" } ?? Format.unknown)\n"
        }
        if let drill = state.failover.history.lastDrill {
            output +=
                "  last drill \(drill.from) → \(drill.to) \(drill.state) at \(drill.at.iso8601), RTO \(drill.measuredRTOSeconds.map { Format.fixed($0, decimals: 2) + "s" } ?? Format.unknown)\n"
        }
        return output
    }

    private static func tableText(columns: [TableColumn], rows: [[Line]], width: Int) -> String {
        var frame = Frame(size: TerminalSize(width: width, height: rows.count + 1))
        Table(columns: columns, rows: rows, headerStyle: .plain, columnSpacing: 2).render(in: frame.area, into: &frame)
        return frame.lines.joined(separator: "\n") + "\n"
    }
}
