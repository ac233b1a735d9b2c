// swift-tools-version:6.1
// Kept apart from the root package so `swift test` there never builds benchmark dependencies.
// 6.1: the benchmark dependency is selected with package traits.
import PackageDescription

/// One package-benchmark suite: sources in `Benchmarks/<name>/`, run by `swift package benchmark`.
func suite(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "Benchmark", package: "benchmark"),
            .product(name: "RedLock", package: "RedLock"),
            .product(name: "_RedisTestSupport", package: "RedLock"),
            "BenchmarkRig",
        ],
        path: "Benchmarks/\(name)",
        plugins: [
            .plugin(name: "BenchmarkPlugin", package: "benchmark"),
        ]
    )
}

let package = Package(
    name: "RedLockBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "RedLock", path: ".."),
        // Malloc counts come from the malloc-interposer package on Swift 6.3+ (no system jemalloc).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Servers and a client for a suite's setup and teardown.
        .target(
            name: "BenchmarkRig",
            dependencies: [
                .product(name: "RedLock", package: "RedLock"),
                .product(name: "_RedisTestSupport", package: "RedLock"),
            ]
        ),
        .executableTarget(
            name: "LatencyProbe",
            dependencies: [
                .product(name: "RedLock", package: "RedLock"),
                .product(name: "_RedisTestSupport", package: "RedLock"),
            ]
        ),
        // Our side of the one-run comparison with the Python peers (Benchmarks/compare/run.sh).
        .executableTarget(
            name: "RedLockRunner",
            dependencies: [
                .product(name: "RedLock", package: "RedLock"),
                .product(name: "_RedisTestSupport", package: "RedLock"),
            ]
        ),
        suite("Floor"),
        suite("Latency"),
        suite("SlowMinority"),
        suite("Contention"),
    ],
    swiftLanguageModes: [.v6]
)
