import Foundation
import Synchronization
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
    @Suite("PostgreSQL failover safety", .serialized, Requirement.postgreSQL.trait)
    struct PostgresFailoverSafetyTests {
        let binary = Binary.path

        /// The scenario's configuration with a plan: fence the old primary, a slow step (room to
        /// abort), promote.
        func plannedConfiguration(_ scenario: ReplicationScenario) throws -> String {
            let cluster = scenario.cluster
            let fence =
                "    - { name: fence the old primary, kind: postgres-fence, dsnByRegion: { us-east-1: \"postgres://postgres@127.0.0.1:\(cluster.primaryPort)/postgres?sslmode=disable\" }, timeout: 5s }\n"
            let slow =
                "    - { name: tell the team, kind: exec, command: [/bin/sleep, \"2\"], timeout: 10s, undo: { kind: exec, command: [/bin/true] } }\n"
            let text = try String(contentsOfFile: scenario.configuration, encoding: .utf8).replacingOccurrences(
                of: "  plan:\n", with: "  plan:\n" + fence + slow)
            let path = scenario.scratch + "/planned.yaml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Whether `server` takes a write now (a new session, as a client would open).
        func acceptsWrites(_ cluster: PostgresCluster, _ server: String) -> Bool {
            (try? cluster.sql(server, "CREATE TABLE IF NOT EXISTS probe_\(UInt32.random(in: 0...UInt32.max))(x int)"))
                != nil
        }

        /// The planned configuration's steps, in order (the catch-up wait is added before the
        /// promotion of a switchover).
        static let plannedSteps = [
            "fence the old primary", "tell the team", "wait for the target to catch up", "promote",
        ]

        /// Starts a switchover to eu-west-1 on a fresh coordinator and presses Esc the moment
        /// step `index` starts (from the coordinator's own report of it, so the abort lands
        /// while that step runs): it finishes, nothing after it starts.
        func abort(after index: Int, on watch: LiveWatch) async -> FailoverSnapshot {
            // A machine starved by parallel suites can let a reading go stale for a moment: the
            // gates then rightly refuse. That is not what this scenario tests, so it starts
            // again (once) when the target is fresh and caught up.
            let first = await abortOnce(after: index, on: watch)
            guard first.machine.state == .refused else { return first }
            _ = watch.waitUntilGatesAllow(to: "eu-west-1")
            return await abortOnce(after: index, on: watch)
        }

        private func abortOnce(after index: Int, on watch: LiveWatch) async -> FailoverSnapshot {
            let pressed = Mutex(false)
            let target = Mutex<FailoverCoordinator?>(nil)
            let coordinator = watch.coordinator { snapshot in
                guard snapshot.machine.state == .executing(step: index, of: Self.plannedSteps.count),
                    snapshot.machine.attempt?.steps[index].startedAt != nil,
                    pressed.withLock({
                        let first = !$0
                        $0 = true
                        return first
                    }),
                    let coordinator = target.withLock({ $0 })
                else { return }
                Task { await coordinator.abort() }
            }
            target.withLock { $0 = coordinator }
            _ = await coordinator.begin(kind: .switchover, to: "eu-west-1")
            _ = await coordinator.confirm(typedTarget: "eu-west-1", reason: "maintenance")
            await coordinator.waitUntilFinished()
            return await coordinator.snapshot
        }

        /// Every `step-started` entry's step name, in log order.
        func startedSteps(_ scenario: ReplicationScenario) throws -> [String] {
            try auditEntries(scenario).filter { $0["type"] as? String == "step-started" }.compactMap {
                ($0["step"] as? [String: Any])?["name"] as? String
            }
        }

        func auditEntries(_ scenario: ReplicationScenario) throws -> [[String: Any]] {
            try String(contentsOfFile: scenario.scratch + "/audit.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap {
                    try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
        }

        /// Aborted after each step in turn, on real servers: the plan state says which steps
        /// ran and what each region is now; a roll back (by a fresh coordinator: the plan state
        /// comes from the audit log) restores the old primary, unless the promotion ran; aborted
        /// again and resumed, the rest of the plan completes and no finished step runs twice.
        @Test(arguments: 0..<4)
        func anAbortAfterEachStepRollsBackAndResumesOnRealServers(stoppedAfter: Int) async throws {
            let scenario = try ReplicationScenario("pgabort\(stoppedAfter)")
            defer { scenario.close() }
            let cluster = scenario.cluster
            let configuration = try plannedConfiguration(scenario)
            let watch = try LiveWatch(configuration: configuration, environment: scenario.environment)
            defer { watch.close() }
            let steps = Self.plannedSteps
            let promoted = stoppedAfter == steps.firstIndex(of: "promote")
            let outcomes = steps.indices.map { $0 <= stoppedAfter ? "succeeded" : "skipped" }
            #expect(watch.waitUntilGatesAllow(to: "eu-west-1") != nil)

            var aborted = await abort(after: stoppedAfter, on: watch)
            #expect(aborted.machine.state == .aborted, "\(aborted)")
            #expect(aborted.machine.attempt?.request.steps.map(\.name) == steps)
            #expect(aborted.machine.unresolved?.steps.map { $0.outcome?.rawValue } == outcomes)
            #expect(!acceptsWrites(cluster, "us-east-1"), "fenced")
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == (promoted ? "f" : "t"))
            let status = try runProcess(
                [binary, "status", "--config", configuration, "--json", "--wait", "2.5"],
                environment: scenario.environment, timeout: 60)
            let report = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
            let unresolved = (report?["failover"] as? [String: Any])?["unresolved"] as? [String: Any]
            #expect(
                (unresolved?["steps"] as? [[String: Any]])?.map { $0["outcome"] as? String } == outcomes,
                "\(status.standardOutput)")
            let roles = (unresolved?["regions"] as? [[String: Any]])?.map {
                "\($0["region"] ?? "") \($0["role"] ?? "")"
            }
            #expect(
                roles == ["us-east-1 fenced", "eu-west-1 \(promoted ? "primary" : "standby")"],
                "\(String(describing: roles))")
            let usRow = (report?["regions"] as? [[String: Any]])?.first { $0["name"] as? String == "us-east-1" }
            #expect(
                usRow?["health"] as? String != "ok", "a fenced primary is never shown OK: \(String(describing: usRow))")

            let rollback = watch.coordinator()
            let plan = await rollback.rollBack()
            if promoted {
                #expect(plan.problem == "cannot roll back: eu-west-1 was promoted: fail back instead")
            } else {
                let undo =
                    stoppedAfter == 0
                    ? ["undo: fence the old primary"] : ["undo: tell the team", "undo: fence the old primary"]
                #expect(plan.machine.attempt?.request.steps.map(\.name) == undo, "\(plan)")
                _ = await rollback.confirm(typedTarget: "eu-west-1", reason: "back out")
                await rollback.waitUntilFinished()
                let rolledBack = await rollback.snapshot
                #expect(rolledBack.machine.state == .completed, "\(rolledBack)")
                #expect(rolledBack.machine.unresolved == nil)
                #expect(acceptsWrites(cluster, "us-east-1"), "unfenced")
                #expect(try cluster.sql("us-east-1", "SELECT pg_is_in_recovery()") == "f")
                #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "t")
                // Aborted at the same point once more, to resume this time.
                #expect(
                    watch.wait(within: 20) { $0.region(named: "us-east-1")?.role == .primary } != nil
                        && watch.waitUntilGatesAllow(to: "eu-west-1") != nil)
                aborted = await abort(after: stoppedAfter, on: watch)
                #expect(aborted.machine.state == .aborted, "\(aborted)")
            }

            let resumer = watch.coordinator()
            let resumed = await resumer.resume()
            #expect(resumed.machine.state == .awaitingConfirmation, "\(resumed)")
            #expect(
                resumed.machine.attempt?.request.continuation
                    == .resumes(try #require(aborted.machine.attempt?.request.id)))
            _ = await resumer.confirm(typedTarget: "eu-west-1", reason: "finish the switchover")
            await resumer.waitUntilFinished()
            let done = await resumer.snapshot
            #expect(done.machine.state == .completed, "\(done)")
            #expect(done.machine.unresolved == nil)
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "f")
            #expect(acceptsWrites(cluster, "eu-west-1"))
            #expect(!acceptsWrites(cluster, "us-east-1"), "the old primary stays fenced")
            // Each aborted attempt ran steps 1…stoppedAfter once; the resume ran only the rest.
            let attempts = promoted ? 1 : 2
            let started = try startedSteps(scenario)
            for (index, name) in steps.enumerated() {
                let runs = (index <= stoppedAfter ? attempts : 0) + (index > stoppedAfter ? 1 : 0)
                #expect(started.filter { $0 == name }.count == runs, "\(name): \(started)")
            }
            #expect(try auditEntries(scenario).last?["resumes"] as? String == aborted.machine.attempt?.request.id)
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
            #expect(
                watch.waitUntilGatesAllow(.failover, to: "eu-west-1", within: 30) != nil,
                "\(FailoverGates.evaluate(kind: .failover, target: "eu-west-1", in: watch.state, context: FailoverGateContext()).gates)"
            )

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
                let result = try runProcess(
                    [binary, "status", "--config", configuration, "--json", "--wait", "2.5"],
                    environment: scenario.environment, timeout: 60)
                return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] ?? [:]
            }
            let before = try status()
            #expect(
                (before["failover"] as? [String: Any])?["notFenced"] as? [String] == ["us-east-1"],
                "\(before["failover"] ?? "")")

            // The old primary comes back writable: the split-brain alarm takes over.
            try cluster.start("us-east-1")
            #expect(acceptsWrites(cluster, "us-east-1"))
            #expect(acceptsWrites(cluster, "eu-west-1"))
            let after = try status()
            let split = ((after["primary"] as? [String: Any])?["splitBrain"] as? [String: Any])?["regions"] as? [String]
            #expect(split?.sorted() == ["eu-west-1", "us-east-1"], "\(after["primary"] ?? "")")
            #expect((after["failover"] as? [String: Any])?["notFenced"] as? [String] == ["us-east-1"])
        }

        /// `regionwatch failover` killed (SIGKILL) the moment each step's start is in the audit
        /// log, then a fresh process: the attempt is shown interrupted with the steps that ran,
        /// the one whose end is unknown, and a resume that completes the switchover without
        /// running any finished step again.
        @Test(arguments: 0..<4)
        func aKillDuringEachStepIsShownInterruptedAndResumesWithoutRepeatingAFinishedStep(killedIn: Int) throws {
            let scenario = try ReplicationScenario("pgkill\(killedIn)")
            defer { scenario.close() }
            let cluster = scenario.cluster
            let configuration = try plannedConfiguration(scenario)
            let environment = scenario.environment.merging(["PATH": "/usr/bin:/bin"]) { _, new in new }
            let auditPath = scenario.scratch + "/audit.jsonl"
            let steps = Self.plannedSteps
            let output = open(scenario.scratch + "/first.log", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            let input = open("/dev/null", O_RDONLY)
            let first = try ChildProcess(
                [
                    binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason", "maintenance",
                    "--yes", "--wait", "3",
                ], environment: environment, input: input, output: output, error: output)
            close(output)
            close(input)
            defer {
                kill(first.pid, SIGKILL)
                first.wait(within: 10)
            }
            let marker = "\"name\":\"\(steps[killedIn])\""
            let deadline = Date().addingTimeInterval(60)
            var seen = false
            while !seen, Date() < deadline {
                let log = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
                seen = log.split(separator: "\n").contains {
                    $0.contains(marker) && $0.contains(#""type":"step-started""#)
                }
                if !seen { usleep(2_000) }
            }
            #expect(seen, "step \(killedIn + 1) started")
            kill(first.pid, SIGKILL)
            first.wait(within: 10)
            let fenced = !acceptsWrites(cluster, "us-east-1")
            #expect(killedIn == 0 || fenced, "the fence had run")

            let status = try runProcess(
                [binary, "status", "--config", configuration, "--json", "--wait", "2.5"], environment: environment,
                timeout: 60)
            let failover =
                (try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])?[
                    "failover"] as? [String: Any]
            #expect((failover?["interrupted"] as? [[String: Any]])?.count == 1, "\(status.standardOutput)")
            let outcomes =
                ((failover?["unresolved"] as? [String: Any])?["steps"] as? [[String: Any]])?.compactMap {
                    $0["outcome"] as? String
                } ?? []
            // The steps before the kill succeeded; then (the kill lands during or just after
            // step killedIn) at most one step whose end is unknown; nothing after it ran.
            let ran = outcomes.prefix { $0 == "succeeded" }.count
            #expect(outcomes.count == steps.count && ran >= killedIn, "\(outcomes)")
            #expect(
                outcomes.dropFirst(ran).drop { $0 == "unknown" }.allSatisfy { $0 == "not run" }
                    && outcomes.filter { $0 == "unknown" }.count <= 1, "\(outcomes)")
            let finishedBefore = try startedSteps(scenario)
            let unknownStep = outcomes.firstIndex(of: "unknown")

            let resumed = try runProcess(
                [
                    binary, "failover", "--config", configuration, "--resume", "--reason", "after the crash", "--yes",
                    "--wait", "3",
                ], environment: environment, timeout: 120)
            #expect(resumed.status == 0, "\(resumed.standardOutput)\(resumed.standardError)")
            #expect(try cluster.sql("eu-west-1", "SELECT pg_is_in_recovery()") == "f")
            #expect(acceptsWrites(cluster, "eu-west-1"))
            #expect(!acceptsWrites(cluster, "us-east-1"), "the old primary is fenced")
            let all = try startedSteps(scenario)
            for (index, name) in steps.enumerated() {
                // A finished step is never run again; the unknown one and those after run once more.
                let expected = index < ran ? 1 : (index == unknownStep ? 2 : 1)
                #expect(all.filter { $0 == name }.count == expected, "\(name): before \(finishedBefore), after \(all)")
            }
            let after = try runProcess(
                [binary, "audit", "--config", configuration], environment: environment, timeout: 60)
            #expect(
                !after.standardOutput.contains("INTERRUPTED"),
                "resumed, it is no longer interrupted: \(after.standardOutput)")
            let again = try runProcess(
                [binary, "status", "--config", configuration, "--json", "--wait", "1"], environment: environment,
                timeout: 60)
            let resolved =
                (try JSONSerialization.jsonObject(with: Data(again.standardOutput.utf8)) as? [String: Any])?["failover"]
                as? [String: Any]
            #expect(resolved?["unresolved"] is NSNull, "resolved: \(again.standardOutput)")
        }

        @Test func anAbortAfterThePromotionCannotBeRolledBackAndResumesToTheEnd() async throws {
            let scenario = try ReplicationScenario("pgabortpromoted")
            defer { scenario.close() }
            let cluster = scenario.cluster
            // A step after the promotion that holds until the test lets it go: the abort is
            // requested while it runs, so the attempt stops right after it.
            let release = scenario.scratch + "/release"
            let hold =
                "    - { name: announce, kind: exec, command: [/bin/sh, -c, \"while [ ! -f \(release) ]; do sleep 0.05; done\"], timeout: 60s, undo: { kind: exec, command: [/bin/true] } }\n"
            let text = try String(contentsOfFile: try plannedConfiguration(scenario), encoding: .utf8)
            let configuration = scenario.scratch + "/held.yaml"
            try (text.trimmingCharacters(in: .newlines) + "\n" + hold).write(
                toFile: configuration, atomically: true, encoding: .utf8)
            let watch = try LiveWatch(configuration: configuration, environment: scenario.environment)
            defer { watch.close() }
            #expect(watch.waitUntilGatesAllow(to: "eu-west-1") != nil)

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
            #expect(
                await coordinator.rollBack().problem == "cannot roll back: eu-west-1 was promoted: fail back instead")
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
            let started = try String(contentsOfFile: scenario.scratch + "/audit.jsonl", encoding: .utf8).split(
                separator: "\n"
            ).filter {
                $0.contains(#""type":"step-started""#) && $0.contains(#""name":"promote""#)
            }
            #expect(started.count == 1, "promoted once")
        }
    }
}
