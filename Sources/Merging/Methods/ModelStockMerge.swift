import Recipes
import Surgery
/// `model_stock`: interpolate between the base and the mean of ≥ 2 fine-tunes by their agreement.
///
///     cos θ = mean over pairs i<j of ⟨δᵢ, δⱼ⟩ / (‖δᵢ‖‖δⱼ‖)  (norm product clamped ≥ 1e-6)
///     t = N·cos θ / (1 + (N − 1)·cos θ)  (t = 0 when |1 + (N−1)cos θ| < 1e-6)
///     θ = t·mean(θᵢ) + (1 − t)·θ₀
/// Per tensor, or per row with `filter_wise`.
///
/// Reference: Jang et al. 2024, https://arxiv.org/abs/2403.19522; mergekit `merge_methods/model_stock.py`.
public struct ModelStockMerge: MergeMethod {
    public let name = "model_stock"
    public let summary = "t·mean(θᵢ) + (1−t)·θ₀ with t from the mean pairwise cosine of the task vectors"
    public let reference = "Jang et al. 2024, https://arxiv.org/abs/2403.19522"
    public let basePolicy = BasePolicy.required
    public let inputCount: ClosedRange<Int> = 2...1024
    public let isRandom = false
    public let parameters = [ParameterSpec("filter_wise", .global, .bool, default: .bool(false), "one t per row instead of per tensor")]
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}

    public func merge(_ job: MergeJob) throws(SurgeryError) {
        guard let w0 = job.base else { throw .tensorFailure(tensor: job.tensor, reason: "model_stock needs a base") }
        let ws = job.inputs, out = job.output
        let n = out.count
        let rows = job.parameters.flag("filter_wise") && job.shape.count >= 2 ? job.shape[0] : 1
        let cols = rows > 0 ? n / rows : 0
        let count = Float(ws.count)
        DispatchRows.forEach(rows) { row in
            let lo = row * cols, hi = lo + cols
            // Norms and dots of the offsets δᵢ = θᵢ − θ₀ over this row (or the whole tensor).
            var norms = [Double](repeating: 0, count: ws.count)
            var cosSum = 0.0, pairs = 0
            for i in 0..<ws.count {
                let x = ws[i]
                norms[i] =
                    rows == 1
                    ? Kernels.sum(n) { r in
                        var s = 0.0; for k in r { let d = Double(x[k] - w0[k]); s += d * d }; return s
                    }.squareRoot()
                    : {
                        var s = 0.0; for k in lo..<hi { let d = Double(x[k] - w0[k]); s += d * d }; return s.squareRoot()
                    }()
            }
            for i in 0..<ws.count {
                for j in (i + 1)..<ws.count {
                    let x = ws[i], y = ws[j]
                    let dot =
                        rows == 1
                        ? Kernels.sum(n) { r in
                            var s = 0.0; for k in r { s += Double(x[k] - w0[k]) * Double(y[k] - w0[k]) }; return s
                        }
                        : {
                            var s = 0.0; for k in lo..<hi { s += Double(x[k] - w0[k]) * Double(y[k] - w0[k]) }; return s
                        }()
                    cosSum += min(1, max(-1, dot / max(norms[i] * norms[j], 1e-6)))
                    pairs += 1
                }
            }
            let cosTheta = Float(cosSum / Double(pairs))
            let denominator = 1 + (count - 1) * cosTheta
            let t: Float = abs(denominator) < 1e-6 ? 0 : (count * cosTheta) / denominator
            let table = PointerTable(ws)
            let rowsP = table.rows, m = table.count
            let body = { (r: Range<Int>) in
                for k in r {
                    var s: Float = 0
                    for i in 0..<m { s += rowsP[i][k] }
                    out[k] = t * (s / count) + (1 - t) * w0[k]
                }
            }
            if rows == 1 { Kernels.forEachChunk(n, body) } else { body(lo..<hi) }
            withExtendedLifetime(table) {}
        }
    }
}
