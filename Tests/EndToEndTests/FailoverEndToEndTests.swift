import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Failover from the keyboard and headless, on the demo and with exec steps.
    @Suite("Failover end to end", .serialized, Requirement.tmux.trait)
    struct FailoverEndToEndTests {
        let binary = Binary.path

        /// A demo configuration whose plan is `steps` (YAML list items).
        func configuration(in directory: String, steps: String, extra: String = "") throws -> String {
            let path = directory + "/failover.yaml"
            try """
            topology: checkout
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: aws, role: primary, traffic: 70 }
              - { name: eu-west-1, provider: aws, role: standby, traffic: 30 }
              - { name: ap-southeast-1, provider: gcp, role: standby, traffic: 0 }
            collectors:
              - kind: simulator
                interval: 1s
                scriptedIncident: false
            failover:
              auditLog: \(directory)/audit.jsonl
            \(extra)
              plan:
            \(steps)
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test func headlessExitStatusesDryRunAndConfirmation() throws {
            let scratch = Binary.scratchDirectory("headless")
            let script = scratch + "/fail.sh"
            try "#!/bin/sh\necho \"dns api refused: $REGIONWATCH_TO\" >&2\nexit 4\n".write(
                toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            let failing = try configuration(
                in: scratch,
                steps: """
                        - { name: fence, kind: simulated, change: fence }
                        - { name: switch dns, kind: exec, command: [\(script), "{to}"], timeout: 10s }
                    """)
            let environment = ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]
            let dryRun = try runProcess(
                [binary, "failover", "--config", failing, "--to", "eu-west-1", "--dry-run", "--wait", "2"],
                environment: environment, timeout: 60)
            #expect(dryRun.status == 0, "\(dryRun.standardError)")
            // The result goes to standard output (`--dry-run > plan.txt` keeps it) and says so.
            #expect(dryRun.standardOutput.contains("PLAN"), "\(dryRun.standardOutput)")
            #expect(dryRun.standardOutput.contains("CANDIDATES"))
            #expect(dryRun.standardOutput.hasSuffix("dry run: nothing executed\n"))
            #expect(!FileManager.default.fileExists(atPath: scratch + "/audit.jsonl"), "a dry run records nothing")

            let notTerminal = try runProcess(
                [binary, "failover", "--config", failing, "--to", "eu-west-1", "--reason", "x", "--wait", "2"],
                environment: environment, timeout: 60)
            #expect(notTerminal.status == 2)
            #expect(notTerminal.standardError.contains("not confirmed: standard input is not a terminal"))

            let failed = try runProcess(
                [
                    binary, "failover", "--config", failing, "--to", "eu-west-1", "--reason", "dns cutover", "--yes",
                    "--wait", "2", "--json",
                ], environment: environment, timeout: 120)
            #expect(failed.status == 1, "\(failed.standardError)")
            #expect(failed.standardError.contains("dns api refused: eu-west-1"))
            let record = try JSONSerialization.jsonObject(with: Data(failed.standardOutput.utf8)) as? [String: Any]
            #expect(record?["state"] as? String == "failed")
            let steps = record?["steps"] as? [[String: Any]]
            #expect(steps?.map { $0["outcome"] as? String } == ["succeeded", "failed"])
            #expect((steps?.last?["output"] as? String)?.contains("[exit status 4]") == true)

            let recordsBefore = try String(contentsOfFile: scratch + "/audit.jsonl", encoding: .utf8)
            let unknown = try runProcess(
                [
                    binary, "failover", "--config", failing, "--to", "mars-1", "--reason", "x", "--yes", "--force",
                    "target-healthy", "--wait", "1",
                ], environment: environment, timeout: 60)
            #expect(unknown.status == 2)
            #expect(
                unknown.standardError.contains(
                    "mars-1 is not a configured region; regions: us-east-1, eu-west-1, ap-southeast-1"),
                "\(unknown.standardError)")
            #expect(
                try String(contentsOfFile: scratch + "/audit.jsonl", encoding: .utf8) == recordsBefore,
                "an impossible target records nothing")
            let audit = try runProcess([binary, "audit", "--config", failing], environment: environment, timeout: 30)
            #expect(audit.standardOutput.contains("FAILED"), "\(audit.standardOutput)")
        }

        @Test func aSecondRegionwatchIsRefusedByTheLockAndACrashIsShownAtTheNextStart() throws {
            let scratch = Binary.scratchDirectory("lock")
            let slow = try configuration(
                in: scratch,
                steps: """
                        - { name: slow step, kind: exec, command: [/bin/sleep, "30"], timeout: 60s }
                    """)
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
            let second = try runProcess(
                [
                    binary, "failover", "--config", slow, "--to", "ap-southeast-1", "--reason", "second", "--yes",
                    "--wait", "1",
                ], environment: environment, timeout: 60)
            #expect(second.status == 2)
            #expect(second.standardError.contains("lock: another failover holds the lock:"), "\(second.standardError)")
            #expect(
                second.standardError.contains("(pid \(first.pid), failover to eu-west-1)")
                    || second.standardError.contains("(pid \(first.pid), switchover to eu-west-1)"),
                "names the holder: \(second.standardError)")

            // The first dies mid-step: the next start shows the interrupted failover.
            kill(first.pid, SIGKILL)
            first.wait(within: 10)
            let audit = try runProcess([binary, "audit", "--config", slow], environment: environment, timeout: 30)
            #expect(audit.standardOutput.contains("INTERRUPTED"), "\(audit.standardOutput)")
            let session = try TmuxSession(
                "'\(binary)' --config '\(slow)'", width: 140, height: 45, environment: ["XDG_STATE_HOME": scratch])
            defer { session.close() }
            #expect(session.waitFor("INTERRUPTED FAILOVER: press a"), "\(session.screen())")
            try session.send("a")
            #expect(session.waitFor("started, never finished"), "\(session.screen())")
            try session.send("A")
            #expect(session.waitFor("A again confirms"), "acknowledging asks first: \(session.screen())")
            try session.send("A")
            #expect(session.waitFor("acknowledged the interrupted"), "\(session.screen())")
            #expect(eventually(within: 10) { !session.screen().contains("INTERRUPTED FAILOVER: press a") })
            #expect(session.waitFor("acknowledged by"), "the record stays listed: \(session.screen())")
            let listed = try runProcess([binary, "audit", "--config", slow], environment: environment, timeout: 30)
            #expect(
                listed.standardOutput.contains("INTERRUPTED") && listed.standardOutput.contains("acknowledged by"),
                "\(listed.standardOutput)")
        }

        @Test func httpStepAndTypedConfirmationOnATerminal() throws {
            let scratch = Binary.scratchDirectory("http")
            let served = scratch + "/www"
            try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
            try "switched\n".write(toFile: served + "/eu-west-1", atomically: true, encoding: .utf8)
            let port = LoopbackPort.free()
            let server = try BackgroundService(
                "http-server",
                ["/usr/bin/python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", served],
                directory: scratch)
            defer { server.kill() }
            #expect(server.waitUntilReady("http://127.0.0.1:\(port)/eu-west-1"), "\(server.output)")
            let configuration = try configuration(
                in: scratch,
                steps: """
                        - { name: notify, kind: http, method: GET, url: "http://127.0.0.1:\(port)/{to}", expectStatus: 200, timeout: 5s }
                        - { name: missing page, kind: http, method: GET, url: "http://127.0.0.1:\(port)/{from}", expectStatus: 200, timeout: 5s, onFailure: continue }
                    """)
            // No --yes: the command asks for the target's name on the terminal.
            let session = try TmuxSession(
                "'\(binary)' failover --config '\(configuration)' --to eu-west-1 --reason 'typed on a terminal' --wait 2; echo \"EXIT=$?\"",
                width: 140, height: 45, environment: ["XDG_STATE_HOME": scratch])
            defer { session.close() }
            #expect(session.waitFor("Type the target region's name (eu-west-1) to confirm:"), "\(session.screen())")
            try session.type("eu-west-1")
            try session.send("Enter")
            #expect(session.waitFor("EXIT=0", within: 60), "\(session.screen())")
            let screen = session.screen()
            #expect(screen.contains("1. notify: succeeded"), "\(screen)")
            #expect(screen.contains("2. missing page: failed"), "\(screen)")
            #expect(screen.contains("Error code: 404"), "\(screen)")
            let audit = try String(contentsOfFile: scratch + "/audit.jsonl", encoding: .utf8)
            #expect(audit.contains("HTTP 404"), "the response is in the audit record")
            #expect(audit.contains("typed on a terminal"))
            #expect(screen.contains("COMPLETED"), "onFailure: continue")
        }

    }
}

extension EndToEnd.FailoverEndToEndTests {
    /// A demo plan of simulated steps with a ten-minute cool-down.
    func coolingConfiguration(in scratch: String) throws -> String {
        try configuration(
            in: scratch,
            steps: """
                    - { name: fence, kind: simulated, change: fence, timeout: 4s }
                    - { name: promote, kind: simulated, change: promote, timeout: 4s }
                """, extra: "  coolDown: 10m")
    }

    @Test func retriesRefusalsAndDryRunsNeverResetTheCoolDown() throws {
        let scratch = Binary.scratchDirectory("cooldown")
        let configuration = try coolingConfiguration(in: scratch)
        let environment = ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]
        func failover(_ extra: [String]) throws -> ProcessResult {
            try runProcess(
                [binary, "failover", "--config", configuration, "--to", "eu-west-1", "--wait", "2"] + extra,
                environment: environment, timeout: 120)
        }
        let first = try failover(["--reason", "first", "--yes"])
        #expect(first.status == 0, "\(first.standardOutput)\(first.standardError)")
        for attempt in 2...3 {
            let again = try failover(["--reason", "retry \(attempt)", "--yes"])
            #expect(again.status == 2, "attempt \(attempt) is refused: \(again.standardOutput)")
            #expect(
                again.standardError.contains("cool-down: eu-west-1 ← us-east-1 switchover completed"),
                "names the completed one: \(again.standardError)")
            #expect(again.standardError.contains("ago by "), "\(again.standardError)")
            let dryRun = try failover(["--dry-run"])
            #expect(dryRun.status == 2)
            #expect(dryRun.standardOutput.contains("FAIL    cool-down"), "\(dryRun.standardOutput)")
        }
        let forced = try failover(["--reason", "second region failing", "--force", "cool-down", "--yes", "--json"])
        #expect(forced.status == 0, "\(forced.standardError)")
        let record = try JSONSerialization.jsonObject(with: Data(forced.standardOutput.utf8)) as? [String: Any]
        let coolDown = (record?["gates"] as? [[String: Any]])?.first { $0["gate"] as? String == "cool-down" }
        #expect(
            coolDown?["forcedReason"] as? String == "second region failing", "the force and its reason are recorded")
        let records = try String(contentsOfFile: scratch + "/audit.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(records.filter { $0.contains(#""state":"refused""#) }.count == 2)
        #expect(records.filter { $0.contains(#""state":"completed""#) }.count == 2)
        #expect(!records.contains { $0.contains(#""state":"aborted""#) }, "dry runs record nothing")
    }

    /// The audit log on a full filesystem (a small tmpfs; mounting needs root, as in CI).
    @Test(
        .enabled(
            if: getuid() == 0 || Requirement.isEnforced,
            "mounting a tmpfs for the full-disk test needs root (CI runs as root)"))
    func aFullDiskStopsAHeadlessFailoverAndSaysWhy() throws {
        let disk = Binary.scratchDirectory("full-disk")
        guard mount("tmpfs", disk, "tmpfs", 0, "size=64k") == 0 else {
            Issue.record("cannot mount a tmpfs as root: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(disk, Int32(MNT_DETACH)) }
        let configuration = try coolingConfiguration(in: disk)
        let filler = open(disk + "/filler", O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(filler, $0.baseAddress, $0.count) }) > 0 {}
        close(filler)
        let environment = ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": disk]
        let result = try runProcess(
            [
                binary, "failover", "--config", configuration, "--to", "eu-west-1", "--reason", "r", "--yes", "--wait",
                "2",
            ], environment: environment, timeout: 120)
        #expect(result.status == 1)
        // Before the fix it exited 1 and printed no reason.
        #expect(
            result.standardError.contains(
                "stopped: audit log: cannot write \(disk)/audit.jsonl: No space left on device; stopping"),
            "\(result.standardError)")
    }

    @Test func impossibleRequestsAreUsageErrorsBeforeAnythingRuns() throws {
        let scratch = Binary.scratchDirectory("usage")
        let configuration = try coolingConfiguration(in: scratch)
        let environment = ["PATH": "/usr/bin:/bin", "XDG_STATE_HOME": scratch]
        func run(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(
                [binary, "failover", "--config", configuration, "--wait", "2"] + arguments, environment: environment,
                timeout: 60)
        }
        let unknownGate = try run(["--to", "eu-west-1", "--reason", "r", "--force", "nosuch"])
        #expect(unknownGate.status == 2)
        #expect(
            unknownGate.standardError.contains(
                "--force nosuch: not a gate; one of target-healthy, lag-within-rpo, lock, cool-down, rejoined"),
            "\(unknownGate.standardError)")
        let noReason = try run(["--to", "eu-west-1", "--yes"])
        #expect(noReason.status == 2)
        #expect(noReason.standardError.contains("--reason TEXT is required"), "\(noReason.standardError)")
        let toThePrimary = try run(["--to", "us-east-1", "--reason", "r", "--force", "lag-within-rpo", "--yes"])
        #expect(toThePrimary.status == 2)
        #expect(
            toThePrimary.standardError.contains(
                "us-east-1 is the current primary; valid targets now: eu-west-1, ap-southeast-1"),
            "\(toThePrimary.standardError)")
        // A failback needs no --to: it returns the role to the configured primary, which is
        // the primary already here.
        let failback = try run(["--failback", "--reason", "r", "--yes"])
        #expect(failback.status == 2)
        #expect(failback.standardError.contains("us-east-1 is the current primary"), "\(failback.standardError)")
        #expect(!(failback.standardOutput + failback.standardError).contains("us-east-1 → us-east-1"))
        #expect(!FileManager.default.fileExists(atPath: scratch + "/audit.jsonl"), "nothing recorded")
    }
}
