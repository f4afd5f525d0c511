// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mlops",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mlops", targets: ["mlops"]),
        .library(name: "MLOpsCore", targets: ["MLOpsCore"]),
        .library(name: "MLOpsLearn", targets: ["MLOpsLearn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // posix_spawn with a new process group, and pidfd: the two things Foundation's Process cannot do.
        .target(name: "CSystem"),
        // Pure math: datasets, features, learners, metrics, synthetic cohorts. Foundation only.
        .target(name: "MLOpsLearn"),
        .target(
            name: "MLOpsCore",
            dependencies: [
                "CSystem",
                "MLOpsLearn",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "mlops",
            dependencies: [
                "MLOpsCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MLOpsLearnTests", dependencies: ["MLOpsLearn"]),
        .testTarget(name: "MLOpsCoreTests", dependencies: ["MLOpsCore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["mlops", "MLOpsCore"]),
    ],
    swiftLanguageModes: [.v6]
)
