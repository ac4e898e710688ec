import Recipes
import Surgery
/// `task_arithmetic`: θ₀ + λ·Σ wᵢ(θᵢ − θ₀)
///
/// Reference: Ilharco et al. 2022, https://arxiv.org/abs/2212.04089; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct TaskArithmeticMerge: TaskArithmeticMethod {
    public let name = "task_arithmetic"
    public let summary = "θ₀ + λ·Σ wᵢ(θᵢ − θ₀)"
    public let reference = "Ilharco et al. 2022, https://arxiv.org/abs/2212.04089"
    public let sparsification = Sparsification.none
    public let consensus = false
    public let defaultNormalize = false
    public let defaultRescale = false
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
