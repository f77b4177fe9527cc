// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "Sluice",
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .library(name: "SluiceKit", targets: ["SluiceKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Without its default traits: they pull in swift-configuration, which Sluice does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Already built for Hummingbird; named for the server's connection guard (a handler after the HTTP decoder).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Already built for postgres-nio; named here for the TLS settings of `postgres://…?sslmode=`.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
        // Already built for Hummingbird; the long-lived work of servers and schedulers runs as its services.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Traces of runs and steps, exported over OTLP/HTTP; without the gRPC exporter and its dependencies.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // Already built for the trace exporter; webhooks, lineage and HTTP waits use it instead of FoundationNetworking.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // libcrypto (OpenSSL) for SHA-256: the system library, instead of compiling BoringSSL with swift-crypto.
        .target(name: "CSluiceSupport", linkerSettings: [.linkedLibrary("crypto")]),
        .target(
            name: "SluiceKit",
            dependencies: [
                "CSluiceSupport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // The shared store: PostgreSQL, for servers, CLIs and workers on several hosts.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The web UI's files, compiled into the binary: Sluice stays one file with nothing to install beside it.
            resources: [
                .embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/run.js"), .embedInCode("Web/charts.js"),
                .embedInCode("Web/style.css"),
            ]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceKit",
                "SluiceServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SluiceTestSupport", dependencies: ["SluiceKit", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/SluiceTestSupport"),
        .testTarget(name: "SluiceKitTests", dependencies: ["SluiceKit", "SluiceTestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["SluiceKit", "SluiceTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SluiceKit", "SluiceTestSupport"]),
        .testTarget(
            name: "SluiceServerTests",
            dependencies: [
                "SluiceServer", "SluiceTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ]),
    ]
)
