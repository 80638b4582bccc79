// swift-tools-version:6.0
// ddnzip: a lossless image codec whose model is a Discrete Distribution Network.
import PackageDescription

// No flag here may change floating-point results (no -ffast-math, no FMA contraction):
// decoding must be bit-exact across machines, thread counts and build configurations.
let package = Package(
    name: "ddnzip",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DDNKernel", targets: ["DDNKernel"]),
        .executable(name: "ddnzip", targets: ["ddnzip"]),
        .executable(name: "ddnunzip", targets: ["ddnunzip"]),
        .executable(name: "ddntrain", targets: ["ddntrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libpng's classic API (errors arrive through setjmp, which Swift cannot call), zlib's CRC-32
        // and OpenSSL's SHA-256, behind a small C interface.
        .target(
            name: "CPNG",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z"), .linkedLibrary("crypto")]
        ),
        // The default model's bytes, embedded at build time (Corpus/models/fashion-mnist.ddnm).
        .target(
            name: "CDefaultModel",
            cSettings: [.define("DDN_DEFAULT_MODEL_PATH", to: "\(Context.packageDirectory)/Corpus/models/fashion-mnist.ddnm")]
        ),
        .target(
            name: "DDNKernel",
            dependencies: ["CPNG", "CDefaultModel"]
        ),
        // One-line error reporting shared by the command lines.
        .target(name: "CLISupport", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ddnzip", dependencies: ["DDNKernel", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ddnunzip", dependencies: ["DDNKernel", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ddntrain", dependencies: ["DDNKernel", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "DDNKernelTests", dependencies: ["DDNKernel"]),
        .testTarget(name: "CLITests", dependencies: ["DDNKernel"]),
    ]
)
