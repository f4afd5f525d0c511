// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mlops",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mlops", targets: ["mlops"]),
        .library(name: "MLOpsCore", targets: ["MLOpsCore"]),
        .library(name: "MLOpsLearn", targets: ["MLOpsLearn"]),
        .library(name: "MLOpsServer", targets: ["MLOpsServer"]),
        .library(name: "MLOpsStore", targets: ["MLOpsStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // posix_spawn with a new process group, and pidfd: the two things Foundation's Process cannot do.
        .target(name: "CProcessSpawn"),
        // libpq, PostgreSQL's client library, loaded on first use for the same reason: building
        // needs no libpq headers, and a process on the embedded SQLite store never loads it.
        .target(name: "CLibPQ", linkerSettings: [.linkedLibrary("dl")]),
        // Pure math: datasets, features, learners, metrics, synthetic cohorts. Foundation only.
        .target(name: "MLOpsLearn"),
        // How values are written out: the one JSON writer and reader, and the escapers for the
        // terminal, logfmt, XML/SVG/HTML and spreadsheets. Foundation only; every layer uses it.
        .target(name: "MLOpsText"),
        // The storage layer: the only code that holds SQL or imports a database library. One owner
        // per table over one SQL seam (`SQLDatabase`), with two backends: SQLite through GRDB,
        // PostgreSQL through libpq. The layers above see typed values, never a backend's types.
        .target(
            name: "MLOpsStore",
            dependencies: [
                "CLibPQ",
                "MLOpsLearn",
                "MLOpsText",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Outgoing HTTP (webhooks, the Ray Jobs API) through AsyncHTTPClient, whose client starts
        // on first use: a command that sends nothing does not start an event loop.
        .target(
            name: "MLOpsHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "MLOpsCore",
            dependencies: [
                "CProcessSpawn",
                "MLOpsHTTP",
                "MLOpsLearn",
                "MLOpsStore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The web view: pages rendered on the server from the store's owners, templates embedded
        // in the binary (no files to install, no JavaScript build).
        .target(
            name: "MLOpsWeb",
            dependencies: [
                "MLOpsCore",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            resources: [
                .embedInCode("Templates/layout.mustache"),
                .embedInCode("Templates/runs.mustache"),
                .embedInCode("Templates/run.mustache"),
                .embedInCode("Templates/models.mustache"),
                .embedInCode("Templates/model.mustache"),
                .embedInCode("Templates/rollouts.mustache"),
                .embedInCode("Templates/rollout.mustache"),
                .embedInCode("Templates/monitors.mustache"),
                .embedInCode("Templates/monitor.mustache"),
                .embedInCode("Templates/jobs.mustache"),
                .embedInCode("Templates/compare.mustache"),
            ]
        ),
        // HTTP: model serving and feedback, health, Prometheus metrics. Its own target so the core
        // and its tests do not wait for SwiftNIO.
        .target(
            name: "MLOpsServer",
            dependencies: [
                "MLOpsCore",
                "MLOpsWeb",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "mlops",
            dependencies: [
                "MLOpsCore",
                "MLOpsServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MLOpsLearnTests", dependencies: ["MLOpsLearn"]),
        .testTarget(name: "MLOpsStoreTests", dependencies: ["MLOpsStore"]),
        .testTarget(name: "MLOpsTextTests", dependencies: ["MLOpsText"]),
        .testTarget(name: "MLOpsCoreTests", dependencies: ["MLOpsCore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["mlops", "MLOpsCore"]),
        // Properties checked against an independent oracle (strtod, a minute-by-minute walk, the
        // parser itself), and the inputs the fuzzers once crashed on (fuzz/Regressions).
        .testTarget(
            name: "PropertyTests",
            dependencies: ["MLOpsCore", "MLOpsLearn", "MLOpsStore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
