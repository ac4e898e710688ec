import Foundation
import Models
import SafeTensors

/// The committed transformers references in fixtures/forward (scripts/fixtures/gen_forward.py).
enum ForwardFixtures {
    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    static var root: String { packageRoot + "/fixtures/forward" }

    /// The four tiny models.
    static let names = ["llama3-f32", "llama3-bf16", "mistral-f32", "mistral-bf16"]

    static func modelDirectory(_ name: String) -> String { root + "/" + name }

    /// transformers' outputs for one model.
    struct Reference {
        let inputIds: [Int]
        let logits: [Float]  // [T, V]
        let greedyIds: [Int]
        let greedyPromptLength: Int
        let loss: Double
        let logitScale: Float

        init(_ name: String) throws {
            let file = try SafeTensorsFile(path: ForwardFixtures.root + "/\(name).reference.safetensors")
            inputIds = try file.view("input_ids").floats().map { Int($0) }
            logits = try file.view("logits").floats()
            greedyIds = try file.view("greedy_ids").floats().map { Int($0) }
            let meta = file.header.metadata
            greedyPromptLength = Int(meta["greedy_prompt_len"] ?? "") ?? 0
            loss = Double(meta["loss"] ?? "") ?? .nan
            logitScale = logits.map(abs).max() ?? 0
        }
    }

    /// Max |a − b| and where.
    static func maxError(_ a: [Float], _ b: [Float]) -> (error: Float, index: Int) {
        var worst: Float = 0, at = 0
        for i in a.indices where abs(a[i] - b[i]) > worst { worst = abs(a[i] - b[i]); at = i }
        return (worst, at)
    }
}
