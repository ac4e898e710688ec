import Foundation
import Merging
import Models
import Recipes
import SafeTensors
import Surgery
import TestSupport

/// Paths and helpers shared by the Surgery tests.
public enum Fix {
    /// fixtures/merge (made by scripts/fixtures/gen_merge.py with mergekit 0.1.5).
    public static var merge: String { SharedData.packageRoot + "/fixtures/merge" }

    /// A fresh temporary directory (tests never reuse one), under `$TMPDIR`: `make test` gives the run a
    /// private one and removes it afterwards.
    public static func tempDir() -> String {
        let path = NSTemporaryDirectory() + "lep-surgery-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Parses recipe text (paths relative to fixtures/merge unless `base` is given).
    public static func recipe(_ text: String, base: String? = nil) throws -> Recipe {
        try Recipe.parse(text, path: "<test>", baseDirectory: base ?? merge)
    }

    /// Plans and runs a recipe into a new temporary directory; returns the output path.
    @discardableResult
    public static func run(_ recipe: Recipe, to out: String? = nil) throws -> String {
        let plan = try MergePlan.make(recipe)
        let path = out ?? tempDir() + "/out"
        var o = MergeOptions()
        o.toolVersion = "test"
        _ = try MergeExecutor.run(plan, output: path, options: o)
        return path
    }

    /// Every tensor of a checkpoint as (dtype, raw bytes).
    public static func tensors(_ path: String) throws -> [String: (DType, [UInt8])] {
        let c = try Checkpoint(path: path)
        var out: [String: (DType, [UInt8])] = [:]
        for n in c.tensorNames { let v = try c.view(n); out[n] = (v.dtype, Array(v.bytes)) }
        return out
    }

    public static func floats(_ path: String, _ name: String) throws -> [Float] { try Checkpoint(path: path).view(name).floats() }

    /// Bytes of every file in a directory, by name.
    public static func files(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for n in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            out[n] = FileManager.default.contents(atPath: dir + "/" + n)
        }
        return out
    }

    /// Units in the last place of a bf16 or f32 value (as stored in `dtype`).
    public static func ulp(_ v: Float, _ dtype: DType) -> Float {
        dtype == .BF16 ? Float(bitPattern: (abs(v).bitPattern & 0x7F80_0000)) * 0x1p-7 : abs(v).ulp
    }

    /// Writes a tiny synthetic model.
    public static func synth(_ path: String, layers: Int = 2, vocab: Int = 32, hidden: Int = 16, seed: UInt64 = 0) throws {
        var o = Synthesizer.Options()
        o.layers = layers; o.vocab = vocab; o.hidden = hidden; o.seed = seed
        o.maxShardBytes = nil
        _ = try Synthesizer.synthesize(.tinyLlama3, options: o, output: path)
    }
}
