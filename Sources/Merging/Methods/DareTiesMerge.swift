import Recipes
import Surgery
/// `dare_ties`: random drop (keep = density), L1 rescale, sign consensus
///
/// Reference: Yu et al. 2023, https://arxiv.org/abs/2311.03099; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct DareTiesMerge: TaskArithmeticMethod {
    public let name = "dare_ties"
    public let summary = "random drop (keep = density), L1 rescale, sign consensus"
    public let reference = "Yu et al. 2023, https://arxiv.org/abs/2311.03099"
    public let sparsification = Sparsification.random
    public let consensus = true
    public let defaultNormalize = false
    public let defaultRescale = true
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
