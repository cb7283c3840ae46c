import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Drives the real binary in a real terminal (tmux): what a person would see and do.
    @Suite("End to end in tmux", .serialized, Requirement.tmux.trait)
    struct DashboardEndToEndTests {
        let binary = Binary.path

        @Test func startsWithTheDemoShowingThreeRegionsAndTheHeader() throws {
            let session = try TmuxSession("'\(binary)'")
            defer { session.close() }
            #expect(
                session.waitFor(
                    "checkout", "active-active", "RPO 30s", "RTO 5m", "us-east-1", "eu-west-1", "ap-southeast-1", "UTC"),
                "\(session.screen())")
            #expect(session.waitFor("Replication", "Failover", "no failover in progress", "Recent events"))
            #expect(session.screen().contains("DEMO"))
            #expect(session.isAlternateScreenOn)
        }

        @Test func survivesResizingToSixtyByFifteenAndBack() throws {
            let session = try TmuxSession("'\(binary)'")
            defer { session.close() }
            #expect(session.waitFor("Regions"))
            try session.resize(width: 60, height: 15)
            #expect(session.waitFor("● us-east-1", "lag"), "compact layout: \(session.screen())")
            #expect(!session.screen().contains("Replication"))
            try session.resize(width: 30, height: 6)
            #expect(session.waitFor("checkout"))
            try session.resize(width: 120, height: 40)
            #expect(session.waitFor("Regions", "Replication", "Recent events"))
            #expect(session.exitStatus == nil, "still running")
        }

        @Test func quitRestoresTheTerminal() throws {
            let session = try TmuxSession(
                "stty -g > \"$XDG_STATE_HOME/before\"; '\(binary)'; echo \"EXIT=$?\"; stty -g > \"$XDG_STATE_HOME/after\"; echo DONE"
            )
            defer { session.close() }
            #expect(session.waitFor("us-east-1"))
            #expect(session.isAlternateScreenOn)
            #expect(session.isKeypadModeOn, "the dashboard turns keypad mode on")
            try session.send("q")
            #expect(session.waitFor("EXIT=0", "DONE"), "\(session.screen())")
            #expect(!session.isAlternateScreenOn)
            #expect(!session.isKeypadModeOn)
            let before = try String(contentsOfFile: session.scratch + "/before", encoding: .utf8)
            let after = try String(contentsOfFile: session.scratch + "/after", encoding: .utf8)
            #expect(before == after, "stty settings unchanged")
        }

        @Test(arguments: [("INT", SIGINT, 130), ("TERM", SIGTERM, 143), ("HUP", SIGHUP, 129)])
        func signalsRestoreTheTerminal(name: String, signal: Int32, expectedStatus: Int) throws {
            // The inner shell records its pid, then becomes the dashboard (exec keeps the pid and
            // the terminal as standard input).
            let session = try TmuxSession(
                "stty -g > \"$XDG_STATE_HOME/before\"; sh -c 'echo $$ > \"$XDG_STATE_HOME/pid\"; exec \"$0\"' '\(binary)'; echo \"EXIT=$?\"; stty -g > \"$XDG_STATE_HOME/after\"; echo DONE",
                label: "signal\(name)")
            defer { session.close() }
            #expect(session.waitFor("us-east-1"), "\(session.screen())")
            let pid = try #require(
                Int32(
                    String(contentsOfFile: session.scratch + "/pid", encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines)))
            kill(pid, signal)
            #expect(session.waitFor("EXIT=\(expectedStatus)", "DONE"), "\(session.screen())")
            #expect(!session.isAlternateScreenOn)
            let before = try String(contentsOfFile: session.scratch + "/before", encoding: .utf8)
            let after = try String(contentsOfFile: session.scratch + "/after", encoding: .utf8)
            #expect(before == after)
        }

        @Test func aCrashStillRestoresTheTerminal() throws {
            let session = try TmuxSession(
                "stty -g > \"$XDG_STATE_HOME/before\"; '\(binary)' 2> \"$XDG_STATE_HOME/stderr\"; echo \"EXIT=$?\"; stty -g > \"$XDG_STATE_HOME/after\"; echo DONE",
                environment: ["REGIONWATCH_TEST_CRASH_AFTER_FIRST_FRAME": "1", "SWIFT_BACKTRACE": "enable=no"])
            defer { session.close() }
            #expect(session.waitFor("DONE", within: 20), "\(session.screen())")
            let screen = session.screen()
            #expect(
                screen.contains("EXIT=132") || screen.contains("EXIT=133") || screen.contains("EXIT=134"),
                "died from the trap: \(screen)")
            #expect(!session.isAlternateScreenOn)
            #expect(!session.isKeypadModeOn, "keypad mode is reset, as on a normal exit")
            let before = try String(contentsOfFile: session.scratch + "/before", encoding: .utf8)
            let after = try String(contentsOfFile: session.scratch + "/after", encoding: .utf8)
            #expect(before == after, "terminal settings restored after a crash")
        }

        @Test func ctrlCTypedAtTheKeyboardQuitsCleanly() throws {
            // The trap keeps the parent shell alive (it gets the same SIGINT) to report the status.
            let session = try TmuxSession("trap 'echo SHELL-INT' INT; '\(binary)'; echo \"EXIT=$?\"")
            defer { session.close() }
            #expect(session.waitFor("us-east-1"))
            try session.send("C-c")
            #expect(session.waitFor("EXIT=130"), "\(session.screen())")
            #expect(!session.isAlternateScreenOn)
        }

        @Test func noColorMeansNoColourEscapes() throws {
            let colored = try TmuxSession("'\(binary)'")
            defer { colored.close() }
            #expect(colored.waitFor("us-east-1"))
            #expect(colored.screen(colors: true).contains("\u{1B}[38;5;"), "256-colour output by default")
            let plain = try TmuxSession("'\(binary)'", environment: ["NO_COLOR": "1"])
            defer { plain.close() }
            #expect(plain.waitFor("us-east-1"))
            let escapes = plain.screen(colors: true)
            let colourCodes =
                ["38;5;", "48;5;", "38;2;", "48;2;"] + (30...37).map { "[\($0)m" } + (40...47).map { "[\($0)m" }
                + (90...97).map { "[\($0)m" }
            #expect(!colourCodes.contains { escapes.contains($0) }, "no colour with NO_COLOR")
            #expect(escapes.contains("\u{1B}[1m") || escapes.contains("\u{1B}[7m"), "attributes remain")
        }

        @Test(arguments: [
            ("TERM", "dumb", "cannot move the cursor"), ("TERM", "vt999-nonexistent", "unknown to terminfo"),
            ("UNSET", "", "TERM is not set"),
        ])
        func unusableTerminalsGetAOneLineMessageAndStatusThree(variable: String, value: String, message: String) throws
        {
            let command = variable == "UNSET" ? "unset TERM; '\(binary)'" : "TERM='\(value)' '\(binary)'"
            let session = try TmuxSession("\(command) 2> \"$XDG_STATE_HOME/stderr\"; echo \"EXIT=$?\"")
            defer { session.close() }
            #expect(session.waitFor("EXIT=3"), "\(session.screen())")
            let stderr = try String(contentsOfFile: session.scratch + "/stderr", encoding: .utf8)
            #expect(stderr.contains(message) && stderr.contains("regionwatch status"))
            #expect(stderr.split(separator: "\n").count == 1)
            #expect(!stderr.contains("\u{1B}"))
            #expect(!session.isAlternateScreenOn)
        }

        @Test func standardOutputNotATerminalExitsThreeWithoutEscapes() throws {
            let result = try runProcess(
                [binary], environment: ["TERM": "xterm-256color", "HOME": NSTemporaryDirectory()], timeout: 20)
            #expect(result.status == 3)
            #expect(result.standardError.contains("is not a terminal"))
            #expect(result.standardError.contains("regionwatch status"))
            #expect(result.standardOutput.isEmpty)
            #expect(!result.standardError.contains("\u{1B}"))
        }

        @Test func standardInputAtEndOfFileExitsPromptly() throws {
            let session = try TmuxSession("'\(binary)' < /dev/null; echo \"EXIT=$?\"")
            defer { session.close() }
            #expect(session.waitFor("EXIT=3", within: 10), "\(session.screen())")
        }

        /// The terminal goes away under a running dashboard (the pseudo-terminal is hung up):
        /// it must exit instead of spinning on a dead input.
        @Test func hungUpTerminalMakesItExitNotSpin() throws {
            let terminal = try PseudoTerminal()
            let log = NSTemporaryDirectory() + "regionwatch-hangup-\(getpid()).log"
            let child = try ChildProcess(
                [binary, "--log", log],
                environment: ["TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": NSTemporaryDirectory()],
                input: terminal.slave, output: terminal.slave, error: terminal.slave
            )
            close(terminal.slave)
            var output = ""
            #expect(
                eventually(within: 15) {
                    output += terminal.readAvailable()
                    return output.contains("us-east-1")
                }, "never drew: \(output.suffix(200))")
            close(terminal.master)
            #expect(eventually(within: 5) { !child.isRunning }, "still running after hang-up")
            child.wait(within: 5)
            let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(logged.contains("exiting: standard input"), "\(logged)")
            unlink(log)
        }
    }
}

extension EndToEnd {
    @Suite("Command line", .serialized)
    struct CommandLineEndToEndTests {
        let binary = Binary.path

        @Test func statusJSONCarriesTheNamesScriptsDependOn() throws {
            let result = try runProcess(
                [binary, "status", "--demo", "--seed", "3", "--json", "--wait", "1.5"],
                environment: ["HOME": NSTemporaryDirectory()])
            #expect(result.status == 0, "\(result.standardError)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let topology = try #require(object["topology"] as? [String: Any])
            #expect(Set(topology.keys).isSuperset(of: ["name", "pattern", "rpoSeconds", "rtoSeconds"]))
            let regions = try #require(object["regions"] as? [[String: Any]])
            #expect(regions.count == 3)
            for region in regions {
                #expect(
                    Set(region.keys).isSuperset(of: [
                        "name", "provider", "role", "health", "errorRate", "p99Ms", "requestsPerSecond", "trafficShare",
                        "replicationLagSeconds", "replicationLagBytes", "version", "ageSeconds",
                    ]))
                #expect(region["health"] as? String == "ok")
            }
            let replication = try #require(object["replication"] as? [[String: Any]])
            #expect(
                replication.allSatisfy {
                    Set($0.keys).isSuperset(of: ["from", "to", "lagSeconds", "lagBytes", "state"])
                })
            #expect((object["failover"] as? [String: Any])?["state"] as? String == "steady")
        }

        @Test func statusTable() throws {
            let result = try runProcess(
                [binary, "status", "--demo", "--wait", "1"], environment: ["HOME": NSTemporaryDirectory()])
            #expect(result.status == 0)
            #expect(result.standardOutput.contains("REGION"))
            #expect(result.standardOutput.contains("ap-southeast-1"))
            #expect(result.standardOutput.contains("FAILOVER  no failover in progress"))
        }

        @Test func checkConfigReportsEveryProblemWithLines() throws {
            let path = NSTemporaryDirectory() + "regionwatch-bad-\(getpid()).yaml"
            try
                "topology: x\npattern: active-pasive\nobjectives: { rpo: 30q, rto: 5m }\nregions:\n  - { name: a, role: primray }\ncollectors: [{ kind: simulater }]\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let result = try runProcess([binary, "check-config", path])
            #expect(result.status == 2)
            for expected in [
                ":2:10: error: pattern:", ":3:20: error: objectives.rpo:", ":5:22: error: regions[0].role:",
                ":6:22: error: collectors[0].kind:",
            ] {
                #expect(result.standardOutput.contains(expected), "missing \(expected) in:\n\(result.standardOutput)")
            }
            #expect(result.standardOutput.contains("4 error(s)"))
            let good = try runProcess([
                binary, "check-config",
                URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("examples/demo.yaml").path,
            ])
            #expect(good.status == 0 && good.standardOutput.contains("OK"))
        }

        @Test func invalidConfigurationNeverStartsTheUI() throws {
            let path = NSTemporaryDirectory() + "regionwatch-invalid-\(getpid()).yaml"
            try "topology: [\n".write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let session = try TmuxSession(
                "'\(binary)' --config '\(path)' 2> \"$XDG_STATE_HOME/stderr\"; echo \"EXIT=$?\"")
            defer { session.close() }
            #expect(session.waitFor("EXIT=2"))
            #expect(!session.isAlternateScreenOn)
            let stderr = try String(contentsOfFile: session.scratch + "/stderr", encoding: .utf8)
            #expect(stderr.contains("invalid YAML") && stderr.contains("not starting"))
            // Reported even when the output is not a terminal.
            let piped = try runProcess([binary, "--config", path])
            #expect(piped.status == 2 && piped.standardError.contains("invalid YAML"))
            let theme = try runProcess([binary, "--demo", "--theme", "no-such-theme"])
            #expect(theme.status == 2 && theme.standardError.contains("no theme named 'no-such-theme'"))
        }

        /// A two-region configuration in a fresh directory (its audit log there too), fed by the
        /// simulator and `collector`, with `failover` lines under `failover:`.
        static func twoRegions(
            _ name: String, collector: String, failover: String = ""
        ) throws -> (path: String, directory: String) {
            let directory = Binary.scratchDirectory(name)
            let path = directory + "/c.yaml"
            try """
            topology: t
            pattern: active-passive
            objectives: { rpo: 30s, rto: 5m }
            regions:
              - { name: us-east-1, provider: aws, role: primary, traffic: 100 }
              - { name: eu-west-1, provider: aws, role: standby, traffic: 0 }
            collectors:
              - { kind: simulator, interval: 1s }
              - \(collector)
            failover:
              auditLog: \(directory)/audit.jsonl
            \(failover)
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return (path, directory)
        }

        /// `status` and `failover` are not the dashboard: with the dashboard's receiver already
        /// on the port, they neither collide nor report a receiver error, unless asked to listen.
        @Test func commandsThatAreNotTheDashboardDoNotListen() throws {
            let occupant = try LoopbackListener()
            defer { occupant.close() }
            let (configuration, directory) = try Self.twoRegions(
                "nolisten", collector: #"{ kind: otlp, listen: "127.0.0.1:\#(occupant.port)", grpcListen: off }"#,
                failover: "  plan:\n    - { name: promote, kind: simulated, change: promote }"
            )
            let environment = ["HOME": directory, "XDG_STATE_HOME": directory]
            let status = try runProcess(
                [binary, "status", "--config", configuration, "--json", "--wait", "1"], environment: environment)
            #expect(status.status == 0, "\(status.standardError)")
            #expect(
                !status.standardOutput.contains("Address already in use")
                    && !status.standardOutput.contains("\"otlp\""), "\(status.standardOutput)")
            let dryRun = try runProcess(
                [binary, "failover", "--config", configuration, "--to", "eu-west-1", "--dry-run", "--wait", "1"],
                environment: environment)
            #expect(
                !(dryRun.standardOutput + dryRun.standardError).contains("Address already in use"),
                "\(dryRun.standardOutput)\(dryRun.standardError)")
            // Asked to listen on the occupied port, status says why it cannot.
            let asked = try runProcess(
                [
                    binary, "status", "--config", configuration, "--json", "--wait", "1", "--otlp-listen",
                    "127.0.0.1:\(occupant.port)",
                ], environment: environment)
            #expect(asked.standardOutput.contains("\"otlp\""), "the receiver was asked for: \(asked.standardOutput)")
        }

        /// `audit` needs the failover section only: a collector's unset DSN variable does not
        /// stop it, and it takes no collector options.
        @Test func auditNeedsNoCollectorSecretsAndTakesNoCollectorOptions() throws {
            let (configuration, directory) = try Self.twoRegions(
                "auditenv", collector: "{ kind: postgres, region: us-east-1, dsnEnv: REGIONWATCH_TEST_UNSET_DSN }"
            )
            let environment = ["HOME": directory, "XDG_STATE_HOME": directory]
            let audit = try runProcess([binary, "audit", "--config", configuration], environment: environment)
            #expect(audit.status == 0, "\(audit.standardError)")
            #expect(audit.standardOutput.contains("AUDIT LOG \(directory)/audit.jsonl"), "\(audit.standardOutput)")
            #expect(
                audit.standardError.contains("REGIONWATCH_TEST_UNSET_DSN is not set"),
                "said, as a warning: \(audit.standardError)")
            let status = try runProcess(
                [binary, "status", "--config", configuration, "--wait", "0.5"], environment: environment)
            #expect(
                status.status == 2 && status.standardError.contains("error: collectors[1].dsnEnv"),
                "running it needs the variable")
            for option in [["--seed", "3"], ["--otlp-listen", "off"], ["--demo"]] {
                let refused = try runProcess(
                    [binary, "audit", "--config", configuration] + option, environment: environment)
                #expect(
                    refused.status == 64 && refused.standardError.contains("Unknown option"),
                    "\(option): \(refused.standardError)")
            }
            let check = try runProcess([binary, "check-config", configuration], environment: environment)
            #expect(
                check.status == 0
                    && check.standardOutput.contains(
                        "warning: collectors[1].dsnEnv: environment variable REGIONWATCH_TEST_UNSET_DSN is not set"),
                "\(check.standardOutput)")
            let strict = try runProcess([binary, "check-config", "--strict", configuration], environment: environment)
            #expect(
                strict.status == 2 && strict.standardOutput.contains("error: collectors[1].dsnEnv"),
                "\(strict.standardOutput)")
        }

        @Test func benchmarkHelpPrintsUsageAndRunsNothing() throws {
            let bench = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent(
                "regionwatch-bench"
            ).path
            let help = try runProcess([bench, "--help"], timeout: 10)
            #expect(
                help.status == 0 && help.standardOutput.hasPrefix("usage: regionwatch-bench"), "\(help.standardOutput)")
            #expect(!help.standardOutput.contains("regionwatch benchmarks ("), "no benchmark ran")
            let unknown = try runProcess([bench, "bogus"], timeout: 10)
            #expect(unknown.status == 2 && unknown.standardError.contains("unknown group 'bogus'"))
        }

        @Test func usageErrorsAndVersion() throws {
            let both = try runProcess([binary, "--config", "x.yaml", "--demo"])
            #expect(both.status != 0 && both.standardError.contains("--config and --demo cannot be used together"))
            let version = try runProcess([binary, "--version"])
            #expect(version.status == 0 && version.standardOutput.hasPrefix("regionwatch "))
            let help = try runProcess([binary, "--help"])
            #expect(help.standardOutput.contains("status") && help.standardOutput.contains("check-config"))
            let refresh = try runProcess([binary, "run", "--refresh", "0"])
            #expect(refresh.status != 0 && refresh.standardError.contains("--refresh"))
        }
    }
}
