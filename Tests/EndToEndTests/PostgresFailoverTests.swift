import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Failover of a real PostgreSQL primary to its streaming standby.
    @Suite("PostgreSQL failover", .serialized, Requirement.postgreSQL.trait, Requirement.tmux.trait)
    struct PostgresFailoverTests {
        let binary = Binary.path

        func configuration(
            _ cluster: PostgresCluster, in directory: String, rpo: String = "30s", lock: String = ""
        ) throws -> String {
            let script = directory + "/record.sh"
            try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"\(directory)/exec-args.txt\"\necho recorded\n".write(
                toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            let primary = "postgres://postgres@127.0.0.1:\(cluster.primaryPort)/postgres?sslmode=disable"
            let standby = "postgres://postgres@127.0.0.1:\(cluster.port(of: "eu-west-1"))/postgres?sslmode=disable"
            let path = directory + "/pg-failover.yaml"
            try """
            topology: pg-failover
            pattern: active-passive
            objectives: { rpo: \(rpo), rto: 5m }
            regions:
              - { name: us-east-1, provider: local, role: primary, traffic: 100 }
              - { name: eu-west-1, provider: local, role: standby, traffic: 0 }
            collectors:
              - { kind: postgres, region: us-east-1, dsn: "\(primary)", standbys: { eu-west-1: eu-west-1 }, interval: 1s }
              - { kind: postgres, region: eu-west-1, dsn: "\(standby)", interval: 1s }
            failover:
              auditLog: \(directory)/audit.jsonl
            \(lock)
              plan:
                - { name: fence the old primary, kind: postgres-fence, dsnByRegion: { us-east-1: "\(primary)" }, timeout: 10s }
                - { name: promote the standby, kind: postgres-promote, dsnByRegion: { eu-west-1: "\(standby)" }, timeout: 30s }
                - { name: record, kind: exec, command: [\(script), "{from}", "{to}", "{reason}"], timeout: 10s }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func auditRecords(_ directory: String) throws -> [[String: Any]] {
            try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        @Test func keyboardSwitchoverFencesPromotesAndRecords() throws {
            let cluster = try PostgresCluster(standbys: ["eu-west-1"])
            defer { cluster.close() }
            let scratch = Binary.scratchDirectory("pgfailover")
            let configuration = try configuration(cluster, in: scratch)
            let session = try TmuxSession("'\(binary)' --config '\(configuration)'", width: 140, height: 45)
            defer { session.close() }
            #expect(session.waitFor("● 2 ok", "streaming"), "\(session.screen())")
            try session.send("j", "F")
            #expect(
                session.waitFor("SWITCHOVER  us-east-1 → eu-west-1", "Type the target region's name"),
                "\(session.screen())")
            try session.type("eu-west-1")
            try session.send("Enter")
            try session.type("move the primary to eu-west-1")
            try session.send("Enter")
            #expect(session.waitFor("COMPLETED · measured RTO", within: 90), "\(session.screen())")

            // The promoted standby takes writes; the fenced old primary refuses them.
            try cluster.sql(
                "eu-west-1", "CREATE TABLE written_after_failover(x int); INSERT INTO written_after_failover VALUES (1)"
            )
            #expect(throws: HarnessError.self) { try cluster.sql("primary", "CREATE TABLE must_fail(x int)") }
            do {
                try cluster.sql("primary", "CREATE TABLE must_fail(x int)")
            } catch {
                #expect("\(error)".contains("read-only transaction"), "\(error)")
            }
            #expect(
                try String(contentsOfFile: scratch + "/exec-args.txt", encoding: .utf8)
                    == "us-east-1\neu-west-1\nmove the primary to eu-west-1\n")

            let records = try auditRecords(scratch)
            let finished = try #require(records.last { $0["type"] as? String == "finished" })
            #expect(finished["state"] as? String == "completed")
            let steps = finished["steps"] as? [[String: Any]] ?? []
            #expect(
                steps.map { $0["name"] as? String } == [
                    "fence the old primary", "wait for the target to catch up", "promote the standby", "record",
                ])
            #expect(steps.allSatisfy { $0["outcome"] as? String == "succeeded" }, "\(steps)")
            #expect((steps[2]["output"] as? String)?.contains("write check: txid_current()") == true)
            #expect((finished["measuredRtoSeconds"] as? Double ?? 0) > 0)
            #expect(records.filter { $0["type"] as? String == "step-finished" }.count == 4)
            try session.send("Enter")
            #expect(
                eventually(within: 15) {
                    session.screen().split(separator: "\n").contains {
                        $0.contains("eu-west-1") && $0.contains("┃") && $0.contains("primary")
                    }
                }, "\(session.screen())")
        }

        @Test func theRPOGateRefusesAPausedStandbyUntilForcedAndFailingStepsFail() throws {
            let cluster = try PostgresCluster(standbys: ["eu-west-1"])
            defer { cluster.close() }
            let scratch = Binary.scratchDirectory("pgrpo")
            let configuration = try configuration(cluster, in: scratch, rpo: "1s")
            let environment = ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]
            // A standby that does not receive (a paused replay loses nothing on promotion: what
            // was received is replayed first).
            try cluster.repoint("eu-west-1", to: nil)
            try cluster.sql("primary", "CREATE TABLE writes(x int)")
            var refused = ProcessResult(status: -1, standardOutput: "", standardError: "")
            #expect(
                eventually(within: 60) {
                    _ = try? cluster.sql("primary", "INSERT INTO writes SELECT generate_series(1, 1000)")
                    refused =
                        (try? runProcess(
                            [
                                binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason", "try",
                                "--yes", "--wait", "2.5",
                            ], environment: environment, timeout: 60)) ?? refused
                    return refused.status == 2
                }, "\(refused.standardError)")
            #expect(refused.standardError.contains("refused: lag-within-rpo: data loss"), "\(refused.standardError)")

            // A step that fails stops the attempt, with its output in the audit log.
            let failing = scratch + "/failing.yaml"
            let original = try String(contentsOfFile: configuration, encoding: .utf8)
            let head = original[..<original.range(of: "failover:")!.lowerBound]
            try
                (head + """
                    failover:
                      auditLog: \(scratch)/audit-2.jsonl
                      coolDown: 0s
                      plan:
                        - { name: broken step, kind: exec, command: [/bin/sh, -c, "echo step broke >&2; exit 7"], timeout: 10s }
                    """).write(toFile: failing, atomically: true, encoding: .utf8)
            let failed = try runProcess(
                [
                    binary, "failover", "--config", failing, "--to", "eu-west-1", "--reason", "try the runbook",
                    "--force", "lag-within-rpo", "--yes", "--wait", "2", "--json",
                ], environment: environment, timeout: 120)
            #expect(failed.status == 1, "\(failed.standardError)")
            let failedRecord =
                try JSONSerialization.jsonObject(with: Data(failed.standardOutput.utf8)) as? [String: Any]
            let lastStep = (failedRecord?["steps"] as? [[String: Any]])?.last
            #expect(lastStep?["outcome"] as? String == "failed")
            #expect((lastStep?["output"] as? String)?.contains("step broke") == true)

            let forced = try runProcess(
                [
                    binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason",
                    "primary region lost", "--force", "lag-within-rpo", "--yes", "--wait", "2", "--json",
                ], environment: environment, timeout: 120)
            #expect(forced.status == 0, "\(forced.standardError)")
            let record = try JSONSerialization.jsonObject(with: Data(forced.standardOutput.utf8)) as? [String: Any]
            let gate = (record?["gates"] as? [[String: Any]])?.first { $0["gate"] as? String == "lag-within-rpo" }
            #expect(gate?["passed"] as? Bool == false)
            #expect(gate?["forcedReason"] as? String == "primary region lost")
            #expect(
                ((record?["dataLoss"] as? [String: Any])?["knownBytes"] as? Double ?? 0) > 0,
                "the known data loss is recorded: \(record?["dataLoss"] ?? "")")
            try cluster.sql("eu-west-1", "CREATE TABLE accepted(x int)")
        }

        @Test func aPostgresAdvisoryLockExcludesASecondOperator() throws {
            let cluster = try PostgresCluster(standbys: ["eu-west-1"])
            defer { cluster.close() }
            let scratch = Binary.scratchDirectory("pglock")
            let lockDSN = "postgres://postgres@127.0.0.1:\(cluster.primaryPort)/postgres?sslmode=disable"
            let configuration = try configuration(
                cluster, in: scratch, lock: "  lock: postgres\n  lockDsn: \"\(lockDSN)\"")
            let slow = scratch + "/slow.yaml"
            try String(contentsOfFile: configuration, encoding: .utf8)
                .replacingOccurrences(
                    of: "    - { name: fence the old primary",
                    with:
                        "    - { name: slow, kind: exec, command: [/bin/sleep, \"20\"], timeout: 60s }\n    - { name: fence the old primary"
                )
                .write(toFile: slow, atomically: true, encoding: .utf8)
            let environment = ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]
            let output = open(scratch + "/first.log", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            let input = open("/dev/null", O_RDONLY)
            let first = try ChildProcess(
                [
                    binary, "failover", "--config", slow, "--to", "eu-west-1", "--reason", "first", "--yes", "--wait",
                    "2",
                ], environment: environment, input: input, output: output, error: output)
            close(output)
            close(input)
            defer {
                kill(first.pid, SIGKILL)
                first.wait(within: 10)
            }
            #expect(
                eventually(within: 60) {
                    ((try? String(contentsOfFile: scratch + "/audit.jsonl", encoding: .utf8)) ?? "").contains(
                        "step-started")
                })
            // A different audit log: only the PostgreSQL lock can exclude this one.
            let other = scratch + "/other.yaml"
            try String(contentsOfFile: slow, encoding: .utf8).replacingOccurrences(
                of: "\(scratch)/audit.jsonl", with: "\(scratch)/other-audit.jsonl"
            ).write(toFile: other, atomically: true, encoding: .utf8)
            let second = try runProcess(
                [
                    binary, "failover", "--config", other, "--to", "eu-west-1", "--reason", "second", "--yes", "--wait",
                    "1.5",
                ], environment: environment, timeout: 60)
            #expect(second.status == 2, "\(second.standardError)")
            #expect(second.standardError.contains("lock: another failover holds the lock:"), "\(second.standardError)")
            #expect(
                second.standardError.contains("PostgreSQL advisory lock at 127.0.0.1:\(cluster.primaryPort)"),
                "\(second.standardError)")
        }
    }
}

extension EndToEnd.PostgresFailoverTests {
    /// Operators on different machines (different state directories) sharing the lock and the
    /// history on one PostgreSQL server, with a demo topology and `plan` (YAML list items).
    struct SharedHistory {
        let cluster: PostgresCluster
        let scratch: String
        let configuration: String

        init(_ name: String, plan: String) throws {
            cluster = try PostgresCluster(standbys: [])
            scratch = Binary.scratchDirectory(name)
            configuration = scratch + "/shared.yaml"
            let lockDSN = "postgres://postgres@127.0.0.1:\(cluster.primaryPort)/postgres?sslmode=disable"
            do {
                try """
                topology: checkout
                pattern: active-passive
                objectives: { rpo: 30s, rto: 5m }
                regions:
                  - { name: us-east-1, provider: aws, role: primary, traffic: 70 }
                  - { name: eu-west-1, provider: aws, role: standby, traffic: 30 }
                  - { name: ap-southeast-1, provider: gcp, role: standby, traffic: 0 }
                collectors:
                  - { kind: simulator, interval: 1s, scriptedIncident: false }
                failover:
                  coolDown: 10m
                  lock: postgres
                  lockDsn: "\(lockDSN)"
                  plan:

                """.appending(plan).write(toFile: configuration, atomically: true, encoding: .utf8)
            } catch {
                cluster.close()
                throw error
            }
        }

        /// Operator `name`'s machine: its own state directory and user.
        func environment(_ name: String) -> [String: String] {
            ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch + "/" + name, "USER": name]
        }

        func close() { cluster.close() }
    }

    /// Two operators on different machines (different state directories) sharing the lock and
    /// the history on PostgreSQL: the second sees the first's failover in its cool-down.
    @Test func twoOperatorsShareTheHistoryAndItsCoolDown() throws {
        let shared = try SharedHistory(
            "shared-history",
            plan: """
                    - { name: fence, kind: simulated, change: fence, timeout: 4s }
                    - { name: promote, kind: simulated, change: promote, timeout: 4s }

                """)
        defer { shared.close() }
        let (cluster, scratch, configuration) = (shared.cluster, shared.scratch, shared.configuration)
        let operatorEnvironment = shared.environment
        let first = try runProcess(
            [
                binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason", "alice's drill",
                "--yes", "--wait", "2",
            ], environment: operatorEnvironment("alice"), timeout: 120)
        #expect(first.status == 0, "\(first.standardOutput)\(first.standardError)")
        let second = try runProcess(
            [
                binary, "failover", "--config", configuration, "--to", "ap-southeast-1", "--reason", "bob's", "--yes",
                "--wait", "2",
            ], environment: operatorEnvironment("bob"), timeout: 120)
        #expect(second.status == 2, "\(second.standardOutput)\(second.standardError)")
        #expect(
            second.standardError.contains("cool-down: eu-west-1 ← us-east-1 switchover completed"),
            "\(second.standardError)")
        #expect(second.standardError.contains("ago by alice@"), "names the other operator: \(second.standardError)")
        // Bob's machine lists Alice's failover; Bob's local file holds only his own refusal.
        let audit = try runProcess(
            [binary, "audit", "--config", configuration], environment: operatorEnvironment("bob"), timeout: 60)
        #expect(audit.standardOutput.contains("COMPLETED switchover us-east-1 → eu-west-1"), "\(audit.standardOutput)")
        #expect(audit.standardOutput.contains("by alice@"))
        let lines = try runProcess(
            [binary, "audit", "--config", configuration, "--json"], environment: operatorEnvironment("bob"), timeout: 60
        )
        let operators = Set(
            lines.standardOutput.split(separator: "\n").compactMap { line in
                ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["operator"] as? String
            }.map { String($0.prefix { $0 != "@" }) })
        #expect(operators == ["alice", "bob"], "every operator's records, as JSON lines: \(lines.standardOutput)")
        let bobsFile = try String(contentsOfFile: scratch + "/bob/regionwatch/audit.jsonl", encoding: .utf8)
        #expect(!bobsFile.contains(#""operator":"alice@"#), "\(bobsFile)")
        #expect(bobsFile.contains(#""operator":"bob@"#))
        // The table is append-only.
        #expect(
            try cluster.sql("primary", "SELECT count(*) FROM regionwatch_audit WHERE operator LIKE 'alice@%'")
                .trimmingCharacters(in: .whitespacesAndNewlines) != "0")
        #expect(throws: (any Error).self) {
            try cluster.sql("primary", "UPDATE regionwatch_audit SET operator = 'mallory'")
        }
        #expect(throws: (any Error).self) { try cluster.sql("primary", "DELETE FROM regionwatch_audit") }
    }

    /// Alice's failover fails half-way; Bob, on another machine (another state directory),
    /// sees it half-done in the shared history and rolls it back.
    @Test func anotherOperatorSeesAHalfDoneAttemptInTheSharedHistoryAndRollsItBack() throws {
        let shared = try SharedHistory(
            "shared-unresolved",
            plan: """
                    - { name: fence, kind: simulated, change: fence, timeout: 4s }
                    - { name: page the team, kind: exec, command: [/bin/sh, -c, "echo pager down >&2; exit 3"], timeout: 4s }
                    - { name: promote, kind: simulated, change: promote, timeout: 4s }

                """)
        defer { shared.close() }
        let (scratch, configuration) = (shared.scratch, shared.configuration)
        let operatorEnvironment = shared.environment
        let alice = try runProcess(
            [
                binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason", "alice's move", "--yes",
                "--wait", "2",
            ], environment: operatorEnvironment("alice"), timeout: 120)
        #expect(alice.status == 1, "\(alice.standardOutput)\(alice.standardError)")
        func unresolved(_ name: String) throws -> [String: Any]? {
            let status = try runProcess(
                [binary, "status", "--config", configuration, "--json", "--wait", "1"],
                environment: operatorEnvironment(name), timeout: 60)
            return
                ((try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])?[
                    "failover"] as? [String: Any])?["unresolved"] as? [String: Any]
        }
        let seenByBob = try unresolved("bob")
        #expect(
            (seenByBob?["steps"] as? [[String: Any]])?.compactMap { $0["outcome"] as? String } == [
                "succeeded", "failed", "skipped", "skipped",
            ], "\(String(describing: seenByBob))")
        let rollBack = try runProcess(
            [
                binary, "failover", "--config", configuration, "--roll-back", "--reason", "bob backs alice's move out",
                "--yes", "--wait", "2",
            ], environment: operatorEnvironment("bob"), timeout: 120)
        #expect(
            rollBack.status == 0,
            "Bob finds Alice's attempt in the shared history: \(rollBack.standardOutput)\(rollBack.standardError)")
        #expect(rollBack.standardOutput.contains("undo: fence"), "\(rollBack.standardOutput)")
        #expect(try unresolved("alice") == nil, "resolved for Alice too")
        let bobsFile = try String(contentsOfFile: scratch + "/bob/regionwatch/audit.jsonl", encoding: .utf8)
        #expect(bobsFile.contains(#""rollsBack":"#), "\(bobsFile)")
    }
}
