// swift-tools-version:6.0
// lep: LLM checkpoint surgery for Learned Embedding Propagation.
import PackageDescription

let package = Package(
    name: "lep",
    products: [
        .executable(name: "lep", targets: ["lep"]),
        .library(name: "LEPKit", targets: ["LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "Surgery", "LEPCLI"]),
    ],
    targets: [
        // C libraries from Debian (installed by the Makefile).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        // Linux calls Swift's Glibc module lacks (copy_file_range).
        .target(name: "CPlatform"),
        // A small C++ target with an extern "C" API over libsentencepiece.
        .target(
            name: "CSentencePiece",
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: [.linkedLibrary("sentencepiece"), .linkedLibrary("stdc++")]
        ),

        // Libraries, lowest layer first.
        .target(name: "LEPJSON"),
        .target(name: "TensorMath", dependencies: ["CBLAS"]),
        .target(name: "SafeTensors", dependencies: ["LEPJSON", "TensorMath", "CPlatform"]),
        .target(name: "Tokenizers", dependencies: ["LEPJSON", "CSentencePiece"]),
        .target(name: "Models", dependencies: ["LEPJSON", "SafeTensors", "TensorMath"]),
        .target(name: "Surgery", dependencies: ["LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "CZstd", "CBLAS"]),
        .target(name: "Evaluation", dependencies: ["LEPJSON", "SafeTensors", "Tokenizers", "Models"]),
        .target(name: "LEPCLI", dependencies: ["LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "Surgery", "Evaluation"]),
        .executableTarget(name: "lep", dependencies: ["LEPCLI"]),
        // Fuzz entry point for the safetensors header parser (see README, "Fuzzing").
        .executableTarget(name: "lep-fuzz-header", dependencies: ["SafeTensors"]),

        // Shared by the test targets: where fixtures/ and ../shared/realdata are.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LEPJSONTests", dependencies: ["LEPJSON", "CJSONC", "TestSupport"]),
        .testTarget(name: "TensorMathTests", dependencies: ["TensorMath", "TestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TensorMath", "LEPJSON", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "LEPJSON", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "SafeTensors", "TestSupport"]),
        .testTarget(name: "CShimsTests", dependencies: ["CZstd", "CBLAS", "CJSONC", "CSentencePiece", "TestSupport"]),
        .testTarget(name: "SurgeryTests", dependencies: ["Surgery", "SafeTensors", "Tokenizers", "Models", "LEPJSON", "TensorMath", "CBLAS", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "LEPJSON", "Models", "Tokenizers", "SafeTensors", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SafeTensors", "LEPJSON", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
