// swift-tools-version: 6.0
import PackageDescription

/// regionwatch: a terminal dashboard for multi-region observability and disaster recovery.
///
/// Dependency direction (see docs/DECISIONS.md): Core depends on nothing of ours; Collectors
/// depend on Core; Terminal depends only on CNcurses; UI depends on Core and Terminal; the App
/// library wires everything and the `regionwatch` executable is a thin `main`.
let package = Package(
    name: "regionwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "regionwatch", targets: ["regionwatch"]),
        .executable(name: "regionwatch-bench", targets: ["RegionWatchBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .target(
            name: "RegionWatchCore",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(name: "RegionWatchCollectors", dependencies: ["RegionWatchCore"]),
        .target(name: "RegionWatchTerminal", dependencies: ["CNcurses"]),
        .target(name: "RegionWatchUI", dependencies: ["RegionWatchCore", "RegionWatchTerminal"]),
        .target(
            name: "RegionWatchApp",
            dependencies: [
                "RegionWatchCore", "RegionWatchCollectors", "RegionWatchTerminal", "RegionWatchUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "regionwatch", dependencies: ["RegionWatchApp"]),
        .executableTarget(
            name: "RegionWatchBenchmarks",
            dependencies: ["RegionWatchCore", "RegionWatchCollectors", "RegionWatchTerminal", "RegionWatchUI", "RegionWatchApp"],
            path: "Benchmarks/RegionWatchBenchmarks"
        ),
        .testTarget(name: "RegionWatchCoreTests", dependencies: ["RegionWatchCore"]),
        .testTarget(name: "RegionWatchCollectorsTests", dependencies: ["RegionWatchCollectors"]),
        .testTarget(name: "RegionWatchTerminalTests", dependencies: ["RegionWatchTerminal"]),
        .testTarget(
            name: "RegionWatchUITests",
            dependencies: ["RegionWatchUI", "RegionWatchCollectors"],
            exclude: ["Snapshots"]
        ),
        .testTarget(name: "RegionWatchAppTests", dependencies: ["RegionWatchApp"]),
        .testTarget(name: "EndToEndTests", dependencies: ["regionwatch"]),
    ],
    swiftLanguageModes: [.v6]
)
