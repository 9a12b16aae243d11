// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The main package is this folder's parent; SwiftPM names a path dependency after its folder,
// which is whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let main = root.lastPathComponent

// libFuzzer targets, kept out of the main package: they only link when built with
// `-sanitize=fuzzer`, which `fuzz/run.sh` passes. Each exercises one parser that reads
// untrusted input: the configuration file, S3's XML answers, and object keys from a remote.
let package = Package(
    name: "lifeboat-fuzz",
    dependencies: [.package(path: root.path)],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzConfigFile", dependencies: ["FuzzDriver", .product(name: "LifeboatCore", package: main)]),
        .executableTarget(name: "FuzzS3XML", dependencies: ["FuzzDriver", .product(name: "S3", package: main)]),
        .executableTarget(name: "FuzzObjectKey", dependencies: ["FuzzDriver", .product(name: "LifeboatCore", package: main)]),
    ]
)
