// swift-tools-version:6.2
import PackageDescription

let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "JobRunner",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "JobRunner", targets: ["JobRunner"]),
        .executable(name: "jobctl", targets: ["jobctl"]),
        .library(name: "JobRunnerPostgres", targets: ["JobRunnerPostgres"]),
    ],
    traits: [
        // PostgreSQL support (postgres-nio, and NIO under it). Off by default, so that users who
        // only want SQLite neither fetch nor build it: `swift build --traits PostgreSQL`.
        .trait(name: "PostgreSQL", description: "The PostgreSQL store (JobRunnerPostgres), built on postgres-nio"),
        // `jobctl serve` (dashboard, JSON API, /metrics) and `jobctl run --metrics-listen`, on hummingbird and
        // swift-prometheus. Off by default for the same reason: `swift build --traits Dashboard`.
        .trait(name: "Dashboard", description: "jobctl serve and run --metrics-listen, built on hummingbird and swift-prometheus"),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Only with the Dashboard trait (every use below is conditional on it).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .target(
            name: "JobRunner",
            dependencies: [
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictness
        ),
        // Empty unless the PostgreSQL trait is on: its sources are inside `#if PostgreSQL`, and
        // postgres-nio is its dependency only then.
        .target(
            name: "JobRunnerPostgres",
            dependencies: [
                "JobRunner",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: strictness
        ),
        .target(
            name: "JobRunnerBench",
            dependencies: [
                "JobRunner",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictness
        ),
        // bench/dashboard's seeder: a large database (100,000 jobs, 10,000,000 runs) in seconds.
        .executableTarget(
            name: "DashboardBenchSeed",
            dependencies: [
                "JobRunner",
                // Seeds a `postgres://…` database with the PostgreSQL trait.
                .target(name: "JobRunnerPostgres", condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: strictness
        ),
        .executableTarget(
            name: "jobctl",
            dependencies: [
                "JobRunner",
                "JobRunnerBench",
                // `--db postgres://…` with the PostgreSQL trait.
                .target(name: "JobRunnerPostgres", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                // `serve` and `run --metrics-listen` with the Dashboard trait.
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Dashboard"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["Dashboard"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Dashboard"])),
                .product(name: "HTTPTypes", package: "swift-http-types", condition: .when(traits: ["Dashboard"])),
            ],
            swiftSettings: strictness
        ),
        // What the three test targets share: a sandbox, a process launcher, deadline-bounded waits.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: strictness
        ),
        .testTarget(
            name: "JobRunnerTests",
            dependencies: [
                "JobRunner",
                "TestSupport",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // With the PostgreSQL trait, Postgres/ and the conformance suite run against a server
                // too: JOBRUNNER_TEST_POSTGRES_URL (scripts/start-postgres prints one).
                .target(name: "JobRunnerPostgres", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
            ],
            exclude: ["Conformance/README.md"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "jobctl",
                "JobRunner",
                "TestSupport",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                // With the PostgreSQL trait, the scenarios that set up or drive a store in-process
                // (bulk adds, clock jumps, wake-up races) open the PostgreSQL store too.
                .target(name: "JobRunnerPostgres", condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: strictness
        ),
        // The dashboard's tests: the JSON API against `--json`, actions and CSRF, `/metrics` through a
        // Prometheus parser, and the pages in headless Chromium. Empty unless the Dashboard trait is on
        // (scripts/test runs them in its second build).
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "jobctl",
                "JobRunner",
                "TestSupport",
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "jobctlTests",
            dependencies: [
                "jobctl",
                "JobRunner",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictness
        ),
    ]
)
