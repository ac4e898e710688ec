import Recipes
import Surgery
/// `passthrough`: one input copied through, optionally scaled; with `slices`, layers of several
/// models stacked into a deeper model (a "frankenmerge").
///
/// Reference: mergekit `merge_methods/passthrough.py` and its `slices` recipes.
public struct PassthroughMerge: MergeMethod {
    public let name = "passthrough"
    public let summary = "copy one input (× scale); with slices, stack layer ranges of several models"
    public let reference = "mergekit passthrough, https://github.com/arcee-ai/mergekit"
    public let basePolicy = BasePolicy.unused
    public let inputCount: ClosedRange<Int> = 1...1
    public let isRandom = false
    public let parameters = [ParameterSpec("scale", .perModel, .number, default: .number(1), "multiply the tensor by this factor")]
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}

    /// Each output element is the same input element, scaled.
    public func isElementwise(_ parameters: ResolvedParameters, inputs: Int) -> Bool { true }

    public func merge(_ job: MergeJob) throws(SurgeryError) {
        let x = job.inputs[0], out = job.output
        let scale = Float(job.parameters.number("scale", model: 0))
        Kernels.forEachChunk(out.count) { r in for k in r { out[k] = scale == 1 ? x[k] : x[k] * scale } }
    }
}
