import Foundation
import Testing
import RegionWatchCore
@testable import RegionWatchApp
#if canImport(Glibc)
import Glibc
@testable import RegionWatchFailover
#endif

extension EndToEnd {
    /// Failover paths an incident takes, on real PostgreSQL (a primary and two streaming
    /// standbys on 127.0.0.1): abort, resume, roll back, an unreachable old primary. Each checks
    /// what the servers really are (in recovery or not, taking writes or not).
    @Suite("PostgreSQL failover safety", .serialized)
    struct PostgresFailoverSafetyTests {
        let binary = Binary.path

        /// The scenario's configuration with a plan: fence the old primary, a slow step (room to
        /// abort), promote.
        func plannedConfiguration(_ scenario: ReplicationScenario) throws -> String {
            let cluster = scenario.cluster
            let fence = "    - { name: fence the old primary, kind: postgres-fence, dsnByRegion: { us-east-1: \"postgres://postgres@127.0.0.1:\(cluster.primaryPort)/postgres?sslmode=disable\" }, timeout: 5s }\n"
            let slow = "    - { name: tell the team, kind: exec, command: [/bin/sleep, \"2\"], timeout: 10s, undo: { kind: exec, command: [/bin/true] } }\n"
            let text = try String(contentsOfFile: scenario.configuration, encoding: .utf8).replacingOccurrences(of: "  plan:\n", with: "  plan:\n" + fence + slow)
            let path = scenario.scratch + "/planned.yaml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Whether `server` takes a write now (a new session, as a client would open).
        func acceptsWrites(_ cluster: PostgresCluster, _ server: String) -> Bool {
            (try? cluster.sql(server, "CREATE TABLE IF NOT EXISTS probe_\(UInt32.random(in: 0...UInt32.max))(x int)")) != nil
        }

        /// Starts a switchover to eu-west-1 and aborts once the fence has run, during the step
        /// after it.
        func abortAfterTheFence(_ coordinator: FailoverCoordinator) async -> FailoverSnapshot {
            _ = await coordinator.begin(kind: .switchover, to: "eu-west-1")
            _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "maintenance")
            let deadline = Date().addingTimeInterval(30)
            // Esc while the slow second step runs: it finishes, nothing after it starts (an Esc
            // between steps would stop at once; this keeps the stopping point deterministic).
            while Date() < deadline, await coordinator.snapshot.machine.attempt?.steps[1].startedAt == nil {
                try? await Task.sleep(for: .milliseconds(20))
            }
            await coordinator.abort()
            await coordinator.waitUntilFinished()
            return await coordinator.snapshot
        }

        @Test func anAbortAfterTheFenceRollsBackAndThenResumesOnRealServers() async throws {
            let scenario = try ReplicationScenario("pgabort")
            defer { scenario.close() }
            let cluster = scenario.cluster
            let configuration = try plannedConfiguration(scenario)
            let watch = try LiveWatch(configuration: configuration, environment: scenario.environment)
            defer { watch.close() }
            #expect(watch.wait(within: 20) { $0.replicationLag(of: "eu-west-1")?.bytesBehind == 0 && $0.region(named: "eu-west-1")?.health == .ok } != nil)

            // Aborted after the fence: the primary refuses writes, nothing was promoted, and the
            // plan state says so (here, in status --json and in the audit).
            let aborted = await abortAfterTheFence(watch.coordinator())
            #expect(aborted.machine.state == .aborted)
            #expect(aborted.machine.unresolved?.steps.map(\.outcome) == [.succeeded, .succeeded, .skipped, .skipped])
            #expect(!acceptsWrites(cluster, "us-east-1"), "fenced")
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "t")
            let status = try runProcess([binary, "status", "--config", configuration, "--json", "--wait", "2.5"], environment: scenario.environment, timeout: 60)
            let report = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
            let unresolved = (report?["failover"] as? [String: Any])?["unresolved"] as? [String: Any]
            #expect((unresolved?["steps"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["succeeded", "succeeded", "skipped", "skipped"], "\(status.standardOutput)")
            let roles = (unresolved?["regions"] as? [[String: Any]])?.map { "\($0["region"] ?? "") \($0["role"] ?? "")" }
            #expect(roles == ["us-east-1 fenced", "eu-west-1 standby"], "\(String(describing: roles))")
            let usRow = (report?["regions"] as? [[String: Any]])?.first { $0["name"] as? String == "us-east-1" }
            #expect(usRow?["health"] as? String != "ok", "a fenced primary is never shown OK: \(String(describing: usRow))")

            // Rolled back (by a fresh process: the plan state comes from the audit log): the
            // fence is lifted and the primary takes writes again.
            let rollback = watch.coordinator()
            let plan = await rollback.rollBack()
            #expect(plan.machine.attempt?.request.steps.map(\.name) == ["undo: tell the team", "undo: fence the old primary"], "\(plan)")
            _ = await rollback.confirm(typedTarget: "eu-west-1", reason: "back out")
            await rollback.waitUntilFinished()
            let rolledBack = await rollback.snapshot
            #expect(rolledBack.machine.state == .completed, "\(rolledBack)")
            #expect(acceptsWrites(cluster, "us-east-1"), "unfenced")
            #expect(try cluster.sql("us-east-1", "SELECT pg_is_in_recovery()") == "f")

            // Aborted again, then resumed: the rest of the plan promotes eu-west-1; the fence is
            // not run twice.
            #expect(watch.wait(within: 20) { $0.region(named: "us-east-1")?.role == .primary && $0.replicationLag(of: "eu-west-1")?.bytesBehind == 0 } != nil)
            let again = await abortAfterTheFence(watch.coordinator())
            #expect(again.machine.state == .aborted)
            let resumer = watch.coordinator()
            let resumed = await resumer.resume()
            #expect(resumed.machine.state == .awaitingConfirmation, "\(resumed)")
            _ = await resumer.confirm(typedTarget: "eu-west-1", reason: "finish the switchover")
            await resumer.waitUntilFinished()
            let done = await resumer.snapshot
            #expect(done.machine.state == .completed, "\(done)")
            #expect(done.machine.attempt?.steps.first?.startedAt == again.machine.attempt?.steps.first?.startedAt, "the fence's record is carried over, not run again")
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "f")
            #expect(acceptsWrites(cluster, "eu-west-1"))
            #expect(!acceptsWrites(cluster, "us-east-1"), "the old primary stays fenced")
            let entries = try String(contentsOfFile: scenario.scratch + "/audit.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let fences = entries.filter { $0["type"] as? String == "step-started" && ($0["step"] as? [String: Any])?["name"] as? String == "fence the old primary" }
            #expect(fences.count == 2, "one fence per aborted attempt, none in the resume")
            #expect(entries.last?["resumes"] as? String == again.machine.attempt?.request.id)
        }

        @Test func anUnreachableOldPrimaryIsNotFencedAndIsSplitBrainWhenItReturns() async throws {
            let scenario = try ReplicationScenario("pgunfenced")
            defer { scenario.close() }
            let cluster = scenario.cluster
            let configuration = try plannedConfiguration(scenario)
            let watch = try LiveWatch(configuration: configuration, environment: scenario.environment)
            defer { watch.close() }
            #expect(watch.wait(within: 20) { $0.replicationLag(of: "eu-west-1")?.bytesBehind == 0 } != nil)
            try cluster.stopAbruptly("us-east-1")
            #expect(watch.wait(within: 20) { $0.region(named: "us-east-1")?.role == .unknown } != nil)
            // Under load the standby's freshness can lag a moment: wait until the gates allow it.
            #expect(watch.wait(within: 30) { state in
                FailoverGates.evaluate(kind: .failover, target: "eu-west-1", in: state, context: FailoverGateContext()).gates.allSatisfy(\.allows)
            } != nil, "\(FailoverGates.evaluate(kind: .failover, target: "eu-west-1", in: watch.state, context: FailoverGateContext()).gates)")

            let coordinator = watch.coordinator()
            let begun = await coordinator.begin(kind: .failover, to: "eu-west-1")
            #expect(begun.machine.state == .awaitingConfirmation, "\(String(describing: begun.machine.attempt?.gates))")
            _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "region lost")
            await coordinator.waitUntilFinished()
            let done = await coordinator.snapshot
            #expect(done.machine.state == .completed)
            #expect(done.machine.attempt?.hasWarnings == true)
            #expect(done.machine.attempt?.steps.first?.outcome == .warning)
            #expect(done.machine.attempt?.steps.first?.output.hasPrefix("not fenced: unreachable") == true)
            let summary = FailoverText.summary(try #require(done.machine.attempt), state: .completed, rtoObjective: 300)
            #expect(summary.contains("COMPLETED WITH WARNINGS"), "\(summary)")

            func status() throws -> [String: Any] {
                let result = try runProcess([binary, "status", "--config", configuration, "--json", "--wait", "2.5"], environment: scenario.environment, timeout: 60)
                return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] ?? [:]
            }
            let before = try status()
            #expect((before["failover"] as? [String: Any])?["notFenced"] as? [String] == ["us-east-1"], "\(before["failover"] ?? "")")

            // The old primary comes back writable: the split-brain alarm takes over.
            try cluster.start("us-east-1")
            #expect(acceptsWrites(cluster, "us-east-1"))
            #expect(acceptsWrites(cluster, "eu-west-1"))
            let after = try status()
            let split = ((after["primary"] as? [String: Any])?["splitBrain"] as? [String: Any])?["regions"] as? [String]
            #expect(split?.sorted() == ["eu-west-1", "us-east-1"], "\(after["primary"] ?? "")")
            #expect((after["failover"] as? [String: Any])?["notFenced"] as? [String] == ["us-east-1"])
        }

        @Test func aKillDuringAStepIsShownInterruptedAndResumesWithoutRepeatingTheFence() throws {
            let scenario = try ReplicationScenario("pgkill")
            defer { scenario.close() }
            let cluster = scenario.cluster
            let configuration = try plannedConfiguration(scenario)
            let environment = scenario.environment.merging(["PATH": "/usr/bin:/bin"]) { _, new in new }
            let auditPath = scenario.scratch + "/audit.jsonl"
            let output = open(scenario.scratch + "/first.log", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            let input = open("/dev/null", O_RDONLY)
            let first = try ChildProcess([binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason", "maintenance", "--yes", "--wait", "3"], environment: environment, input: input, output: output, error: output)
            close(output)
            close(input)
            defer {
                kill(first.pid, SIGKILL)
                first.wait(within: 10)
            }
            // Killed while the second step runs (the fence has finished).
            #expect(eventually(within: 60) { ((try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? "").contains(#""name":"tell the team""#) })
            kill(first.pid, SIGKILL)
            first.wait(within: 10)
            #expect(!acceptsWrites(cluster, "us-east-1"), "the fence ran")

            let status = try runProcess([binary, "status", "--config", configuration, "--json", "--wait", "2.5"], environment: environment, timeout: 60)
            let failover = (try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])?["failover"] as? [String: Any]
            #expect((failover?["interrupted"] as? [[String: Any]])?.count == 1, "\(status.standardOutput)")
            let steps = ((failover?["unresolved"] as? [String: Any])?["steps"] as? [[String: Any]])?.map { $0["outcome"] as? String }
            #expect(steps == ["succeeded", "not run", "not run", "not run"], "resume is offered from the step that never finished: \(String(describing: steps))")

            let resumed = try runProcess([binary, "failover", "--config", configuration, "--resume", "--reason", "after the crash", "--yes", "--wait", "3"], environment: environment, timeout: 120)
            #expect(resumed.status == 0, "\(resumed.standardOutput)\(resumed.standardError)")
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "f")
            #expect(acceptsWrites(cluster, "eu-west-1"))
            let entries = try String(contentsOfFile: auditPath, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let fences = entries.filter { $0["type"] as? String == "step-started" && ($0["step"] as? [String: Any])?["name"] as? String == "fence the old primary" }
            #expect(fences.count == 1, "the fence ran once")
            let after = try runProcess([binary, "audit", "--config", configuration], environment: environment, timeout: 60)
            #expect(!after.standardOutput.contains("INTERRUPTED"), "resumed, it is no longer interrupted: \(after.standardOutput)")
        }

        @Test func anAbortAfterThePromotionCannotBeRolledBackAndResumesToTheEnd() async throws {
            let scenario = try ReplicationScenario("pgabortpromoted")
            defer { scenario.close() }
            let cluster = scenario.cluster
            // A step after the promotion that holds until the test lets it go: the abort is
            // requested while it runs, so the attempt stops right after it.
            let release = scenario.scratch + "/release"
            let hold = "    - { name: announce, kind: exec, command: [/bin/sh, -c, \"while [ ! -f \(release) ]; do sleep 0.05; done\"], timeout: 60s, undo: { kind: exec, command: [/bin/true] } }\n"
            let text = try String(contentsOfFile: try plannedConfiguration(scenario), encoding: .utf8)
            let configuration = scenario.scratch + "/held.yaml"
            try (text.trimmingCharacters(in: .newlines) + "\n" + hold).write(toFile: configuration, atomically: true, encoding: .utf8)
            let watch = try LiveWatch(configuration: configuration, environment: scenario.environment)
            defer { watch.close() }
            #expect(watch.wait(within: 20) { $0.replicationLag(of: "eu-west-1")?.bytesBehind == 0 && $0.region(named: "eu-west-1")?.health == .ok } != nil)

            let coordinator = watch.coordinator()
            _ = await coordinator.begin(kind: .switchover, to: "eu-west-1")
            _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "maintenance")
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, await coordinator.snapshot.machine.attempt?.steps.last?.startedAt == nil {
                try? await Task.sleep(for: .milliseconds(20))
            }
            #expect(await coordinator.snapshot.machine.attempt?.steps.last?.startedAt != nil, "the last step runs")
            await coordinator.abort()
            FileManager.default.createFile(atPath: release, contents: Data())
            await coordinator.waitUntilFinished()
            let stopped = await coordinator.snapshot.machine
            #expect(stopped.state == .aborted, "\(stopped)")
            #expect(stopped.attempt?.isPromoted == true)
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "f")
            #expect(!acceptsWrites(cluster, "us-east-1"))

            // A promotion cannot be undone: the operator is told to fail back instead.
            #expect(await coordinator.rollBack().problem == "cannot roll back: eu-west-1 was promoted: fail back instead")
            // Resuming runs only what is left (the announcement), judged by the lock and
            // read-only mode: the target is the primary now.
            try? FileManager.default.removeItem(atPath: release)
            let resumed = await coordinator.resume()
            #expect(resumed.machine.attempt?.gates.map(\.gate) == [.lock, .readOnly], "\(resumed)")
            _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "finish")
            FileManager.default.createFile(atPath: release, contents: Data())
            await coordinator.waitUntilFinished()
            let done = await coordinator.snapshot.machine
            #expect(done.state == .completed, "\(done)")
            #expect(done.unresolved == nil)
            let started = try String(contentsOfFile: scenario.scratch + "/audit.jsonl", encoding: .utf8).split(separator: "\n").filter {
                $0.contains(#""type":"step-started""#) && $0.contains(#""name":"promote""#)
            }
            #expect(started.count == 1, "promoted once")
        }
    }
}
