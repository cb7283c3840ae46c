import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every end-to-end suite, one test at a time. They wait by blocking (on processes and tmux),
/// and Swift Testing runs tests on the concurrency pool, which has one thread per core: run in
/// parallel, the end-to-end suites took every pool thread and starved the async tests (a
/// receiver's start-up stalled for over ten seconds on two cores).
@Suite(.serialized) enum EndToEnd {}

/// The built `regionwatch` binary, next to the test bundle.
enum Binary {
    /// The binary under test: the one built beside the tests, or `REGIONWATCH_BINARY` (to run
    /// the same scenarios against another build, an earlier commit's for example).
    static var path: String {
        if let other = ProcessInfo.processInfo.environment["REGIONWATCH_BINARY"], !other.isEmpty { return other }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("regionwatch").path
    }

    /// A fresh, private directory for one test's files (logs, stty captures).
    static func scratchDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "regionwatch-e2e-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Loopback ports for services the tests start.
enum LoopbackPort {
    /// A free loopback port (bound then released).
    static func free() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A socket listening on a loopback port, holding it (another program's receiver).
final class LoopbackListener {
    let port: Int
    private let socket: Int32

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.socket = socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(socket, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(socket) }
}

/// Polls `condition` until it holds or `seconds` pass (tests never sleep for time to pass).
func eventually(within seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Runs a program and captures its output.
struct ProcessResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

/// A child process started with `posix_spawn` (Foundation's Process does not reliably reap
/// short-lived children here) and reaped with `waitpid`.
final class ChildProcess {
    let pid: pid_t
    private(set) var status: Int32?

    /// Starts `arguments[0]` with the given standard descriptors (`-1` keeps the parent's).
    init(_ arguments: [String], environment: [String: String]? = nil, input: Int32, output: Int32, error: Int32) throws
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (source, target) in [(input, Int32(0)), (output, 1), (error, 2)] where source >= 0 {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environmentStrings.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The test runner's worker threads block most signals and a spawned program inherits
        // that mask: a tmux server started from one never saw the SIGTERM of `kill-server`
        // and outlived its test. Children start with no signal blocked and default handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let result = posix_spawn(&child, arguments[0], &actions, &attributes, &argv, &envp)
        guard result == 0 else { throw HarnessError("posix_spawn \(arguments[0]) failed: \(result)") }
        pid = child
    }

    /// Whether the child is still running (reaps it when it has exited).
    var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            // WIFEXITED / WEXITSTATUS / WTERMSIG without the C macros.
            status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            return false
        }
        return result == 0
    }

    /// Waits up to `seconds` for the child to exit; kills it when it does not.
    @discardableResult
    func wait(within seconds: Double) -> Int32 {
        if !eventually(within: seconds, { !isRunning }) {
            kill(pid, SIGKILL)
            _ = eventually(within: 5) { !isRunning }
        }
        return status ?? -1
    }
}

/// Runs a program and captures its output through temporary files (a daemon the program
/// starts, such as the tmux server, would hold a pipe open forever).
func runProcess(
    _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 60
) throws -> ProcessResult {
    let base = NSTemporaryDirectory() + "regionwatch-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    let output = open(base + ".out", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
    let error = open(base + ".err", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
    let input = open("/dev/null", O_RDONLY)
    defer {
        unlink(base + ".out")
        unlink(base + ".err")
    }
    let child = try ChildProcess(arguments, environment: environment, input: input, output: output, error: error)
    close(output)
    close(error)
    close(input)
    let status = child.wait(within: timeout)
    return ProcessResult(
        status: status,
        standardOutput: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
        standardError: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    )
}

/// A real terminal: a private tmux server with one session running a command.
final class TmuxSession {
    let socket: String
    let name = "rw"
    let scratch: String

    /// Starts `command` (run by /bin/sh) in a `width`×`height` tmux window. The pane stays
    /// after the command exits so its last screen and exit status can be read.
    init(
        _ command: String, width: Int = 120, height: Int = 40, environment: [String: String] = [:],
        label: String = #function
    ) throws {
        socket = "rwtest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        scratch = Binary.scratchDirectory(String(label.prefix(20)).filter { $0.isLetter })
        let exports =
            ([
                "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "XDG_STATE_HOME": scratch,
                "XDG_CONFIG_HOME": scratch + "/config",
            ].merging(environment) { $1 })
            .map { "export \($0.key)='\($0.value)'" }.joined(separator: "; ")
        // A clean, explicit environment: nothing from the test runner leaks into the pane.
        let serverEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TERM": "xterm-256color"]
        // Options in the server's configuration apply before the command starts: a command
        // that exits at once must still leave its pane (and the server) to be inspected.
        let configuration = scratch + "/tmux.conf"
        // (tmux 3.3a's server dies when `window-size` is set from a configuration file, so that
        // option is set once the session exists.)
        try "set-option -g remain-on-exit on\n".write(toFile: configuration, atomically: true, encoding: .utf8)
        // When the command exits, tmux 3.3a writes "Pane is dead" below the last line, which
        // scrolls the screen up by one: a blank first line is what scrolls away.
        LiveTmuxServers.add(socket)
        try tmux(
            [
                "-f", configuration, "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", "/bin/sh",
                "-c", "\(exports); echo; \(command)",
            ], environment: serverEnvironment)
        try tmux(["set-option", "-g", "window-size", "manual"])
    }

    /// Stops the tmux server (and with it the program in the pane) and removes the scratch
    /// files. Tests call it with `defer`: a session must not outlive its test, and `deinit`
    /// cannot be relied on (expectations keep references to the values they captured until
    /// the run ends, which had left every test's server and dashboard running).
    func close() {
        guard LiveTmuxServers.remove(socket) else { return }
        _ = try? runProcess(["/usr/bin/tmux", "-L", socket, "kill-server"], timeout: 10)
        try? FileManager.default.removeItem(atPath: scratch)
    }

    deinit { close() }

    @discardableResult
    func tmux(_ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let result = try runProcess(["/usr/bin/tmux", "-L", socket] + arguments, environment: environment, timeout: 10)
        if result.status != 0, arguments.first != "kill-server" {
            throw HarnessError("tmux \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return result.standardOutput
    }

    /// What a person sees (text only; `colors` adds escape sequences for colour checks).
    func screen(colors: Bool = false) -> String {
        (try? tmux(["capture-pane", "-p", "-t", name] + (colors ? ["-e"] : []))) ?? ""
    }

    /// Sends tmux key names (`Enter`, `Escape`, `C-c`, `q`).
    func send(_ keys: String...) throws {
        try tmux(["send-keys", "-t", name] + keys)
    }

    /// Sends literal text.
    func type(_ text: String) throws {
        try tmux(["send-keys", "-t", name, "-l", text])
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Waits until the screen contains every one of `texts`.
    func waitFor(_ texts: String..., within seconds: Double = 15) -> Bool {
        eventually(within: seconds) {
            let shown = screen()
            return texts.allSatisfy { shown.contains($0) }
        }
    }

    /// Whether the command in the pane has exited, and its status.
    var exitStatus: Int32? {
        guard let output = try? tmux(["display-message", "-p", "-t", name, "#{pane_dead} #{pane_dead_status}"]) else {
            return nil
        }
        let parts = output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard parts.first == "1", parts.count > 1 else { return nil }
        return Int32(parts[1])
    }

    /// Whether the pane shows the alternate screen (a full-screen program is active).
    var isAlternateScreenOn: Bool {
        (try? tmux(["display-message", "-p", "-t", name, "#{alternate_on}"]))?.trimmingCharacters(
            in: .whitespacesAndNewlines) == "1"
    }

    /// Whether the pane's keypad is in application (transmit) mode, as a full-screen program
    /// sets it and must reset it.
    var isKeypadModeOn: Bool {
        (try? tmux(["display-message", "-p", "-t", name, "#{keypad_flag}"]))?.trimmingCharacters(
            in: .whitespacesAndNewlines) == "1"
    }

    /// The process id of the pane's command.
    var panePID: Int32? {
        (try? tmux(["display-message", "-p", "-t", name, "#{pane_pid}"])).flatMap {
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// The tmux servers tests started and have not stopped; whatever is left when the test process
/// exits (a test that threw before its `defer`, a crash in the harness) is killed then.
enum LiveTmuxServers {
    private static let sockets = Mutex<Set<String>>([])
    private static let exitHook: Void = {
        atexit {
            for socket in LiveTmuxServers.sockets.withLock({ $0 }) {
                _ = try? runProcess(["/usr/bin/tmux", "-L", socket, "kill-server"], timeout: 5)
            }
        }
    }()

    static func add(_ socket: String) {
        _ = exitHook
        sockets.withLock { _ = $0.insert(socket) }
    }

    /// Whether `socket` was live (and now is not).
    static func remove(_ socket: String) -> Bool {
        sockets.withLock { $0.remove(socket) != nil }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A pseudo-terminal pair, for driving the binary with a terminal that can be hung up.
final class PseudoTerminal {
    let master: Int32
    let slave: Int32

    init(width: UInt16 = 100, height: UInt16 = 30) throws {
        var master: Int32 = 0, slave: Int32 = 0
        var size = winsize(ws_row: height, ws_col: width, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw HarnessError("openpty failed: \(errno)") }
        // The child must not inherit the master: closing it here has to hang the terminal up.
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        self.master = master
        self.slave = slave
    }

    /// Reads whatever the program wrote so far (non-blocking).
    func readAvailable() -> String {
        var collected = Data()
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while poll(&descriptor, 1, 0) == 1, descriptor.revents & Int16(POLLIN) != 0 {
            let count = read(master, &buffer, buffer.count)
            if count <= 0 { break }
            collected.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: collected, as: UTF8.self)
    }
}
