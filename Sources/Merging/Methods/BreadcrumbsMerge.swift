import Recipes
import Surgery
/// `breadcrumbs`: drop the top γ and the smallest |δ| (keep density), weighted sum
///
/// Reference: Davari & Belilovsky 2023, https://arxiv.org/abs/2312.06795; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct BreadcrumbsMerge: TaskArithmeticMethod {
    public let name = "breadcrumbs"
    public let summary = "drop the top γ and the smallest |δ| (keep density), weighted sum"
    public let reference = "Davari & Belilovsky 2023, https://arxiv.org/abs/2312.06795"
    public let sparsification = Sparsification.magnitudeOutliers
    public let consensus = false
    public let defaultNormalize = false
    public let defaultRescale = false
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
