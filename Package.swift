// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mssclamp",
    products: [
        .executable(name: "mssclamp", targets: ["mssclamp"]),
        .library(name: "MSSClampCore", targets: ["MSSClampCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        // The packet core: pure Swift, no Foundation, no I/O, no C.
        .target(name: "MSSClampCore"),

        // Tunnel stacks and the MTU/MSS arithmetic behind `mssclamp mss` (pure, like the core).
        .target(name: "MSSClampTunnels", dependencies: ["MSSClampCore"]),

        // Path MTUs learned from ICMP, with the limits that keep hostile ICMP harmless (pure).
        .target(name: "MSSClampLearning", dependencies: ["MSSClampCore"]),

        // libyaml, behind one thin module: the policy file's parser (Yams would bring Foundation).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),

        // Policy from YAML files and iptables-style flags (no Foundation: the worker loads it).
        .target(name: "MSSClampConfig", dependencies: ["MSSClampCore", "MSSClampTunnels", "MSSClampLearning", "CYAML"]),

        // libpcap, behind one thin module.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "MSSClampCapture", dependencies: ["CPcap"]),

        // libmnl + libnetfilter_queue, behind the only module that speaks netlink.
        .systemLibrary(name: "CNetfilterQueue", pkgConfig: "libnetfilter_queue", providers: [.apt(["libnetfilter-queue-dev", "libmnl-dev"])]),
        .target(name: "MSSClampNFQueue", dependencies: ["CNetfilterQueue", "MSSClampCore", "MSSClampPrivileges"]),

        // libcap, behind the module that narrows the process to the capabilities it needs.
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .target(name: "MSSClampPrivileges", dependencies: ["CCap"]),

        // Thread names and CPU pinning for the queue threads (declared by glibc only under _GNU_SOURCE).
        .systemLibrary(name: "CThread"),

        // The NFQUEUE worker: queue threads running the core, shared counters and policy.
        // Its locks are NIO's pthread-based ones, which ThreadSanitizer can follow (make sanitize).
        .target(
            name: "MSSClampWorker",
            dependencies: [
                "MSSClampCore", "MSSClampNFQueue", "MSSClampLearning", "CThread", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            // A queue thread owns its QueueWorker alone; the run-time exclusivity checks on
            // its stored properties cost ~260 instructions per SYN (callgrind). Checked
            // statically still, and by TSan in make sanitize.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),

        // Prometheus exposition of the daemon's Snapshot, served over HTTP by swift-nio.
        .target(
            name: "MSSClampMetrics",
            dependencies: [
                "MSSClampStatus", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),

        // iptables / ip6tables rules from a policy; applied through swift-subprocess, no shell.
        .target(
            name: "MSSClampRules",
            dependencies: ["MSSClampCore", .product(name: "Subprocess", package: "swift-subprocess")]
        ),

        // One SYN's decision as a tcpdump-like line or JSON: dry-run's report, watch's, and the
        // worker's debug samples (pure: no capture, no C library).
        .target(name: "MSSClampReport", dependencies: ["MSSClampCore"]),

        // Dry-run: captures through the core, reported line by line.
        .target(name: "MSSClampReplay", dependencies: ["MSSClampCore", "MSSClampCapture", "MSSClampLearning", "MSSClampReport"]),

        // `mssclamp watch`: live SYNs and path-MTU ICMP, judged by the policy on copies.
        .target(
            name: "MSSClampWatch",
            dependencies: [
                "MSSClampCore", "MSSClampCapture", "MSSClampConfig", "MSSClampReplay", "MSSClampReport", "MSSClampLearning", "MSSClampStatus",
            ]),

        // What a running worker publishes (one Snapshot of its counts, its state file) and
        // what `mssclamp status` reads and judges from it, with the kernel's queue counters
        // (/proc). Imports no worker and no C library: it only reads.
        .target(name: "MSSClampStatus", dependencies: ["MSSClampCore", "MSSClampRules", "MSSClampLearning"]),

        // `mssclamp doctor`: the gateway read once (sysctls, firewall listings, links), then
        // judged by pure checks, each finding with its fix.
        .target(name: "MSSClampDoctor", dependencies: ["MSSClampCore", "MSSClampRules", "MSSClampStatus"]),

        // `mssclamp probe`: a path's MTU by DF probes on raw sockets (ICMP echo or TCP SYN),
        // the black-hole hop by TTL-limited ones. The search and the walk are pure.
        .target(name: "MSSClampProbe", dependencies: ["MSSClampCore"]),

        // The running service's life: start order, privileges, the control loop (ticks,
        // SIGHUP, repair), publishing state, feeding metrics, telling systemd.
        .target(
            name: "MSSClampDaemon",
            dependencies: [
                "MSSClampCore", "MSSClampConfig", "MSSClampLearning", "MSSClampMetrics", "MSSClampNFQueue", "MSSClampPrivileges",
                "MSSClampReport", "MSSClampRules", "MSSClampStatus", "MSSClampWorker",
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        .executableTarget(
            name: "mssclamp",
            dependencies: [
                "MSSClampCapture", "MSSClampConfig", "MSSClampCore", "MSSClampDaemon", "MSSClampLearning", "MSSClampMetrics", "MSSClampNFQueue",
                "MSSClampReplay", "MSSClampReport", "MSSClampRules", "MSSClampStatus", "MSSClampTunnels", "MSSClampWatch", "MSSClampDoctor",
                "MSSClampProbe", "MSSClampPrivileges",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Fuzzing (make fuzz): the properties each target checks, and the targets. Built
        // normally they replay inputs; with -sanitize=fuzzer,address -DFUZZING they fuzz.
        .systemLibrary(name: "CFuzzer", path: "Fuzz/CFuzzer"),
        .target(
            name: "MSSClampFuzzChecks",
            dependencies: ["MSSClampCore", "MSSClampLearning", "MSSClampReplay", "MSSClampReport", "MSSClampConfig", "CFuzzer"],
            path: "Fuzz/Checks"
        ),
        .executableTarget(name: "fuzz-core", dependencies: ["MSSClampFuzzChecks"], path: "Fuzz/Targets/core"),
        .executableTarget(name: "fuzz-capture", dependencies: ["MSSClampFuzzChecks"], path: "Fuzz/Targets/capture"),
        .executableTarget(name: "fuzz-policy", dependencies: ["MSSClampFuzzChecks"], path: "Fuzz/Targets/policy"),

        // make bench / make test: the worker's per-packet path on synthetic queue messages
        // (hotpath allocs: zero heap allocations; callgrind: instructions per SYN).
        .target(name: "CAllocCounter", path: "bench/alloc-counter"),
        .executableTarget(
            name: "hotpath",
            dependencies: ["CAllocCounter", "CNetfilterQueue", "MSSClampCore", "MSSClampLearning", "MSSClampWorker"],
            path: "bench/hotpath"
        ),

        .testTarget(name: "MSSClampCoreTests", dependencies: ["MSSClampCore"]),
        .testTarget(
            name: "MSSClampDaemonTests",
            dependencies: [
                "MSSClampDaemon", "MSSClampCore", "MSSClampRules", "MSSClampStatus", "MSSClampWorker", "MSSClampLearning",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MSSClampFuzzChecksTests", dependencies: ["MSSClampFuzzChecks"]),
        .testTarget(name: "MSSClampConfigTests", dependencies: ["MSSClampConfig", "MSSClampCore", "TestSupport"]),
        .testTarget(
            name: "MSSClampWatchTests",
            dependencies: [
                "MSSClampWatch", "MSSClampLearning", "MSSClampCapture", "MSSClampCore", "TestSupport", "MSSClampStatus", "MSSClampRules",
                "MSSClampConfig",
            ]),
        .testTarget(name: "MSSClampLearningTests", dependencies: ["MSSClampLearning", "MSSClampCore"]),
        .testTarget(name: "MSSClampTunnelsTests", dependencies: ["MSSClampTunnels", "MSSClampCore"]),
        .testTarget(name: "MSSClampCaptureTests", dependencies: ["MSSClampCapture"]),
        // Helpers for the tests that run real tools: processes, namespaces' scenario scripts, tshark.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MSSClampWorkerTests", dependencies: ["TestSupport", "MSSClampWorker", "MSSClampCore", "MSSClampLearning"]),
        .testTarget(name: "MSSClampNFQueueTests", dependencies: ["MSSClampNFQueue", "CNetfilterQueue"]),
        .testTarget(name: "MSSClampMetricsTests", dependencies: ["MSSClampMetrics", "MSSClampStatus", "MSSClampCore"]),
        .testTarget(name: "MSSClampPrivilegesTests", dependencies: ["MSSClampPrivileges", "TestSupport"]),
        .testTarget(name: "mssclampTests", dependencies: ["TestSupport"]),
        .testTarget(name: "MSSClampProbeTests", dependencies: ["MSSClampProbe", "MSSClampCore", "TestSupport"]),
        .testTarget(name: "MSSClampDoctorTests", dependencies: ["MSSClampDoctor", "MSSClampCore", "TestSupport"]),
        .testTarget(
            name: "MSSClampStatusTests", dependencies: ["MSSClampStatus", "MSSClampRules", "MSSClampCore", "TestSupport"]),
        .testTarget(
            name: "MSSClampRulesTests", dependencies: ["MSSClampRules", "MSSClampConfig", "MSSClampCore", "TestSupport"], exclude: ["Golden"]),
        .testTarget(
            name: "MSSClampReplayTests",
            dependencies: ["MSSClampReplay", "MSSClampReport", "MSSClampCapture", "MSSClampConfig", "MSSClampCore", "TestSupport"],
            exclude: ["Golden"]
        ),
    ]
)
