// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for cleave's parsers. A package of its own, so cleave's `swift build`
// never sees them; hack/fuzz.sh builds it with -sanitize=fuzzer,address into .build-fuzz.
// Each harness is a main.swift defining LLVMFuzzerTestOneInput (libFuzzer supplies main;
// -parse-as-library keeps Swift from emitting one).
let package = Package(
    name: "cleave-fuzz",
    dependencies: [.package(name: "cleave", path: "..")],
    targets: [
        .target(name: "CFuzzEntry", path: "Sources/CFuzzEntry"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzEntry"], path: "Sources/FuzzSupport"),
        .executableTarget(name: "fuzz-json", dependencies: [
            "FuzzSupport", .product(name: "CleaveJSON", package: "cleave"),
        ], path: "Sources/json"),
        .executableTarget(name: "fuzz-spec", dependencies: [
            "FuzzSupport", .product(name: "CleaveOCI", package: "cleave"),
            .product(name: "CleaveCgroups", package: "cleave"), .product(name: "CleaveRuntime", package: "cleave"),
            .product(name: "CleaveSystem", package: "cleave"),
        ], path: "Sources/spec"),
        .executableTarget(name: "fuzz-hook-state", dependencies: [
            "FuzzSupport", .product(name: "CleaveOCI", package: "cleave"),
        ], path: "Sources/hook-state"),
        .executableTarget(name: "fuzz-hooks-d", dependencies: [
            "FuzzSupport", .product(name: "CleaveOCI", package: "cleave"),
        ], path: "Sources/hooks-d"),
        .executableTarget(name: "fuzz-stats", dependencies: [
            "FuzzSupport", .product(name: "CleaveCgroups", package: "cleave"),
        ], path: "Sources/stats"),
        .executableTarget(name: "fuzz-mountinfo", dependencies: [
            "FuzzSupport", .product(name: "CleaveCgroups", package: "cleave"),
        ], path: "Sources/mountinfo"),
        .executableTarget(name: "fuzz-size", dependencies: [
            "FuzzSupport", .product(name: "CleaveCgroups", package: "cleave"),
            .product(name: "CleaveRuntime", package: "cleave"), .product(name: "CleaveSystem", package: "cleave"),
        ], path: "Sources/size"),
        .executableTarget(name: "fuzz-duration", dependencies: [
            "FuzzSupport", .product(name: "CleaveSystem", package: "cleave"),
        ], path: "Sources/duration"),
    ]
)
