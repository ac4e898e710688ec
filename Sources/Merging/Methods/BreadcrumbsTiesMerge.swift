import Recipes
import Surgery
/// `breadcrumbs_ties`: breadcrumbs sparsification with sign consensus
///
/// Reference: Davari & Belilovsky 2023, https://arxiv.org/abs/2312.06795; mergekit `merge_methods/generalized_task_arithmetic.py` + `registry.py`.
public struct BreadcrumbsTiesMerge: TaskArithmeticMethod {
    public let name = "breadcrumbs_ties"
    public let summary = "breadcrumbs sparsification with sign consensus"
    public let reference = "Davari & Belilovsky 2023, https://arxiv.org/abs/2312.06795"
    public let sparsification = Sparsification.magnitudeOutliers
    public let consensus = true
    public let defaultNormalize = false
    public let defaultRescale = false
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}
}
