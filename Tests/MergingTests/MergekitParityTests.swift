import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// lep's merges against mergekit 0.1.5 outputs on the same tiny checkpoints
/// (fixtures/merge, made by scripts/fixtures/gen_merge.py).
@Suite struct MergekitParityTests {
    /// How a case is compared.
    enum Tolerance: Sendable, CustomStringConvertible {
        /// Identical bytes.
        case bitwise
        /// |lep − mergekit| ≤ n f32 ulps of the tensor's largest magnitude.
        case tensorUlps(Float)
        /// |lep − mergekit| ≤ n bf16 ulps of the largest magnitude among the element's inputs and
        /// result (mergekit rounds every intermediate step to bf16; lep rounds once).
        case bf16Steps(Float)
        var description: String {
            switch self {
            case .bitwise: "bitwise"
            case .tensorUlps(let n): "≤ \(n) f32 ulp of the tensor's max"
            case .bf16Steps(let n): "≤ \(n) bf16 ulp of the largest input"
            }
        }
    }

    /// Deterministic cases. Tolerances, and why they are not bitwise:
    /// - model_stock: cos θ and t are reduced in float64 by lep, in float32 by torch, so t differs in its
    ///   last bits: ≤ 2 f32 ulp of the tensor's largest magnitude.
    /// - task_arithmetic_bf16: without `dtype`, mergekit computes every step in bfloat16; lep computes in
    ///   float32 and rounds once. mergekit rounds δ, w·δ, the sum and the result (four roundings, each ≤ ½ ulp of an intermediate ≤ 2× the largest input): ≤ 2 bf16 ulp of the largest input magnitude of that element (observed worst: 2.0).
    static let cases: [(String, Tolerance)] = [
        ("linear", .bitwise), ("linear_lora", .bitwise), ("task_arithmetic", .bitwise), ("ties", .bitwise),
        ("breadcrumbs", .bitwise), ("breadcrumbs_ties", .bitwise), ("slerp", .bitwise), ("passthrough", .bitwise),
        ("model_stock", .tensorUlps(2)), ("task_arithmetic_bf16", .bf16Steps(2)),
        // bf16 inputs whose |δ| tie at every threshold: which tied elements survive is torch's sort order.
        ("tied_ties", .bitwise), ("tied_breadcrumbs", .bitwise), ("tied_breadcrumbs_ties", .bitwise),
        ("tied_ties_bf16", .bitwise), ("tied_breadcrumbs_bf16", .bitwise)
    ]

    @Test(arguments: cases.map(\.0))
    func matchesMergekit(_ name: String) throws {
        let tolerance = Self.cases.first { $0.0 == name }!.1
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/\(name).yml", baseDirectory: Fix.merge)
        let out = try Fix.run(recipe)
        let inputs = try MergePlan.make(recipe).sources.map(\.checkpoint)
        let mine = try Fix.tensors(out)
        let ref = try Fix.tensors(Fix.merge + "/out/\(name).safetensors")
        #expect(Set(mine.keys) == Set(ref.keys), "tensor names differ from mergekit's")
        var worst = (tensor: "", index: -1, lep: Float(0), mergekit: Float(0), ulps: Float(0))
        var mismatched = 0, total = 0
        for (n, (dtype, bytes)) in ref.sorted(by: { $0.key < $1.key }) {
            guard let (d2, b2) = mine[n] else { continue }
            #expect(d2 == dtype, "\(n): dtype \(d2) vs mergekit's \(dtype)")
            total += bytes.count / (dtype == .F32 ? 4 : 2)
            if b2 == bytes { continue }
            let a = try Fix.floats(Fix.merge + "/out/\(name).safetensors", n), b = try Fix.floats(out, n)
            let xs = try inputs.map { try $0.view(n).floats() }
            let tensorMax = a.map(abs).max() ?? 0
            for i in a.indices where a[i] != b[i] {
                mismatched += 1
                let unit: Float
                switch tolerance {
                case .tensorUlps: unit = tensorMax.ulp
                case .bf16Steps: unit = Fix.ulp(xs.map { abs($0[i]) }.reduce(abs(a[i]), max), .BF16)
                case .bitwise: unit = Fix.ulp(a[i], dtype)
                }
                let u = abs(a[i] - b[i]) / unit
                if u > worst.ulps { worst = (n, i, b[i], a[i], u) }
            }
        }
        switch tolerance {
        case .bitwise:
            #expect(mismatched == 0, "\(name): \(mismatched) of \(total) elements differ; worst \(worst)")
        case .tensorUlps(let n), .bf16Steps(let n):
            #expect(worst.ulps <= n, "\(name): worst element \(worst) exceeds \(tolerance) (\(mismatched) differ)")
        }
    }
}
