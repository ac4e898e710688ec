import Foundation
@testable import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// The streaming executor (chunked merge, read-ahead, writer thread) against the whole-tensor
/// evaluation it replaced (`MergeOptions.wholeTensors`: every tensor loaded whole into float32, the
/// method applied, then written): identical bytes for every method, on bf16 models whose tensors
/// span many chunks (chunks of 1000 elements, not a power of two, so boundaries fall mid-row, and
/// output blocks of 2 chunks), with and without mergekit's `dtype` cast (float16 takes the paths for
/// inputs that are not read as bf16 bits), and float32 output so that no difference hides in a bf16
/// rounding.
@Suite struct ChunkedMergeTests {
    /// Three bf16 models (base, a, b, c) with 38,400-element embeddings and 12,288-element projections.
    static let models: String = {
        let dir = Fix.tempDir()
        for (i, m) in ["base", "a", "b", "c"].enumerated() {
            try? Fix.synth(dir + "/" + m, layers: 2, vocab: 600, hidden: 64, seed: UInt64(i + 1))
        }
        return dir
    }()

    /// One recipe per method (and a sparsifying method at density 1, which is elementwise).
    static let recipes: [(String, String)] = [
        ("linear", "merge_method: linear\nmodels:\n  - {model: a, parameters: {weight: 0.6}}\n  - {model: b, parameters: {weight: 0.4}}\n  - {model: c, parameters: {weight: 0.3}}\n"),
        (
            "task_arithmetic",
            "merge_method: task_arithmetic\nbase_model: base\nparameters: {lambda: 0.9}\nmodels:\n  - {model: a, parameters: {weight: 0.6}}\n  - {model: b, parameters: {weight: [0.4, 0.1]}}\n"
        ),
        (
            "ties",
            "merge_method: ties\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.5}}\n  - {model: b, parameters: {weight: 0.4, density: 0.7}}\n  - {model: c, parameters: {weight: 0.3, density: 0.3}}\n"
        ),
        ("dare_linear", "merge_method: dare_linear\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.5}}\n  - {model: b, parameters: {weight: 0.4, density: 0.6}}\n"),
        ("dare_ties", "merge_method: dare_ties\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.5}}\n  - {model: b, parameters: {weight: 0.4, density: 0.6}}\n"),
        (
            "breadcrumbs",
            "merge_method: breadcrumbs\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.8, gamma: 0.02}}\n  - {model: b, parameters: {weight: 0.4, density: 0.7}}\n"
        ),
        (
            "breadcrumbs_ties",
            "merge_method: breadcrumbs_ties\nbase_model: base\nparameters: {rescale: true}\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.8}}\n  - {model: b, parameters: {weight: 0.4, density: 0.7}}\n"
        ),
        (
            "breadcrumbs_dense",
            "merge_method: breadcrumbs\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 1.0}}\n  - {model: b, parameters: {weight: 0.4, density: 1.0}}\n"
        ),
        ("della", "merge_method: della\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.4, epsilon: 0.1}}\n  - {model: b, parameters: {weight: 0.4, density: 0.5}}\n"),
        (
            "della_linear",
            "merge_method: della_linear\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.6, density: 0.4, epsilon: 0.1}}\n  - {model: b, parameters: {weight: 0.4, density: 0.5}}\n"
        ),
        ("slerp", "merge_method: slerp\nbase_model: base\nparameters: {t: 0.3}\nmodels:\n  - {model: a}\n"),
        ("model_stock", "merge_method: model_stock\nbase_model: base\nmodels:\n  - {model: a}\n  - {model: b}\n  - {model: c}\n"),
        ("passthrough", "merge_method: passthrough\nmodels:\n  - {model: a, parameters: {scale: 0.5}}\n")
    ]

    @Test func everyMethodIsCovered() {
        let covered = Set(Self.recipes.map { $0.1.split(separator: "\n")[0].dropFirst("merge_method: ".count) }.map(String.init))
        #expect(covered == Set(MethodRegistry.names))
    }

    @Test(arguments: recipes.map(\.0), ["out_dtype: float32\n", "dtype: bfloat16\n", "dtype: float16\n"])
    func chunkedEqualsWholeTensor(_ name: String, _ dtype: String) throws {
        try chunkedEqualsWholeTensor(name, dtype, sideBySide: 1 << 23)
    }

    /// Magnitude selections of large tensors: inputs one after another, each selection's pairs filled
    /// by several threads (forced here on small tensors).
    @Test(arguments: ["ties"], ["dtype: bfloat16\n", "dtype: float16\n"])
    func chunkedEqualsWholeTensorInputsInTurn(_ name: String, _ dtype: String) throws {
        try chunkedEqualsWholeTensor(name, dtype, sideBySide: 0)
    }

    func chunkedEqualsWholeTensor(_ name: String, _ dtype: String, sideBySide: Int) throws {
        let text = Self.recipes.first { $0.0 == name }!.1 + dtype
        let recipe = try Fix.recipe(text, base: Self.models)
        let plan = try MergePlan.make(recipe)
        // The streaming path must really chunk the tensors it claims (elementwise and task arithmetic).
        let streams = plan.method.isElementwise(plan.tasks[0].parameters, inputs: plan.tasks[0].inputs.count) || plan.method is any TaskArithmeticMethod
        let chunked = plan.tasks.filter { ChunkedMerge($0, plan, chunk: 1000) != nil }
        #expect(chunked.count == (streams ? plan.tasks.count : 0), "\(name): \(chunked.count) of \(plan.tasks.count) tensors stream")
        #expect(plan.tasks.contains { $0.shape.reduce(1, *) > 30 * 1000 }, "a tensor spans many chunks")
        var whole = MergeOptions(), streaming = MergeOptions()
        whole.wholeTensors = true
        streaming.chunkElements = 1000
        streaming.blockBytes = 8000
        streaming.sideBySideElements = sideBySide
        let dir = Fix.tempDir()
        _ = try MergeExecutor.run(plan, output: dir + "/whole", options: whole)
        _ = try MergeExecutor.run(plan, output: dir + "/chunked", options: streaming)
        let a = try Fix.tensors(dir + "/whole"), b = try Fix.tensors(dir + "/chunked")
        #expect(Set(a.keys) == Set(b.keys))
        for (n, (dtype, bytes)) in a.sorted(by: { $0.key < $1.key }) {
            #expect(b[n]?.0 == dtype && b[n]?.1 == bytes, "\(name): \(n) differs between the chunked and the whole-tensor path")
        }
        let files = ["model.safetensors", MergeExecutor.provenanceName]
        for f in files { #expect(Fix.files(dir + "/whole")[f] == Fix.files(dir + "/chunked")[f], "\(name): \(f) differs") }
    }

    /// A write failure on the writer thread (a full disk) stops the computing thread and is the
    /// error reported, for both paths; nothing is left at the target. A computing error (NaN) stops
    /// the writer thread.
    @Test(arguments: ["task_arithmetic", "ties", "slerp"])
    func errorsOnEitherThreadStopTheMerge(_ name: String) throws {
        let recipe = try Fix.recipe(Self.recipes.first { $0.0 == name }!.1, base: Self.models)
        let plan = try MergePlan.make(recipe)
        for whole in [false, true] {
            var o = MergeOptions()
            o.wholeTensors = whole
            o.chunkElements = 1000
            o.blockBytes = 8000
            o.failAfter = 50_000
            let target = Fix.tempDir() + "/out"
            do {
                _ = try MergeExecutor.run(plan, output: target, options: o)
                Issue.record("\(name): the merge succeeded on a full disk")
            } catch {
                #expect("\(error)".contains("No space left"), "\(name): \(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: target))
        }
        guard name != "slerp" else { return }
        let overflow = "merge_method: \(name)\nbase_model: base\nparameters: {lambda: 1e39}\nmodels:\n  - {model: a, parameters: {weight: 1, density: 0.5}}\n"
        let bad = try MergePlan.make(try Fix.recipe(overflow, base: Self.models))
        var o = MergeOptions()
        o.chunkElements = 1000
        o.blockBytes = 8000
        let target = Fix.tempDir() + "/out"
        #expect { try MergeExecutor.run(bad, output: target, options: o) } throws: {
            if case .nonFiniteOutput = $0 as? SurgeryError { true } else { false }
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}
