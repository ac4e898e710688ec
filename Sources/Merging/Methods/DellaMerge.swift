import Recipes
import Surgery
/// `della`: magnitude-ranked random drop (density ± epsilon per row), rescale, sign consensus
///
/// Reference: Deep et al. 2024, https://arxiv.org/abs/2406.11617; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct DellaMerge: TaskArithmeticMethod {
    public let name = "della"
    public let summary = "magnitude-ranked random drop (density ± epsilon per row), rescale, sign consensus"
    public let reference = "Deep et al. 2024, https://arxiv.org/abs/2406.11617"
    public let sparsification = Sparsification.dellaMagprune
    public let consensus = true
    public let defaultNormalize = true
    public let defaultRescale = true
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
