// swift-tools-version:6.0
// lep: LLM checkpoint surgery for Learned Embedding Propagation.
import PackageDescription

let package = Package(
    name: "lep",
    products: [
        .executable(name: "lep", targets: ["lep"]),
        .library(
            name: "LEPKit",
            targets: [
                "Support", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "Surgery", "Recipes", "Merging", "Vocabulary", "Propagation", "Pipelines", "ChatTemplates", "Evaluation",
                "GGUF", "GGUFConversion"
            ])
    ],
    targets: [
        // C libraries from Debian (installed by the Makefile).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        // Linux calls Swift's Glibc module lacks (copy_file_range).
        .target(name: "CPlatform"),
        // Vector kernels of the forward pass (bf16/f16/f32 matrix-vector products, softmax, SwiGLU,
        // attention of one row), AVX-512/AVX2 chosen at run time. SwiftPM's own optimisation levels
        // (-O0 debug, -O2 release): no unsafe flags, so the package can be depended on.
        .target(name: "CKernels"),
        // A small C++ target with an extern "C" API over libsentencepiece.
        .target(
            name: "CSentencePiece",
            linkerSettings: [.linkedLibrary("sentencepiece"), .linkedLibrary("stdc++")]
        ),

        // Libraries, lowest layer first. Support: helpers every layer shares, one implementation each.
        .target(name: "Support", dependencies: ["CPlatform"]),
        .target(name: "LEPJSON"),
        .target(name: "TensorMath", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "SafeTensors", dependencies: ["Support", "LEPJSON", "TensorMath"]),
        .target(name: "Tokenizers", dependencies: ["Support", "LEPJSON", "CSentencePiece"]),
        .target(name: "Models", dependencies: ["Support", "LEPJSON", "SafeTensors", "TensorMath"]),
        // llama.cpp's GGUF format (reader, writer, quantisation blocks) and conversions to and from HF.
        .target(name: "GGUF", dependencies: ["Support", "SafeTensors", "TensorMath"]),
        .target(name: "GGUFConversion", dependencies: ["Support", "GGUF", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models"]),
        // Checkpoint surgery, split by concept (lowest first): the shared error type, recipe formats,
        // merging, vocabularies, LEP propagation, pipelines over all of them.
        .target(name: "Surgery", dependencies: ["Support"]),
        .target(name: "Recipes", dependencies: ["Support", "Surgery", "LEPJSON", "SafeTensors"]),
        .target(name: "Merging", dependencies: ["Support", "Surgery", "Recipes", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "CZstd"]),
        .target(name: "Vocabulary", dependencies: ["Support", "Surgery", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models"]),
        .target(name: "Propagation", dependencies: ["Support", "Surgery", "Vocabulary", "Merging", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "CBLAS"]),
        .target(name: "Pipelines", dependencies: ["Support", "Surgery", "Recipes", "Merging", "Vocabulary", "Propagation", "LEPJSON", "SafeTensors"]),
        // A general Jinja subset and chat formats (used by evaluation and the CLI).
        .target(name: "ChatTemplates", dependencies: ["LEPJSON"]),
        .target(name: "Evaluation", dependencies: ["Support", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "ChatTemplates"]),
        .target(
            name: "LEPCLI",
            dependencies: [
                "Support", "LEPJSON", "SafeTensors", "TensorMath", "Tokenizers", "Models", "Surgery", "Recipes", "Merging", "Vocabulary", "Propagation", "Pipelines", "ChatTemplates", "Evaluation",
                "GGUF", "GGUFConversion"
            ]),
        .executableTarget(name: "lep", dependencies: ["LEPCLI"]),
        // Fuzz targets, one per parser of untrusted input (`make fuzz`; CONTRIBUTING.md, "Fuzzing").
        .target(name: "FuzzSupport", dependencies: ["SafeTensors"]),
        .executableTarget(name: "lep-fuzz-header", dependencies: ["FuzzSupport", "SafeTensors"]),
        .executableTarget(name: "lep-fuzz-json", dependencies: ["FuzzSupport", "LEPJSON"]),
        .executableTarget(name: "lep-fuzz-tokenizer", dependencies: ["FuzzSupport", "Tokenizers"]),
        .executableTarget(name: "lep-fuzz-recipe", dependencies: ["FuzzSupport", "Recipes", "Pipelines"]),
        .executableTarget(name: "lep-fuzz-chat-template", dependencies: ["FuzzSupport", "ChatTemplates", "LEPJSON"]),
        .executableTarget(name: "lep-fuzz-gguf", dependencies: ["FuzzSupport", "GGUF"]),

        // Shared by the test targets: where fixtures/ and ../shared/realdata are.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "LEPJSONTests", dependencies: ["LEPJSON", "CJSONC", "TestSupport"]),
        .testTarget(name: "TensorMathTests", dependencies: ["TensorMath", "TestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["Support", "SafeTensors", "TensorMath", "LEPJSON", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "LEPJSON", "TestSupport"]),
        .testTarget(name: "GGUFTests", dependencies: ["Support", "GGUF", "GGUFConversion", "SafeTensors", "Models", "Tokenizers", "LEPJSON", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "SafeTensors", "LEPJSON", "TensorMath", "TestSupport"]),
        .testTarget(name: "CShimsTests", dependencies: ["CZstd", "CBLAS", "CJSONC", "CSentencePiece", "TestSupport"]),
        .target(name: "SurgeryTestSupport", dependencies: ["Surgery", "Recipes", "Merging", "Models", "SafeTensors", "TestSupport"], path: "Tests/SurgeryTestSupport"),
        .testTarget(name: "RecipesTests", dependencies: ["Surgery", "Recipes", "LEPJSON", "SurgeryTestSupport", "TestSupport"]),
        .testTarget(name: "MergingTests", dependencies: ["Surgery", "Recipes", "Merging", "SafeTensors", "Tokenizers", "Models", "LEPJSON", "TensorMath", "SurgeryTestSupport", "TestSupport"]),
        .testTarget(name: "VocabularyTests", dependencies: ["Surgery", "Vocabulary", "SafeTensors", "Tokenizers", "Models", "LEPJSON", "TensorMath", "SurgeryTestSupport", "TestSupport"]),
        .testTarget(
            name: "PropagationTests",
            dependencies: ["Surgery", "Vocabulary", "Merging", "Propagation", "SafeTensors", "Tokenizers", "Models", "LEPJSON", "TensorMath", "CBLAS", "SurgeryTestSupport", "TestSupport"]),
        .testTarget(
            name: "PipelinesTests", dependencies: ["Surgery", "Recipes", "Merging", "Vocabulary", "Propagation", "Pipelines", "SafeTensors", "Models", "LEPJSON", "SurgeryTestSupport", "TestSupport"]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates", "LEPJSON", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "ChatTemplates", "LEPJSON", "Models", "Tokenizers", "SafeTensors", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SafeTensors", "LEPJSON", "Tokenizers", "TestSupport"])
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
