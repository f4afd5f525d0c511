// swift-tools-version: 6.0
// The learning benchmark's driver: its own package, so the main build never pays for it.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "learnbench",
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(
            name: "learnbench",
            dependencies: [.product(name: "MLOpsLearn", package: root.lastPathComponent)],
            swiftSettings: [.unsafeFlags(["-Ounchecked"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
