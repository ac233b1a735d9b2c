// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RedLock",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RedLock", targets: ["RedLock"]),
        // Starts and stops real redis-server processes for tests, demos and benchmarks; not API.
        .library(name: "RedisTestSupport", targets: ["RedisTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        .target(
            name: "RedLock",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "RedisTestSupport",
            dependencies: ["CHiredis"],
            path: "Tests/RedisTestSupport"
        ),
        .testTarget(
            name: "RedLockTests",
            dependencies: [
                "RedLock",
                "RedisTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
