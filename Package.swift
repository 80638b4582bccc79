// swift-tools-version:6.0
// ddnzip: a lossless image codec whose model is a Discrete Distribution Network.
import PackageDescription

// No flag here may change floating-point results (no -ffast-math, no FMA contraction):
// decoding must be bit-exact across machines, thread counts and build configurations.

// The matrix-product kernel, compiled a second time for AVX2 CPUs (x86-64 hosts only; chosen at
// run time, same results: Sources/DDNGemm/Gemm.swift).
#if arch(x86_64)
let avx2Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"]), .define("DDN_AVX2")]
#else
let avx2Settings: [SwiftSetting] = []
#endif

let package = Package(
    name: "ddnzip",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DDNKernel", targets: ["DDNKernel"]),
        // libDDNZipC.so: the C ABI that the Python package (python/) reads archives through.
        .library(name: "DDNZipC", type: .dynamic, targets: ["DDNZipC"]),
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
        // The default model and the earlier defaults, embedded at build time (Corpus/models/).
        .target(
            name: "CDefaultModel",
            cSettings: [.define("DDN_MODEL_DIR", to: "\(Context.packageDirectory)/Corpus/models")]
        ),
        .target(name: "DDNGemm"),
        .target(name: "DDNGemmAVX2", swiftSettings: avx2Settings),
        .target(
            name: "DDNKernel",
            dependencies: ["CPNG", "CDefaultModel", "DDNGemm", "DDNGemmAVX2"],
            exclude: ["Coding/Entropy/README.md", "Coding/Classical/README.md", "Coding/ModelCoding/README.md"]
        ),
        // A small C ABI over the archive reader (python/README.md).
        .target(name: "DDNZipC", dependencies: ["DDNKernel"]),
        // What the command lines share: one-line errors, common options, progress bar, signal handling.
        .target(name: "CLISupport", dependencies: ["DDNKernel", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ddnzip", dependencies: ["DDNKernel", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ddnunzip", dependencies: ["DDNKernel", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ddntrain", dependencies: ["DDNKernel", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "DDNKernelTests", dependencies: ["DDNKernel", "DDNGemm", "DDNGemmAVX2"]),
        .testTarget(name: "CLITests", dependencies: ["DDNKernel"]),
    ]
)
