import Recipes
import Surgery
/// `ties`: top-k |δ| per model, sign consensus, weighted mean of agreeing deltas
///
/// Reference: Yadav et al. 2023, https://arxiv.org/abs/2306.01708; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct TiesMerge: TaskArithmeticMethod {
    public let name = "ties"
    public let summary = "top-k |δ| per model, sign consensus, weighted mean of agreeing deltas"
    public let reference = "Yadav et al. 2023, https://arxiv.org/abs/2306.01708"
    public let sparsification = Sparsification.magnitude
    public let consensus = true
    public let defaultNormalize = true
    public let defaultRescale = false
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
