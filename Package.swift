// swift-tools-version:6.0
import PackageDescription

// Data flows one way: CLI -> runtime, hook, inventory, verify, agent -> cgroups, OCI, JSON -> OS layer -> C.
// The layout is described at the top of the README's architecture section.
// C targets hold everything that runs between clone and exec, or inside the teardown helper.
let package = Package(
    name: "cleave",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cleave", targets: ["cleave"]),
        .executable(name: "cleave-agent", targets: ["cleave-agent"]),
        .library(name: "AsyncTeardown", targets: ["AsyncTeardown"]),
        // For the libFuzzer harnesses in Fuzz/ (a package of their own that depends on this one).
        .library(name: "CleaveJSON", targets: ["CleaveJSON"]),
        .library(name: "CleaveOCI", targets: ["CleaveOCI"]),
        .library(name: "CleaveSystem", targets: ["CleaveSystem"]),
        .library(name: "CleaveCgroups", targets: ["CleaveCgroups"]),
        .library(name: "CleaveRuntime", targets: ["CleaveRuntime"]),
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
        // ── C: the few things Swift cannot or must not do ──────────────────────────────
        // What C and Swift agree on (the helper's name, the environment names, syscall
        // numbers), defined once; Swift reads it with `import CCleaveContract`.
        .target(name: "CCleaveContract"),
        // The CLONE_VM teardown helper (raw syscalls only). Sources/CCleavePreload is not a
        // SwiftPM target: hack/compile-teardown-library.sh compiles it with this one into
        // libcleave-teardown.so with cc, because SwiftPM links every library against
        // libswiftCore and an injected library must need only libc.
        .target(name: "CCleaveTeardown", dependencies: ["CCleaveContract"]),
        // Calls Swift's Glibc module does not import: pidfd_open, signalfd, xattrs, closefrom.
        .target(name: "CCleaveSystem", dependencies: ["CCleaveContract"]),
        // clone3(CLONE_INTO_CGROUP) spawn and the child's setup before exec (libcap).
        .target(name: "CCleaveSpawn", dependencies: ["CCleaveSystem", "CCleaveContract"],
                linkerSettings: [.linkedLibrary("cap")]),
        // ptrace injection of that helper into a running process (`cleave attach`).
        .target(name: "CCleaveInject", dependencies: ["CCleaveTeardown", "CCleaveContract"]),
        // Page touching for the probe workload (volatile stores), and its linked helper
        // (a static cleave: LD_PRELOAD cannot reach it).
        .target(name: "CCleaveProbe", dependencies: ["CCleaveTeardown", "CCleaveContract"]),

        // ── Swift, bottom up ───────────────────────────────────────────────────────────
        // The OS layer: errors with errno, files, /proc, clocks, detached spawn, console.
        .target(name: "CleaveSystem", dependencies: ["CCleaveSystem", "CCleaveContract"]),
        // JSON reading and writing that names the byte and field of every failure.
        .target(name: "CleaveJSON", dependencies: ["CleaveSystem"]),
        // OCI runtime-spec models and validation.
        .target(name: "CleaveOCI", dependencies: ["CleaveJSON", "CleaveSystem"]),
        // The cgroup v2 library: paths, limits, lifecycle, ownership, statistics, teardown state.
        .target(name: "CleaveCgroups", dependencies: [
            "CleaveSystem", "CCleaveSystem",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "AsyncTeardown", dependencies: ["CCleaveTeardown"]),
        // libcleave-teardown.so carried inside cleave, so `swift build` alone gives working
        // async teardown (the plugin compiles it with cc, libc only, as hack/build.sh does).
        .target(name: "CleaveTeardownImage", plugins: ["EmbedTeardownLibrary"]),
        .plugin(name: "EmbedTeardownLibrary", capability: .buildTool()),
        // Running a workload: spawn into a cgroup, supervise, watch the teardown, bundles, records.
        .target(name: "CleaveRuntime", dependencies: [
            "CleaveSystem", "CleaveCgroups", "CleaveOCI", "CleaveJSON",
            "CCleaveSpawn", "CCleaveSystem", "CCleaveContract", "CCleaveProbe", "CCleaveTeardown", "CleaveTeardownImage", "CCleaveInject",
            // RunOptions: the run options declared once, for the parser and the fast path.
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The OCI hook (poststart/poststop) for crun, runc, podman and CRI-O.
        .target(name: "CleaveHook", dependencies: [
            "CleaveRuntime", "CleaveSystem", "CleaveCgroups", "CleaveOCI", "CleaveJSON", "CCleaveSystem",
        ]),
        // What cleave has running on the node: `cleave ps` and `cleave gc`.
        .target(name: "CleaveInventory", dependencies: [
            "CleaveRuntime", "CleaveSystem", "CleaveCgroups", "CleaveJSON", "CCleaveSystem",
        ]),
        .target(name: "CleaveVerify", dependencies: [
            "CleaveRuntime", "CleaveSystem", "CleaveCgroups", "CCleaveSystem", "CCleaveContract",
        ]),
        // The node agent: inotify watcher, teardown tracker, Prometheus exporter, HTTP server.
        // No run code: it watches cgroups, it does not start workloads.
        .target(name: "CleaveAgent", dependencies: [
            "CleaveSystem", "CleaveCgroups", "CleaveOCI", "CleaveJSON", "CCleaveSystem",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // How both executables end: "cleave: <message>" and the exit code, rendered once.
        .target(name: "CleaveCommandLine", dependencies: [
            "CleaveSystem", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The command line: swift-argument-parser commands over the modules above.
        .executableTarget(name: "cleave", dependencies: [
            "CleaveRuntime", "CleaveHook", "CleaveInventory", "CleaveVerify", "CleaveCommandLine",
            "CleaveSystem", "CleaveOCI", "CleaveJSON", "CleaveCgroups",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `cleave agent` execs this: the HTTP stack stays out of every `cleave run`'s start-up.
        .executableTarget(name: "cleave-agent", dependencies: [
            "CleaveAgent", "CleaveSystem", "CleaveCommandLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // ── Tests ──────────────────────────────────────────────────────────────────────
        // Fixtures shared by the test targets: scratch cgroups, child processes, the built binaries.
        .target(name: "CleaveTestSupport", dependencies: ["CleaveSystem", "CleaveCgroups", "CCleaveSystem"],
                path: "Tests/CleaveTestSupport"),
        .testTarget(name: "CleaveCgroupsTests", dependencies: ["CleaveCgroups", "CleaveSystem", "CCleaveSystem", "CleaveTestSupport"]),
        .testTarget(name: "CleaveOCITests", dependencies: ["CleaveOCI", "CleaveJSON", "CleaveSystem"]),
        .testTarget(name: "CleaveAgentTests", dependencies: [
            "CleaveAgent", "CleaveCgroups", "CleaveSystem", "CleaveRuntime", "CleaveTestSupport",
        ]),
        .testTarget(name: "CleaveRuntimeTests", dependencies: [
            "CleaveRuntime", "CleaveHook", "CleaveInventory", "CleaveVerify", "CleaveSystem",
            "CleaveCgroups", "CleaveOCI", "CleaveJSON", "CCleaveSpawn", "CCleaveSystem", "AsyncTeardown",
            "CleaveTestSupport",
        ], exclude: ["Fixtures"]),
        // Random and mutated input for every parser; CLEAVE_PROPERTY_ITERATIONS raises the count.
        .testTarget(name: "CleavePropertyTests", dependencies: [
            "CleaveCgroups", "CleaveOCI", "CleaveJSON", "CleaveRuntime", "CleaveSystem",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
    ]
)
