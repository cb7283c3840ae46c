import RegionWatchCore
import Synchronization

/// What one collection round found.
public struct CollectionRound: Sendable {
    public var events: [DashboardEvent]
    /// Problems of the round (verbatim, secrets redacted); empty when it fully succeeded.
    public var errors: [String]
    /// Data refused while the rest was used (see `CollectorReport.rejected`).
    public var rejected: [String]

    public init(events: [DashboardEvent] = [], errors: [String] = [], rejected: [String] = []) {
        self.events = events
        self.errors = errors
        self.rejected = rejected
    }
}

/// A source that is asked, every interval, what it sees now.
public protocol PollingSource: Sendable {
    var name: String { get }
    /// The kind as written in the configuration.
    var kind: String { get }
    /// Regions this source reports about.
    var regions: [String] { get }
    var intervalSeconds: Double { get }
    var timeoutSeconds: Double { get }
    /// Secrets that must never appear in an error shown or logged.
    var secrets: [String] { get }
    /// One round, started at `now`. Must respect its own timeout where it can; the polling loop
    /// also abandons a round that overruns it.
    func collect(at now: Timestamp) async -> CollectionRound
    /// Events that say the round could not complete in time (for example a failed probe).
    func timeoutEvents(at now: Timestamp) -> [DashboardEvent]
    /// Releases connections.
    func shutdown() async
}

extension PollingSource {
    public func timeoutEvents(at now: Timestamp) -> [DashboardEvent] { [] }
    public func shutdown() async {}
}

/// Runs a `PollingSource` every interval, each round bounded by its timeout, never more than
/// one round in flight, and reports every round's outcome as a `CollectorReport`.
public final class PollingCollector<Source: PollingSource>: Collector {
    public let source: Source
    public var name: String { source.name }

    public init(source: Source) {
        self.source = source
    }

    public func run(publishingTo bus: EventBus<DashboardEvent>, clock: WallClock) async {
        let redactor = SecretRedactor(secrets: source.secrets)
        var inFlight: Task<CollectionRound, Never>?
        while !Task.isCancelled {
            let started = MonotonicClock.seconds()
            let now = clock.now()
            var round: CollectionRound
            if let previous = inFlight {
                // The last round overran its timeout and is still running: do not pile up.
                round = CollectionRound(
                    events: source.timeoutEvents(at: now), errors: ["previous round still running after its timeout"])
                if await Self.finished(previous, within: 0) != nil { inFlight = nil }
            } else {
                let source = source
                let task = Task { await source.collect(at: now) }
                if let finished = await Self.finished(task, within: source.timeoutSeconds + 0.25) {
                    round = finished
                } else {
                    task.cancel()
                    inFlight = task
                    // Worded as a source words its own timeout: which regions it was collecting.
                    let regions = source.regions.isEmpty ? "" : source.regions.joined(separator: ", ") + ": "
                    round = CollectionRound(
                        events: source.timeoutEvents(at: now),
                        errors: ["\(regions)timed out after \(Format.duration(source.timeoutSeconds))"])
                }
            }
            let errors = round.errors.map(redactor.redact)
            bus.publish(
                contentsOf: round.events + [
                    .collectorStatus(
                        CollectorReport(
                            collector: source.name, kind: source.kind, observedAt: now,
                            intervalSeconds: source.intervalSeconds,
                            regions: source.regions, error: errors.isEmpty ? nil : errors.joined(separator: "; "),
                            rejectedCount: round.rejected.count, rejection: round.rejected.last.map(redactor.redact)
                        ))
                ])
            let remaining = source.intervalSeconds - (MonotonicClock.seconds() - started)
            if remaining > 0 {
                do { try await Task.sleep(for: .milliseconds(Int(remaining * 1000))) } catch { break }
            }
        }
        inFlight?.cancel()
        await source.shutdown()
    }

    /// The task's result if it finishes within `seconds`, else `nil` (the task keeps running).
    static func finished<Value: Sendable>(_ task: Task<Value, Never>, within seconds: Double) async -> Value? {
        let result = Mutex<Value??>(nil)
        let waiter = AsyncSignal()
        let watcher = Task {
            let value = await task.value
            result.withLock { $0 = .some(value) }
            waiter.fire()
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(max(0, seconds) * 1000)))
            waiter.fire()
        }
        await waiter.wait()
        timer.cancel()
        _ = watcher
        return result.withLock { $0 } ?? nil
    }
}

/// Runs `transform` on every element concurrently; the results come back in the elements' order.
func concurrentMap<Element: Sendable, Transformed: Sendable>(
    _ elements: [Element], _ transform: @escaping @Sendable (Element) async -> Transformed
) async -> [Transformed] {
    await withTaskGroup(of: (Int, Transformed).self) { group in
        for (index, element) in elements.enumerated() {
            group.addTask { (index, await transform(element)) }
        }
        var results: [(Int, Transformed)] = []
        results.reserveCapacity(elements.count)
        for await result in group { results.append(result) }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// A one-shot signal: `wait()` returns once `fire()` has been called (before or after).
final class AsyncSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.fired else { return nil }
            state.fired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

/// Removes secrets from text meant for the screen, logs or `status`: every configured secret,
/// and passwords inside connection strings.
public struct SecretRedactor: Sendable {
    public let secrets: [String]
    public static let mask = "•••"

    public init(secrets: [String]) {
        self.secrets = secrets.filter { $0.count >= 3 }.sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets { result = result.replacing(secret, with: Self.mask) }
        return Self.redactConnectionStrings(result)
    }

    /// `scheme://user:password@` → `scheme://user:•••@`; `password=…` → `password=•••`.
    static func redactConnectionStrings(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.firstRange(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "?" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + mask + authority[at...]
                rest = rest[authorityEnd...]
            }
        }
        result += rest
        for key in ["password=", "PASSWORD="] {
            var redacted = ""
            var remaining = Substring(result)
            while let range = remaining.firstRange(of: key) {
                redacted += remaining[..<range.upperBound] + mask
                remaining = remaining[range.upperBound...]
                let end = remaining.firstIndex { $0 == " " || $0 == "&" || $0 == ";" } ?? remaining.endIndex
                remaining = remaining[end...]
            }
            result = redacted + remaining
        }
        return result
    }
}
