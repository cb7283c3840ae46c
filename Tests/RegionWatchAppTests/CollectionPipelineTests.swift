import Foundation
import Testing
import RegionWatchCollectors
import RegionWatchCore
@testable import RegionWatchApp

/// Collectors run as services of one group: a stop shuts every one down and waits for them;
/// one collector ending (a receiver that cannot bind) leaves the others collecting.
@Suite("Collection pipeline as services", .serialized)
struct CollectionPipelineTests {
    /// Polls `condition` until it holds or `deadline` seconds pass (real time: real collectors).
    func eventually(within deadline: Double = 60, _ condition: () -> Bool) async -> Bool {
        let end = MonotonicClock.seconds() + deadline
        while MonotonicClock.seconds() < end {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    func configuration(_ collectors: [CollectorConfiguration]) -> RegionWatchConfiguration {
        var configuration = RegionWatchConfiguration.builtInDemo(seed: 3)
        configuration.collectors = collectors
        return configuration
    }

    @Test func stopShutsEveryCollectorDownAndWaitsForThem() async {
        let pipeline = CollectionPipeline(
            configuration: configuration([
                .simulator(SimulatorSettings(seed: 3, intervalSeconds: 0.05)),
                .otlp(OTLPReceiverSettings(port: 0)),
            ]),
            clock: SystemWallClock()
        )
        pipeline.start()
        #expect(await eventually { pipeline.bus.publishedCount > 20 }, "the simulator publishes")
        let started = MonotonicClock.seconds()
        await pipeline.stop()
        #expect(MonotonicClock.seconds() - started < 15, "a graceful stop is prompt (0.4 s alone; generous under load)")
        let after = pipeline.bus.publishedCount
        // Nothing runs any more: several simulator intervals later the count is unchanged.
        try? await Task.sleep(for: .milliseconds(300))
        #expect(pipeline.bus.publishedCount == after, "no collector publishes after stop()")
    }

    @Test func aCollectorThatCannotStartLeavesTheOthersRunningAndStopsPromptly() async throws {
        // A receiver on a port already taken says so and retries; the simulator keeps publishing.
        let occupied = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(occupied) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(occupied, $0, length) }
        }
        _ = listen(occupied, 1)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(occupied, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let pipeline = CollectionPipeline(
            configuration: configuration([
                .otlp(OTLPReceiverSettings(port: port)),
                .simulator(SimulatorSettings(seed: 3, intervalSeconds: 0.05)),
            ]),
            clock: SystemWallClock()
        )
        let subscription = pipeline.bus.subscribe(capacity: 100_000)
        pipeline.start()
        var errors: [String] = []
        #expect(
            await eventually {
                errors += subscription.drain().compactMap { event in
                    if case .collectorStatus(let status) = event { status.error } else { nil }
                }
                return errors.contains { $0.contains("cannot listen on 127.0.0.1:\(port)") }
                    && pipeline.bus.publishedCount > 40
            }, "the receiver's failure is said, and the simulator goes on: \(errors)")
        let before = pipeline.bus.publishedCount
        #expect(await eventually { pipeline.bus.publishedCount > before + 20 }, "still collecting")
        let started = MonotonicClock.seconds()
        await pipeline.stop()
        #expect(MonotonicClock.seconds() - started < 5, "the receiver's retry wait does not hold the stop")
    }

    /// Review: a span or log batch dropped from the consumer's full buffer never gave back its
    /// ingest reservation, so a burst of other events could leave the receivers refusing for good.
    @Test func aDroppedBatchGivesItsIngestRoomBack() {
        let pipeline = CollectionPipeline(configuration: configuration([]), clock: SystemWallClock())
        let subscription = pipeline.subscribeAsConsumer(capacity: 2)
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        #expect(pipeline.gate.tryReserve(spans: 5))
        var logs = LogBatch(
            source: "otlp", receivedAt: now, resources: [],
            records: (0..<5).map { IncomingLogRecord(timeUnixNano: 1, body: "r\($0)") })
        logs.holdsIngestReservation = true
        pipeline.bus.publish(.logs(logs))
        // A burst of samples pushes the batch out of the two-event buffer.
        for second in 0..<3 {
            pipeline.bus.publish(.tick(now.adding(seconds: Double(second))))
        }
        #expect(subscription.droppedCount == 2)
        #expect(pipeline.gate.spansInFlight == 0 && pipeline.gate.batchesInFlight == 0, "the dropped batch's room")
    }
}
