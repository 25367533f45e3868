// swift-tools-version:6.0
import PackageDescription

// Data flows one way: cleave (CLI) -> CleaveShim -> CleaveCgroups / CCleaveSpawn / teardown -> report.
// C targets hold everything that runs between clone and exec, or inside the teardown helper.
let package = Package(
    name: "cleave",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cleave", targets: ["cleave"]),
        .executable(name: "cleave-agent", targets: ["cleave-agent"]),
        .library(name: "AsyncTeardown", targets: ["AsyncTeardown"]),
        // For the libFuzzer harnesses in Fuzz/ (a package of their own that depends on this one).
        .library(name: "CleaveOCI", targets: ["CleaveOCI"]),
        .library(name: "CleaveCgroups", targets: ["CleaveCgroups"]),
        .library(name: "CleaveShim", targets: ["CleaveShim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Tests only: property-based inputs for the parsers (Tests/CleavePropertyTests).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // C: the CLONE_VM teardown helper (raw syscalls only).
        .target(name: "CCleaveTeardown"),
        // C: ptrace injection of that helper into a running process (`cleave attach`).
        .target(name: "CCleaveInject", dependencies: ["CCleaveTeardown"]),
        // Sources/CCleavePreload is not a SwiftPM target: hack/build.sh compiles it with
        // CCleaveTeardown into libcleave-teardown.so with cc, because SwiftPM links every
        // library against libswiftCore and an injected library must need only libc.
        // C: clone3(CLONE_INTO_CGROUP) spawn and the child's setup before exec.
        .target(name: "CCleaveSpawn", linkerSettings: [.linkedLibrary("cap")]),

        // C: page touching for the probe workload (volatile stores).
        .target(name: "CCleaveProbe"),

        .target(name: "AsyncTeardown", dependencies: ["CCleaveTeardown"]),
        // libcleave-teardown.so carried inside cleave, so `swift build` alone gives working
        // async teardown (the plugin compiles it with cc, libc only, as hack/build.sh does).
        .target(name: "CleaveTeardownImage", plugins: ["EmbedTeardownLibrary"]),
        .plugin(name: "EmbedTeardownLibrary", capability: .buildTool()),
        // CCleaveSpawn: pidfds and xattrs (ownership marks), which Glibc does not import.
        .target(name: "CleaveCgroups", dependencies: [
            "CCleaveSpawn",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // OCI runtime-spec models and validation; no dependency, so the hook and the agent can use it alone.
        .target(name: "CleaveOCI", dependencies: []),
        .target(name: "CleaveShim", dependencies: [
            "CleaveCgroups", "CleaveOCI", "CCleaveSpawn", "CCleaveProbe", "CleaveTeardownImage", "CCleaveInject",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "CleaveVerify", dependencies: ["CleaveShim", "CleaveCgroups", "CCleaveSpawn"]),
        // The node agent: inotify watcher, teardown tracker, Prometheus exporter, HTTP server.
        // C: pidfd_open(2) for the agent (a variadic syscall() is not callable from Swift).
        .target(name: "CleaveAgent", dependencies: [
            "CleaveCgroups", "CleaveOCI", "CCleaveSpawn",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "cleave", dependencies: [
            "CleaveShim", "CleaveVerify", "CleaveOCI", "CleaveCgroups",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `cleave agent` execs this: the HTTP stack stays out of every `cleave run`'s start-up.
        .executableTarget(name: "cleave-agent", dependencies: [
            "CleaveAgent", "CleaveShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "CleaveCgroupsTests", dependencies: ["CleaveCgroups", "CCleaveSpawn"]),
        .testTarget(name: "CleaveOCITests", dependencies: ["CleaveOCI"]),
        .testTarget(name: "CleaveAgentTests", dependencies: ["CleaveAgent", "CleaveCgroups", "CleaveShim"]),
        .testTarget(name: "CleaveShimTests", dependencies: ["CleaveShim", "CleaveCgroups", "CCleaveSpawn", "AsyncTeardown"],
                    exclude: ["Fixtures"]),
        // Random and mutated input for every parser; CLEAVE_PROPERTY_ITERATIONS raises the count.
        .testTarget(name: "CleavePropertyTests", dependencies: [
            "CleaveCgroups", "CleaveOCI", "CleaveShim",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
    ]
)
