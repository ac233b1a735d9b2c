// swift-tools-version:6.0
import PackageDescription

// Linux only: hiredis from the system (libhiredis-dev), Glibc, /proc and Linux process control
// (prctl, signalfd). No `platforms:` entry claims otherwise.
let package = Package(
    name: "RedLock",
    products: [
        .library(name: "RedLock", targets: ["RedLock"]),
        // `RedLockClient` as a swift-service-lifecycle `Service`; apart, so that `cronlock` does not link it.
        .library(name: "RedLockServiceLifecycle", targets: ["RedLockServiceLifecycle"]),
        .executable(name: "cronlock", targets: ["cronlock"]),
        .executable(name: "cronlock-web", targets: ["cronlock-web"]),
        // Starts and stops real redis-server processes for the nested Benchmarks package; not API
        // (hence the underscore, as postgres-nio's `_ConnectionPoolTestUtils`).
        .library(name: "_RedisTestSupport", targets: ["RedisServerKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // cronlock's configuration file; read only when a file exists (see ConfigResolution).
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // `swift package generate-documentation --target RedLock` (the DocC catalog); no code links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The dashboard's stack: only CronlockWeb and cronlock-web link these.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        // The I/O kit the library and cronlock share: threads, a pthread lock, RESP encoding and
        // replies. Internal: not a product.
        .target(name: "RedisIO", dependencies: ["CHiredis"]),
        // OpenSSL for rediss:// (the TLS transport under RedisConnection).
        .systemLibrary(
            name: "COpenSSL",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]
        ),
        .target(
            name: "RedLock",
            dependencies: [
                "CHiredis",
                "RedisIO",
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "RedLockServiceLifecycle",
            dependencies: [
                "RedLock",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // fork/exec of the wrapped command with a guard process (parent-death signal, own process
        // group); C because only async-signal-safe calls may run between fork and exec.
        .target(name: "CSpawn"),
        // cronlock's logic: options, the run (lock, renew, min-hold), status, demo, process control.
        .target(
            name: "CronlockCore",
            dependencies: [
                "RedLock",
                "RedisIO",
                "CHiredis",
                "CSpawn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            // TOMLKit imports Foundation; without this, its String members (`contains`, `range(of:)`)
            // would win overload resolution here and link Foundation and ICU (37 MB) into cronlock.
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        // The executable: parse, wire, exit. Nothing else.
        .executableTarget(name: "cronlock", dependencies: ["CronlockCore"]),
        // The dashboard and HTTP API over what cronlock keeps on the masters (no state of its own).
        .target(
            name: "CronlockWeb",
            dependencies: [
                "CronlockCore",
                "RedLock",
                "RedisIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Compiled into the binary: one file to deploy, nothing to find at run time.
            resources: [
                .embedInCode("Resources/openapi.yaml"),
                .embedInCode("Resources/layout.mustache"),
                .embedInCode("Resources/jobs.mustache"),
                .embedInCode("Resources/job.mustache"),
                .embedInCode("Resources/live.mustache"),
                .embedInCode("Resources/masters.mustache"),
                .embedInCode("Resources/login.mustache"),
            ]
        ),
        // The dashboard executable: parse, wire, run until SIGTERM.
        .executableTarget(name: "cronlock-web", dependencies: ["CronlockWeb"]),
        // What the benchmarks share with the tests: redis-server processes (plain and TLS, with
        // certificates made at run time), a monotonic clock and the floors (hiredis, plain and TLS).
        .target(
            name: "RedisServerKit",
            dependencies: ["CHiredis", "COpenSSL", "CTestSpawn"],
            path: "Tests/RedisServerKit"
        ),
        // The tests' harness on top: faults, misbehaving servers, fuzzing, seeded randomness.
        .target(
            name: "RedisTestSupport",
            dependencies: ["RedisServerKit", "CHiredis"],
            path: "Tests/RedisTestSupport"
        ),
        // posix_spawn's close-every-other-descriptor action and pipe2, hidden from Swift (_GNU_SOURCE).
        .target(name: "CTestSpawn", path: "Tests/CTestSpawn"),
        // The process-wide gate that keeps timing checks, CPU-heavy suites and descriptor counts
        // apart in one unfiltered `swift test` (a trait on each suite).
        .target(name: "TestLoad", path: "Tests/TestLoad"),
        .testTarget(
            name: "RedLockTests",
            dependencies: [
                "RedLock",
                "RedisIO",
                "RedisTestSupport",
                "TestLoad",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        // A separate process for the fault suite: a Redlock contender (acquire, critical section,
        // release in a loop) and the command cronlock runs to report its critical section.
        .executableTarget(
            name: "FaultContender",
            dependencies: ["FaultSupport"],
            path: "Tests/FaultContender"
        ),
        // What the fault suite's test process and its contender processes share: the contender
        // loop, its plan and the stop signal (the seeded generator is in RedisTestSupport).
        .target(
            name: "FaultSupport",
            dependencies: ["RedLock", "RedisTestSupport"],
            path: "Tests/FaultSupport"
        ),
        // Safety (no two holders at once) and liveness (every call returns by its deadline) while
        // real servers are stopped, killed, slowed, erroring or hanging mid-reply.
        .testTarget(
            name: "FaultTests",
            dependencies: ["FaultSupport", "RedLock", "RedisTestSupport", "TestLoad"]
        ),
        .testTarget(
            name: "RedLockServiceLifecycleTests",
            dependencies: [
                "RedLockServiceLifecycle",
                "RedisTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CronlockWebTests",
            dependencies: [
                "CronlockWeb",
                "CronlockCore",
                "RedLock",
                "RedisTestSupport",
                "TestLoad",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "cronlockTests",
            dependencies: [
                "CronlockCore",
                "RedisTestSupport",
                "TestLoad",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
