import Foundation
import Testing
import RegionWatchCore
@testable import RegionWatchCollectors
#if canImport(Glibc)
import Glibc
#endif

/// A raw client connection to a loopback port: what a hostile or careless client does.
final class RawConnection {
    let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawHTTP.Failure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw RawHTTP.Failure("connect failed: \(errno)")
        }
    }

    deinit { close(socket) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if result <= 0 { return }
            sent += result
        }
    }

    /// Reads until `condition` holds on what arrived, the peer closes, or `seconds` pass.
    /// Returns what arrived and whether the peer closed.
    func receive(
        within seconds: Double, until condition: ([UInt8]) -> Bool = { _ in false }
    ) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = MonotonicClock.seconds() + seconds
        while MonotonicClock.seconds() < deadline, !condition(received) {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return (received, true) }
            received += buffer[0..<count]
        }
        return (received, false)
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

@Suite("Listener limits: connections, timeouts, body memory", .serialized)
struct ReceiverLimitsTests {
    static func settings(_ change: (inout ListenerLimits) -> Void) -> OTLPReceiverSettings {
        var settings = OTLPReceiverSettings(port: 0, maxBodyBytes: 1_048_576)
        change(&settings.limits)
        return settings
    }

    static let head = "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"

    static func exportRequest(keepAlive: Bool = true) -> [UInt8] {
        let body = OTLPEncoder.protobuf(Spans.sample(count: 2))
        return Array(
            (head + "Connection: \(keepAlive ? "keep-alive" : "close")\r\nContent-Length: \(body.count)\r\n\r\n").utf8)
            + body
    }

    @Test func idleConnectionsBeyondTheCapAreTurnedAwayAndAValidClientIsServedOnceTheyTimeOut() async throws {
        let receiver = try await ReceiverHarness.start(
            settings: Self.settings {
                $0.maxConnections = 20
                $0.headerTimeoutSeconds = 2
            })
        // Forty idle connections, nothing sent: the twenty beyond the cap get 503 at once.
        let idle = try (0..<40).map { _ in try RawConnection(port: receiver.port) }
        #expect(await eventually(within: 1.5) { receiver.collector.currentStatistics.connectionsRefused == 20 })
        let answers = idle.map { $0.receive(within: 0.05) { RawConnection.text($0).contains("\r\n\r\n") } }
        let refused = answers.filter { RawConnection.text($0.bytes).hasPrefix("HTTP/1.1 503") }
        #expect(refused.count == 20, "\(answers.map { RawConnection.text($0.bytes).prefix(12) })")
        #expect(refused.allSatisfy { RawConnection.text($0.bytes).contains("Retry-After: 1") })
        // The other twenty sent no head within the header timeout: closed by the receiver.
        let silentClosed = idle.filter { $0.receive(within: 5).closed }.count
        #expect(silentClosed == 40)
        let valid = try RawHTTP.send(
            port: receiver.port, headers: OTLPReceiverTests.protobuf, body: OTLPEncoder.protobuf(Spans.sample(count: 2))
        )
        #expect(valid.status == 200)
        let statistics = receiver.collector.currentStatistics
        #expect(statistics.connectionsRefused == 20)
        #expect(statistics.connectionsTimedOut == 20)
        #expect(statistics.refusalsByStatus[503] == 20)
    }

    @Test func aHeadTrickledByteByByteIsClosedAfterTheHeaderTimeout() async throws {
        let receiver = try await ReceiverHarness.start(settings: Self.settings { $0.headerTimeoutSeconds = 1 })
        let slow = try RawConnection(port: receiver.port)
        slow.send("POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
        // Before the fix such a connection was held for as long as the client liked.
        let deadline = MonotonicClock.seconds() + 8
        var closed = false
        while !closed, MonotonicClock.seconds() < deadline {
            slow.send("X-A: b\r\n")
            closed = slow.receive(within: 0.2).closed
        }
        #expect(closed)
    }

    @Test func aBodyShorterThanItsLengthOrTrickledTimesOutWith408() async throws {
        let receiver = try await ReceiverHarness.start(settings: Self.settings { $0.headerTimeoutSeconds = 1 })
        let short = try RawConnection(port: receiver.port)
        short.send(Self.head + "Content-Length: 1000\r\n\r\n" + String(repeating: "x", count: 10))
        let answer = short.receive(within: 8) { RawConnection.text($0).contains("\r\n\r\n") }
        #expect(RawConnection.text(answer.bytes).hasPrefix("HTTP/1.1 408"), "\(RawConnection.text(answer.bytes))")
        #expect(
            RawConnection.text(answer.bytes).contains("request timed out: "), "stalled, or slower than the minimum rate"
        )

        let chunked = try RawConnection(port: receiver.port)
        chunked.send(Self.head + "Transfer-Encoding: chunked\r\n\r\nFFFFFFF\r\nabc")
        let huge = chunked.receive(within: 8) { RawConnection.text($0).contains("\r\n\r\n") }
        #expect(
            RawConnection.text(huge.bytes).hasPrefix("HTTP/1.1 408"),
            "a huge chunk size that never comes: \(RawConnection.text(huge.bytes))")
        #expect(receiver.collector.currentStatistics.bodyBytesHeld == 0, "what they held is released")
    }

    @Test func aDeclaredOversizeBodyIsRefusedBeforeItIsSent() async throws {
        let receiver = try await ReceiverHarness.start()
        let client = try RawConnection(port: receiver.port)
        client.send(Self.head + "Content-Length: 10000000\r\n\r\n")
        // Nothing of the body is sent: the answer must come anyway.
        let answer = client.receive(within: 5) { RawConnection.text($0).contains("\r\n\r\n") }
        #expect(RawConnection.text(answer.bytes).hasPrefix("HTTP/1.1 413"), "\(RawConnection.text(answer.bytes))")
        #expect(client.receive(within: 5).closed)
    }

    @Test func expect100ContinueIsAnsweredBeforeTheBody() async throws {
        let receiver = try await ReceiverHarness.start()
        let body = OTLPEncoder.protobuf(Spans.sample(count: 2))
        let client = try RawConnection(port: receiver.port)
        client.send(Self.head + "Expect: 100-continue\r\nContent-Length: \(body.count)\r\n\r\n")
        let interim = client.receive(within: 5) { RawConnection.text($0).contains("\r\n\r\n") }
        #expect(
            RawConnection.text(interim.bytes).hasPrefix("HTTP/1.1 100 Continue"), "\(RawConnection.text(interim.bytes))"
        )
        client.send(body)
        let final = client.receive(within: 5) { RawConnection.text($0).contains("HTTP/1.1 200") }
        #expect(RawConnection.text(final.bytes).contains("HTTP/1.1 200"))

        // A refusal is the answer to the expectation: the body is never sent.
        let unauthorized = try await ReceiverHarness.start(
            settings: OTLPReceiverSettings(port: 0, bearerToken: "secret"))
        let refused = try RawConnection(port: unauthorized.port)
        refused.send(Self.head + "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
        let answer = refused.receive(within: 5) { RawConnection.text($0).contains("\r\n\r\n") }
        #expect(RawConnection.text(answer.bytes).hasPrefix("HTTP/1.1 401"), "\(RawConnection.text(answer.bytes))")
    }

    @Test func bodiesInFlightStayWithinTheBudgetAndAreReleased() async throws {
        let receiver = try await ReceiverHarness.start(settings: Self.settings { $0.maxInFlightBodyBytes = 1_500_000 })
        let first = try RawConnection(port: receiver.port)
        first.send(Self.head + "Content-Length: 1000000\r\n\r\n")
        #expect(await eventually { receiver.collector.currentStatistics.bodyBytesHeld == 1_000_000 })
        // Over the budget: the body is read and dropped (not held), then 503 with Retry-After,
        // so a client that reads only after sending gets the answer, not a reset.
        let second = try RawConnection(port: receiver.port)
        second.send(Self.head + "Content-Length: 1000000\r\n\r\n")
        second.send([UInt8](repeating: 0, count: 1_000_000))
        let answer = second.receive(within: 5) { RawConnection.text($0).contains("\r\n\r\n") }
        #expect(RawConnection.text(answer.bytes).hasPrefix("HTTP/1.1 503"), "\(RawConnection.text(answer.bytes))")
        #expect(RawConnection.text(answer.bytes).contains("Retry-After: 1"))
        #expect(receiver.collector.currentStatistics.bodyBytesHeld == 1_000_000, "only the first body is held")
        // The first client goes away mid-body: its reservation is released.
        first.send([UInt8](repeating: 0, count: 1000))
        shutdown(first.socket, Int32(SHUT_RDWR))
        #expect(await eventually { receiver.collector.currentStatistics.bodyBytesHeld == 0 })
        // Keep-alive connections that each sent a body hold nothing afterwards.
        let clients = try (0..<10).map { _ in try RawConnection(port: receiver.port) }
        for client in clients {
            client.send(Self.exportRequest())
            #expect(
                RawConnection.text(client.receive(within: 5) { RawConnection.text($0).contains("HTTP/1.1 200") }.bytes)
                    .contains("HTTP/1.1 200"))
        }
        #expect(await eventually { receiver.collector.currentStatistics.bodyBytesHeld == 0 })
        #expect(
            receiver.collector.currentStatistics.connectionsOpen == 11,
            "these ten, and the one refused for the budget: kept alive")
    }

    @Test func theOpenFileLimitIsRaisedToTheHardLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let now = ListenerLimits.raiseOpenFileLimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(limit.rlim_cur == limit.rlim_max)
        #expect(now > ListenerLimits().maxConnections * 2, "the default cap sits well below the limit")
    }

    /// Polls until `condition` holds (every 20 ms, for up to `seconds`).
    func eventually(within seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = MonotonicClock.seconds() + seconds
        while MonotonicClock.seconds() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
