// swift-tools-version: 6.1
import PackageDescription

// Every target compiles in Swift 6 language mode with the same upcoming features, so module
// boundaries are explicit (`public import` only where a type crosses them).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Kinko",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kinko", targets: ["kinko"]),
        .library(name: "KinkoCore", targets: ["KinkoCore"]),
        .library(name: "KinkoGovernance", targets: ["KinkoGovernance"]),
        .library(name: "KinkoLedger", targets: ["KinkoLedger"]),
        .library(name: "KinkoCustody", targets: ["KinkoCustody"]),
        .library(name: "KinkoReserve", targets: ["KinkoReserve"]),
        .library(name: "KinkoMonitoring", targets: ["KinkoMonitoring"]),
        .library(name: "KinkoSurveillance", targets: ["KinkoSurveillance"]),
        .library(name: "KinkoSQLite", targets: ["KinkoSQLite"]),
        .library(name: "KinkoPostgres", targets: ["KinkoPostgres"]),
        .library(name: "KinkoStores", targets: ["KinkoStores"]),
        .library(name: "KinkoServer", targets: ["KinkoServer"]),
        .library(name: "KinkoPlaybook", targets: ["KinkoPlaybook"]),
        .library(name: "KinkoControls", targets: ["KinkoControls"]),
        .library(name: "KinkoBitcoin", targets: ["KinkoBitcoin"]),
        .library(name: "KinkoReports", targets: ["KinkoReports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", exact: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", exact: "2.1.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", exact: "2.5.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", exact: "1.5.0"),
    ],
    targets: [
        .target(
            name: "KinkoCore",
            dependencies: [.product(name: "CSV", package: "CSV.swift")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoGovernance",
            dependencies: [
                "KinkoCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoPlaybook",
            dependencies: ["KinkoCore", "KinkoGovernance"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoLedger",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoCustody",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoBitcoin",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoReserve",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoCustody",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoMonitoring",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        // Market surveillance on the order and trade stream: insider controls and the
        // market-abuse detectors (domain only: no storage, no HTTP).
        .target(
            name: "KinkoSurveillance",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoMonitoring", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoReports",
            dependencies: [
                "KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody", "KinkoReserve", "KinkoMonitoring",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoControls",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody", "KinkoReserve", "KinkoMonitoring", "KinkoReports"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoSQLite",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoCustody",
                "KinkoReserve",
                "KinkoMonitoring",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // libsecp256k1 from Debian (`apt-get install libsecp256k1-dev`): Bitcoin Core's curve library.
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        // Batch affine additions on secp256k1 for public derivation by the million (C: the
        // 4×64-bit field arithmetic runs twice as fast as the same code in Swift).
        .target(name: "CKinkoField", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "KinkoBitcoin",
            dependencies: [
                "CKinkoField",
                "KinkoCore",
                "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoBitcoinTests",
            dependencies: ["KinkoBitcoin", "KinkoCore"],
            resources: [.copy("Vectors")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoPostgres",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoCustody",
                "KinkoReserve",
                "KinkoMonitoring",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoStores",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoCustody",
                "KinkoReserve",
                "KinkoMonitoring",
                "KinkoSQLite",
                "KinkoPostgres",
                "KinkoControls",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KinkoServer",
            dependencies: [
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoCustody",
                "KinkoReserve",
                "KinkoMonitoring",
                "KinkoControls",
                "KinkoReports",
                "KinkoSurveillance",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The contract and the code swift-openapi-generator made from it (committed:
            // scripts/openapi-generate.sh regenerates it; a test checks it is the contract's).
            exclude: ["openapi.yaml", "openapi-generator-config.yaml", "Generated/openapi.yaml.sha256"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "kinko",
            dependencies: [
                "KinkoBitcoin",
                "KinkoCore",
                "KinkoGovernance",
                "KinkoLedger",
                "KinkoCustody",
                "KinkoReserve",
                "KinkoMonitoring",
                "KinkoSQLite",
                "KinkoPostgres",
                "KinkoStores",
                "KinkoServer",
                "KinkoPlaybook",
                "KinkoControls",
                "KinkoReports",
                "KinkoSurveillance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Helpers more than one test target uses (a raw loopback TCP connection).
        .target(
            name: "KinkoTestSupport",
            path: "Tests/KinkoTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoCoreTests",
            dependencies: ["KinkoCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoGovernanceTests",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoPlaybook"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoLedgerTests",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoLedger"],
            // TigerBeetle's state-machine tables (Apache-2.0, see its NOTICE.md), for the
            // conformance runner of issue 22.
            resources: [.copy("Resources/TigerBeetle")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoCustodyTests",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoReserveTests",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody", "KinkoReserve"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoSurveillanceTests",
            dependencies: ["KinkoCore", "KinkoMonitoring", "KinkoSurveillance", "KinkoStores"],
            // market-dev (synthetic, marketsim) cut to MNR/JPY and KBT/JPY by scripts/market_sample.py.
            resources: [.copy("Resources/market-dev-sample")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoMonitoringTests",
            dependencies: ["KinkoCore", "KinkoGovernance", "KinkoMonitoring", "KinkoStores"],
            // A seeded sample of AMLSim's amlsim-dev (IBM AMLSim, Apache-2.0; cut by
            // scripts/amlsim_sample.py) for the network detectors' metamorphic tests.
            resources: [.copy("Resources/amlsim-dev-sample")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoServerTests",
            dependencies: [
                "KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody", "KinkoReserve", "KinkoMonitoring", "KinkoSQLite", "KinkoServer", "KinkoStores", "KinkoPlaybook", "KinkoControls", "KinkoReports", "KinkoSurveillance", "KinkoTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoSQLiteTests",
            dependencies: [
                "KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody", "KinkoReserve", "KinkoMonitoring", "KinkoSQLite", "KinkoPostgres", "KinkoStores", "KinkoPlaybook", "KinkoControls", "KinkoTestSupport", "KinkoBitcoin",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KinkoStoreContractTests",
            dependencies: [
                "KinkoCore", "KinkoGovernance", "KinkoLedger", "KinkoCustody", "KinkoReserve", "KinkoMonitoring", "KinkoSQLite", "KinkoPostgres", "KinkoStores", "KinkoPlaybook", "KinkoControls", "KinkoBitcoin", "KinkoReports", "KinkoSurveillance",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
