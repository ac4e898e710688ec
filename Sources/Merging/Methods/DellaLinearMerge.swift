import Recipes
import Surgery
/// `della_linear`: magnitude-ranked random drop (density ± epsilon per row), rescale, weighted sum
///
/// Reference: Deep et al. 2024, https://arxiv.org/abs/2406.11617; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct DellaLinearMerge: TaskArithmeticMethod {
    public let name = "della_linear"
    public let summary = "magnitude-ranked random drop (density ± epsilon per row), rescale, weighted sum"
    public let reference = "Deep et al. 2024, https://arxiv.org/abs/2406.11617"
    public let sparsification = Sparsification.dellaMagprune
    public let consensus = false
    public let defaultNormalize = false
    public let defaultRescale = true
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
