import Recipes
import Surgery
/// `linear`: θ = Σᵢ wᵢθᵢ / Σᵢ wᵢ (the division only with `normalize`, the default). No base.
///
/// Reference: Wortsman et al. 2022 (model soups), https://arxiv.org/abs/2203.05482; mergekit
/// `merge_methods/linear.py` (float32 accumulation from zero, one fused multiply-add per input in order, as `addcmul_`).
public struct LinearMerge: MergeMethod {
    public let name = "linear"
    public let summary = "weighted average Σ wᵢθᵢ / Σ wᵢ (normalize) or weighted sum"
    public let reference = "Wortsman et al. 2022, https://arxiv.org/abs/2203.05482"
    public let basePolicy = BasePolicy.unused
    public let inputCount: ClosedRange<Int> = 1...1024
    public let isRandom = false
    public let parameters = [
        ParameterSpec("weight", .perModel, .number, default: nil, "wᵢ, weight of model i"),
        ParameterSpec("normalize", .global, .bool, default: .bool(true), "divide by Σ wᵢ")
    ]
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}

    /// Each output element is a weighted sum of the same element of the inputs.
    public func isElementwise(_ parameters: ResolvedParameters, inputs: Int) -> Bool { true }

    public func merge(_ job: MergeJob) throws(SurgeryError) {
        let weights = (0..<job.inputs.count).map { Float(job.parameters.number("weight", model: $0)) }
        let normalize = job.parameters.flag("normalize")
        var total: Float = 0
        for w in weights { total += w }
        if normalize && total == 0 {
            throw .tensorFailure(tensor: job.tensor, reason: "linear with normalize: the weights sum to 0")
        }
        let table = PointerTable(job.inputs, weights: weights)
        let count = table.count, rows = table.rows, w = table.weights, out = job.output
        Kernels.forEachChunk(out.count) { r in
            for k in r {
                var acc: Float = 0
                for i in 0..<count { acc = acc.addingProduct(rows[i][k], w[i]) }  // fused, as torch addcmul_
                out[k] = normalize ? acc / total : acc
            }
        }
        withExtendedLifetime(table) {}
    }
}
