// swift-tools-version:6.0
// Kept apart from the root package so `swift test` there never builds benchmark dependencies.
import PackageDescription

let package = Package(
    name: "RedLockBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "RedLock", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "LatencyProbe",
            dependencies: [
                .product(name: "RedLock", package: "RedLock"),
                .product(name: "RedisTestSupport", package: "RedLock"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
