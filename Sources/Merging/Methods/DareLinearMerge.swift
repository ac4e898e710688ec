import Recipes
import Surgery
/// `dare_linear`: random drop (keep = density), L1 rescale, weighted sum
///
/// Reference: Yu et al. 2023, https://arxiv.org/abs/2311.03099; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct DareLinearMerge: TaskArithmeticMethod {
    public let name = "dare_linear"
    public let summary = "random drop (keep = density), L1 rescale, weighted sum"
    public let reference = "Yu et al. 2023, https://arxiv.org/abs/2311.03099"
    public let sparsification = Sparsification.random
    public let consensus = false
    public let defaultNormalize = false
    public let defaultRescale = true
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
