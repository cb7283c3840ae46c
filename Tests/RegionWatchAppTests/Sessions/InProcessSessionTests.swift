import Foundation
import Testing
import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI
@testable import RegionWatchApp

/// Whole dashboard sessions in process (keys in, frames out) on the in-memory backend with a
/// virtual clock: what the tmux tier used to check for navigation, help, pause, themes, chaos,
/// traces and failover from the keyboard, in milliseconds. The tmux tier keeps what only a
/// real terminal shows (escape sequences, signals, resize, restore).
@Suite("In-process sessions", .serialized)
struct InProcessSessionTests {
    @Test func startsWithTheDemoShowingThreeRegionsAndTheHeader() async throws {
        let session = try InProcessSession()
        for text in [
            "checkout", "active-active", "RPO 30s", "RTO 5m", "us-east-1", "eu-west-1", "ap-southeast-1", "UTC", "DEMO",
        ] {
            #expect(session.screen.contains(text), "\(text): \(session.screen)")
        }
        #expect(
            await session.waitFor("Replication", "Failover", "no failover in progress", "Recent events"),
            "\(session.screen)")
    }

    @Test func navigatesIntoARegionAndBackAndQuits() async throws {
        let session = try InProcessSession()
        session.press(.down, .enter)
        #expect(
            await session.waitFor(
                "eu-west-1 · aws · standby", "Details", "Replication lag from us-east-1", "Database",
                "PostgreSQL 15.8, timeline 1"), "\(session.screen)")
        for _ in 0..<12 { session.press(.down) }
        #expect(await session.waitFor("Backup", "Versions", "Collectors"), "the details scroll: \(session.screen)")
        session.press(.escape)
        #expect(await session.waitFor("Regions", "Enter: detail"), "\(session.screen)")
        session.type(":region ap")
        session.press(.tab, .enter)
        #expect(await session.waitFor("ap-southeast-1 · gcp · standby"), "\(session.screen)")
        session.press(.character("q"))
        #expect(!session.runtime.hasQuit, "q below the top level goes back")
        session.press(.character("q"))
        #expect(session.runtime.hasQuit)
    }

    @Test func helpListsEveryKeyAndCloses() async throws {
        let session = try InProcessSession()
        session.type("?")
        #expect(await session.waitFor("Keys", "Everywhere", "move up / scroll up"), "\(session.screen)")
        for _ in 0..<9 { session.press(.pageDown) }
        #expect(await session.waitFor("Demo only", "take the selected region down"), "\(session.screen)")
        session.press(.escape)
        #expect(!session.screen.contains("Keys"))
        #expect(session.screen.contains("Regions"))
    }

    @Test func pauseFreezesTheDisplayNotTheTruth() async throws {
        let session = try InProcessSession()
        session.type("p")
        #expect(session.screen.contains("PAUSED"))
        #expect(session.model.display.isFrozen)
        let frozenAt = session.model.displayed.now
        session.advance(seconds: 5)
        #expect(session.model.displayed.now == frozenAt, "the display stays where it was paused")
        #expect(session.model.state.now.seconds(since: frozenAt) >= 5, "collection continues underneath")
        session.type("p")
        #expect(!session.screen.contains("PAUSED"))
        #expect(session.model.displayed.now == session.model.state.now, "resume shows the live state, not a copy")
    }

    @Test func themesSwitchAndAFailureIsSaid() async throws {
        let session = try InProcessSession()
        session.type(":theme light")
        session.press(.enter)
        #expect(session.screen.contains("theme light"))
        #expect(session.backend.background == .light, "the terminal is told the theme's background")
        session.type(":theme nosuch")
        session.press(.enter)
        #expect(session.screen.contains("no theme named 'nosuch'"), "\(session.screen)")
        #expect(session.model.theme.name == "light")
    }

    @Test func demoChaosTakesARegionDownAndRecovers() async throws {
        let session = try InProcessSession()
        session.type("X")
        #expect(await session.waitFor("DOWN", "taken down", step: 1), "\(session.screen)")
        session.type("R")
        #expect(await session.waitFor("recovered", step: 1), "\(session.screen)")
    }

    @Test func chaosKeysOutsideTheDemoSaySo() async throws {
        var configuration = RegionWatchConfiguration.builtInDemo(seed: 7)
        configuration.collectors = []
        let session = try InProcessSession(configuration: configuration, warmUpSeconds: 1)
        session.type("X")
        #expect(session.screen.contains("chaos keys work only in the demo"), "\(session.screen)")
    }

    @Test func resizeToCompactAndBack() async throws {
        let session = try InProcessSession()
        session.resize(width: 60, height: 15)
        #expect(session.screen.contains("us-east-1"))
        #expect(!session.screen.contains("Replication"), "compact layout: \(session.screen)")
        session.resize(width: 120, height: 40)
        #expect(session.screen.contains("Replication"), "\(session.screen)")
    }

    @Test func demoTracesOpenIntoAWaterfallAndTheMatrix() async throws {
        let session = try InProcessSession(width: 140, height: 42)
        session.type("t")
        #expect(await session.waitFor("Traces (", "POST /api/checkout"), "\(session.screen)")
        session.type("/region=eu-west-1 checkout")
        session.press(.enter)
        #expect(await session.waitFor("filter: region=eu-west-1 checkout", "eu-west-1⇢us-east-1"), "\(session.screen)")
        session.press(.enter)
        #expect(
            await session.waitFor("Waterfall", "⇢INSERT orders postgres·us-east-1", "critical path"),
            "\(session.screen)")
        session.type("m")
        #expect(await session.waitFor("Cross-region latency", "n="), "\(session.screen)")
    }

    @Test func failoverFromTheKeyboardSwapsRolesAndIsAudited() async throws {
        let session = try InProcessSession(width: 140, height: 45)
        #expect(await session.waitFor("● 3 ok", "→ eu-west-1 "), "\(session.screen)")
        session.press(.character("j"), .character("F"))
        #expect(
            await session.waitFor("SWITCHOVER  us-east-1 → eu-west-1", "Type the target region's name"),
            "\(session.screen)")
        #expect(session.screen.contains("lag-within-rpo"))
        session.type("eu-west-1")
        session.press(.enter)
        session.type("planned maintenance")
        session.press(.enter)
        #expect(await session.waitFor("COMPLETED · measured RTO"), "\(session.screen)")
        session.press(.enter)
        #expect(await session.waitForSteadyFailover(), "Enter acknowledges: \(session.screen)")
        #expect(await session.waitFor("primary eu-west-1"), "\(session.screen)")
        #expect(
            await session.waitUntil { _ in session.row(containing: "eu-west-1", "┃")?.contains("100%") == true },
            "traffic shifted: \(session.screen)")
        #expect(session.row(containing: "eu-west-1", "┃")?.contains("primary") == true, "\(session.screen)")
        #expect(session.row(containing: "us-east-1", "┃")?.contains("standby") == true, "\(session.screen)")
        session.type("a")
        #expect(
            await session.waitFor("Audit log", "COMPLETED", "switchover us-east-1 → eu-west-1", "planned maintenance"),
            "\(session.screen)")
        let types = session.auditLines().compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["type"] as? String
        }
        #expect(types.first == "confirmed")
        #expect(types.last == "finished")
        #expect(types.filter { $0 == "step-finished" }.count == 5)
    }

    @Test func aTargetLaggingPastTheRPOIsRefusedNamingTheGate() async throws {
        let session = try InProcessSession(width: 140, height: 45)
        #expect(await session.waitFor("● 3 ok", "→ ap-southeast-1 "), "\(session.screen)")
        session.press(.character("j"), .character("j"), .character("I"))
        #expect(await session.waitFor("exceeds RPO", step: 1), "\(session.screen)")
        session.press(.character("F"))
        #expect(await session.waitFor("REFUSED by lag-within-rpo: data loss"), "\(session.screen)")
        session.press(.escape)
        #expect(await session.waitUntil { !$0.contains("REFUSED by") }, "Esc closes the refusal")
        let audit = session.auditLines().joined(separator: "\n")
        #expect(audit.contains(#""state":"refused""#) && audit.contains("lag-within-rpo"), "refusals are audited too")
    }

    @Test func readOnlyRefusesFromTheKeyboard() async throws {
        let session = try InProcessSession(width: 140, height: 45, readOnly: true)
        // The driver reads the history and says read-only in the background.
        #expect(await session.waitFor("READ-ONLY", step: 0), "\(session.screen)")
        session.press(.character("j"), .character("F"))
        #expect(
            session.screen.contains("read-only mode: failover, failback and drills are disabled"), "\(session.screen)")
        #expect(session.auditLines().isEmpty, "nothing recorded")
    }

    @Test func aPausedDisplayStillShowsTheDialogAndAnAbortedPlanIsRolledBack() async throws {
        let session = try InProcessSession(width: 140, height: 45, pacing: .realistic)
        #expect(await session.waitFor("● 3 ok", "→ eu-west-1 "), "\(session.screen)")
        session.press(.character("p"))
        session.press(.character("j"), .character("F"))
        #expect(
            await session.waitFor("SWITCHOVER  us-east-1 → eu-west-1", "Type the target region's name"),
            "paused, the dialog shows: \(session.screen)")
        session.type("eu-west-1")
        session.press(.enter)
        session.type("abort test")
        session.press(.enter)
        #expect(await session.waitFor("▶ 1. fence the old primary", step: 0), "\(session.screen)")
        session.press(.escape)
        #expect(await session.waitFor("ABORTED", "UNRESOLVED"), "\(session.screen)")
        session.press(.enter)
        #expect(await session.waitForSteadyFailover(), "Enter acknowledges: \(session.screen)")
        session.press(.character("p"))
        #expect(!session.model.display.isFrozen)
        #expect(
            await session.waitFor("UNRESOLVED switchover us-east-1 → eu-west-1"),
            "the plan state stays after the dialog closes")
        session.press(.character("U"))
        #expect(
            await session.waitFor("undo: fence the old primary", "Type the target region's name"), "\(session.screen)")
        session.type("eu-west-1")
        session.press(.enter)
        session.type("back out")
        session.press(.enter)
        #expect(await session.waitFor("COMPLETED · measured RTO", deadline: 60), "\(session.screen)")
        session.press(.enter)
        #expect(
            await session.waitUntil { !$0.contains("UNRESOLVED") && $0.contains("primary us-east-1") },
            "\(session.screen)")
        #expect(session.row(containing: "us-east-1", "┃")?.contains("primary") == true, "unfenced: \(session.screen)")
        #expect(!session.screen.contains("Last     switchover"), "a roll back is no switchover: \(session.screen)")
    }

    /// Review finding: a fresh dashboard's C (resume) was judged on the empty state it started
    /// with (the failover world had seen no attempt yet), so its gates refused for want of data.
    @Test func aFreshDashboardResumesAHalfDoneAttemptAgainstTheLiveState() async throws {
        let first = try InProcessSession(width: 140, height: 45, pacing: .realistic)
        #expect(await first.waitFor("● 3 ok", "→ eu-west-1 "), "\(first.screen)")
        first.press(.character("j"), .character("F"))
        #expect(await first.waitFor("Type the target region's name"), "\(first.screen)")
        first.type("eu-west-1")
        first.press(.enter)
        first.type("abort test")
        first.press(.enter)
        #expect(await first.waitFor("▶ 1. fence the old primary", step: 0), "\(first.screen)")
        first.press(.escape)
        #expect(await first.waitFor("ABORTED", "UNRESOLVED"), "\(first.screen)")

        var configuration = RegionWatchConfiguration.builtInDemo(seed: 7)
        configuration.failover.auditLogPath = first.directory + "/audit.jsonl"
        let second = try InProcessSession(configuration: configuration, width: 140, height: 45)
        #expect(
            await second.waitFor("UNRESOLVED switchover us-east-1 → eu-west-1"),
            "the shared history is read: \(second.screen)")
        second.press(.character("C"))
        #expect(await second.waitFor("Type the target region's name"), "resume awaits confirmation: \(second.screen)")
        #expect(!second.screen.contains("REFUSED"), "judged on the live state, not the empty start: \(second.screen)")
    }

    /// Review finding: the loop released the span batches of one drain as a single reservation,
    /// so the gate's batch count leaked one per extra batch until receivers refused everything.
    @Test func everyAppliedBatchGivesItsReservationBack() throws {
        let session = try InProcessSession(warmUpSeconds: 1)
        let gate = session.pipeline.gate
        let resource = SpanResource(
            region: "us-east-1", provider: "aws", service: "api", serviceVersion: nil, attributes: [])
        for index in 0..<3 {
            #expect(gate.tryReserve(spans: 1))
            let span = IncomingSpan(
                traceID: TraceID(high: 9, low: UInt64(index + 1)), spanID: SpanID(1), parentSpanID: SpanID(0),
                name: "GET /",
                kind: .server, startUnixNano: 1_000_000_000, endUnixNano: 1_050_000_000, statusCode: .unset,
                attributes: [],
                resourceIndex: 0, scopeIndex: 0)
            var batch = SpanBatch(
                source: "otlp", receivedAt: session.clock.now(), resources: [resource],
                scopes: [SpanScope(name: "t", version: "1")],
                spans: [span])
            batch.holdsIngestReservation = true
            session.pipeline.bus.publish(.spans(batch))
        }
        #expect(gate.batchesInFlight == 3 && gate.spansInFlight == 3)
        session.pump()
        #expect(gate.batchesInFlight == 0, "one release per batch")
        #expect(gate.spansInFlight == 0)
    }
}
