import Testing
@testable import RegionWatchCore

@Suite("RingBuffer, Signal, IngestMeter")
struct SeriesTests {
    @Test func ringKeepsNewestAndReturnsEvicted() {
        var ring = RingBuffer<Int>(capacity: 3)
        #expect(ring.append(1) == nil)
        ring.append(2)
        ring.append(3)
        #expect(ring.append(4) == 1)
        #expect(ring.elements == [2, 3, 4])
        #expect(ring.suffix(2) == [3, 4])
        #expect(ring.first == 2 && ring.last == 4 && ring.count == 3)
    }

    @Test func signalIgnoresLateObservationsAndKeepsHistoryBounded() {
        var signal = Signal(historyCapacity: 4)
        let t0 = Timestamp(secondsSinceEpoch: 100)
        for step in 0..<10 { signal.record(Double(step), at: t0.adding(seconds: Double(step)), source: "a") }
        #expect(signal.latest == 9)
        #expect(signal.recentValues(10) == [6, 7, 8, 9])
        signal.record(99, at: t0, source: "late")
        #expect(signal.latest == 9)
        #expect(signal.source == "a")
        #expect(signal.age(at: t0.adding(seconds: 12)) == 3)
    }

    @Test func signalRecordsExplicitUnknownWithoutHistory() {
        var signal = Signal()
        let t0 = Timestamp(secondsSinceEpoch: 100)
        signal.record(5, at: t0, source: "a")
        signal.record(nil, at: t0.adding(seconds: 1), source: "a")
        #expect(signal.latest == nil)
        #expect(signal.observedAt == t0.adding(seconds: 1))
        #expect(signal.recentValues(5) == [5])
        signal.record(.nan, at: t0.adding(seconds: 2), source: "a")
        #expect(signal.recentValues(5) == [5])
    }

    @Test func ingestMeterAveragesCompletedSecondsAndForgetsGaps() {
        var meter = IngestMeter(windowSeconds: 5)
        let t0 = Timestamp(secondsSinceEpoch: 1000)
        for second in 0..<5 { meter.count(10, at: t0.adding(seconds: Double(second))) }
        meter.advance(to: t0.adding(seconds: 5))
        #expect(meter.eventsPerSecond == 10)
        meter.advance(to: t0.adding(seconds: 30))
        #expect(meter.eventsPerSecond == 0)
        #expect(meter.total == 50)
    }
}

@Suite("Probe availability")
struct ProbeAvailabilityTests {
    @Test func availabilityIsARollingWindow() {
        var probe = ProbeState()
        #expect(probe.availability == nil)
        let t0 = Timestamp(secondsSinceEpoch: 0)
        for index in 0..<ProbeState.availabilityWindow {
            probe.record(
                ProbeResult(
                    region: "r", source: "s", observedAt: t0.adding(seconds: Double(index)), isSuccess: index % 2 == 0,
                    latencyMilliseconds: 1, message: ""))
        }
        #expect(probe.availability == 0.5)
        for index in 0..<ProbeState.availabilityWindow {
            probe.record(
                ProbeResult(
                    region: "r", source: "s", observedAt: t0.adding(seconds: Double(1000 + index)), isSuccess: true,
                    latencyMilliseconds: 1, message: ""))
        }
        #expect(probe.availability == 1, "old failures age out of the window")
        #expect(probe.consecutiveFailures == 0)
    }
}
