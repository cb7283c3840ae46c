import Testing
@testable import RegionWatchCore

@Suite("Timestamp and Format")
struct TimeAndFormatTests {
    @Test func iso8601OfKnownInstants() {
        #expect(Timestamp(secondsSinceEpoch: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(secondsSinceEpoch: 951_782_400).iso8601 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(secondsSinceEpoch: 1_795_789_805.25).iso8601 == "2026-11-27T14:30:05.250Z")
        #expect(Timestamp(secondsSinceEpoch: -1).iso8601 == "1969-12-31T23:59:59.000Z")
        #expect(Timestamp(secondsSinceEpoch: 1_795_789_805).utcTimeOfDay == "14:30:05")
    }

    @Test func arithmetic() {
        let start = Timestamp(secondsSinceEpoch: 100)
        #expect(start.adding(seconds: 2.5).seconds(since: start) == 2.5)
        #expect(start < start.adding(seconds: 0.001))
    }

    @Test func manualClockMovesOnlyWhenTold() {
        let clock = ManualWallClock(Timestamp(secondsSinceEpoch: 10))
        #expect(clock.now().secondsSinceEpoch == 10)
        clock.advance(by: 1.5)
        #expect(clock.now().secondsSinceEpoch == 11.5)
    }

    @Test(arguments: [
        (0.0, "0%"), (0.001, "0.1%"), (0.000999, "0.1%"), (0.0004, "0.04%"), (0.0321, "3.2%"),
        (0.5, "50%"), (1.0, "100%"), (0.0996, "10%"),
    ])
    func percent(_ fraction: Double, _ expected: String) {
        #expect(Format.percent(fraction) == expected)
    }

    @Test(arguments: [
        (0.4, "0.4s"), (1.0, "1s"), (9.95, "10.0s"), (12.7, "12s"), (125, "2m05s"), (300, "5m"),
        (3720, "1h02m"), (3600, "1h"), (86_400 + 4 * 3600, "1d04h"), (-3, "-3s"), (.infinity, "∞"),
    ])
    func duration(_ seconds: Double, _ expected: String) {
        #expect(Format.duration(seconds) == expected)
    }

    @Test func bytesRatesAndMilliseconds() {
        #expect(Format.bytes(512) == "512B")
        #expect(Format.bytes(3.4 * 1024) == "3.4KiB")
        #expect(Format.bytes(48.2 * 1_073_741_824) == "48.2GiB")
        #expect(Format.bytes(150 * 1_048_576) == "150MiB")
        #expect(Format.rate(0) == "0")
        #expect(Format.rate(0.42) == "0.4")
        #expect(Format.rate(1234) == "1.2k")
        #expect(Format.rate(25_000) == "25k")
        #expect(Format.rate(3_400_000) == "3.4M")
        #expect(Format.milliseconds(4.25) == "4.3ms")
        #expect(Format.milliseconds(182.4) == "182ms")
        #expect(Format.milliseconds(1250) == "1.25s")
        #expect(Format.age(4.9) == "4s")
        #expect(Format.age(-1) == "0s")
    }

    @Test func fixedHandlesEdgeCases() {
        #expect(Format.fixed(1e-9, decimals: 2) == "0.00")
        #expect(Format.fixed(-0.004, decimals: 2) == "0.00")
        #expect(Format.fixed(-1.25, decimals: 1) == "-1.3")
        #expect(Format.fixed(.nan, decimals: 1) == "NaN")
        #expect(Format.fixed(1e20, decimals: 1) == "1e+20")
    }

    /// No number from outside can trap in formatting: beyond a century, not a number, infinite.
    @Test(arguments: [
        1e300, -1e300, 9.3e18, 9.2e18, Double.nan, .infinity, -.infinity, Double.greatestFiniteMagnitude, 3.2e9,
    ])
    func absurdDurationsFormatWithoutTrapping(seconds: Double) {
        for text in [Format.duration(seconds), Format.lag(seconds), Format.age(seconds)] {
            #expect(!text.isEmpty)
        }
        #expect(!Timestamp(secondsSinceEpoch: seconds).iso8601.isEmpty)
        #expect(!Timestamp(secondsSinceEpoch: seconds).utcDate.isEmpty)
    }

    @Test func absurdDurationsSayWhatTheyAre() {
        #expect(Format.duration(1e300) == ">100y")
        #expect(Format.lag(-1e300) == "->100y")
        #expect(Format.age(9.3e18) == ">100y")
        #expect(Format.duration(.nan) == "?")
        #expect(Format.lag(.infinity) == "∞")
        #expect(Format.duration(3e9) == "34722d05h", "just under a century is still counted")
    }

    @Test func aValueBelowARuleNeverReadsAsReachingIt() {
        #expect(Format.keepingBelow(0.01, 0.00996, Format.percent) == "<1.0%", "0.996% beside the rule ≥ 1.0%")
        #expect(Format.keepingBelow(0.01, 0.01, Format.percent) == "1.0%")
        #expect(Format.keepingBelow(0.01, 0.0104, Format.percent) == "1.0%", "at or above the rule reads as the rule")
        #expect(Format.keepingBelow(0.01, 0.0094, Format.percent) == "0.9%")
        #expect(Format.keepingBelow(500, 499.7, Format.milliseconds) == "<\(Format.milliseconds(500))")
        #expect(Format.keepingBelow(500, 480, Format.milliseconds) == Format.milliseconds(480))
    }
}
