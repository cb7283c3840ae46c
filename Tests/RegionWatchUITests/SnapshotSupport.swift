import Foundation
import Testing
import RegionWatchCollectors
import RegionWatchCore
import RegionWatchTerminal
@testable import RegionWatchUI

/// Plain-text frame snapshots under Tests/RegionWatchUITests/Snapshots. Re-record on purpose
/// with `REGIONWATCH_RECORD_SNAPSHOTS=1 swift test --filter Snapshot`.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots")

    static var isRecording: Bool {
        ProcessInfo.processInfo.environment["REGIONWATCH_RECORD_SNAPSHOTS"] == "1"
    }

    /// Compares `frame`'s text with the stored snapshot `name`, failing with a line diff.
    static func assert(_ frame: Frame, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let file = directory.appendingPathComponent(name + ".txt")
        let actual = frame.lines.joined(separator: "\n") + "\n"
        if isRecording {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? actual.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record(
                "missing snapshot \(name).txt; record it with REGIONWATCH_RECORD_SNAPSHOTS=1",
                sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            Issue.record(
                "snapshot \(name) differs:\n\(lineDiff(expected: expected, actual: actual))",
                sourceLocation: sourceLocation)
        }
    }

    /// A compact line diff: `-` expected, `+` actual, with line numbers.
    static func lineDiff(expected: String, actual: String) -> String {
        let old = expected.components(separatedBy: "\n")
        let new = actual.components(separatedBy: "\n")
        var output: [String] = []
        for index in 0..<max(old.count, new.count) {
            let left = index < old.count ? old[index] : nil
            let right = index < new.count ? new[index] : nil
            if left != right {
                if let left { output.append(String(format: "%3d - %@", index + 1, left)) }
                if let right { output.append(String(format: "%3d + %@", index + 1, right)) }
            }
        }
        return output.joined(separator: "\n")
    }
}

/// A deterministic dashboard state: the demo simulation with a fixed seed and start time,
/// stepped once per second.
enum SeededState {
    static let start = Timestamp(secondsSinceEpoch: 1_795_789_800)

    static func demo(seconds: Int, commands: [Int: ChaosCommand] = [:], topology: Topology = .demo) -> DashboardState {
        DemoSimulation.replay(
            topology: topology, settings: SimulatorSettings(seed: 42), start: start, seconds: seconds,
            commands: commands)
    }

    static func view(demo: Bool = true) -> ViewState {
        ViewState(
            isDemo: demo, themeName: "default", availableThemes: ["default", "light", "high-contrast", "monochrome"])
    }
}
