import Recipes
import Surgery
/// Whether a method takes a base model.
public enum BasePolicy: String, Sendable {
    /// `base_model` must be set; it is θ₀ and is not one of the merged inputs.
    case required
    /// Not used (`linear`, `passthrough`): every `models` entry is an input.
    case unused
}

/// One tensor to merge: f32 copies of the inputs, resolved parameters, and the output buffer.
///
/// `inputs` are scratch copies the method may overwrite. Methods write every element of `output`,
/// which is the same memory as `base` (or as `inputs[0]` for methods without a base): a method must
/// finish every reduction, and read element k of every input, before writing element k.
public struct MergeJob: @unchecked Sendable {
    /// Tensor name.
    public let tensor: String
    /// Tensor shape.
    public let shape: [Int]
    /// θ₀, for methods with a base.
    public let base: UnsafeMutableBufferPointer<Float>?
    /// θᵢ of the non-base inputs, in recipe order.
    public let inputs: [UnsafeMutableBufferPointer<Float>]
    /// Parameters resolved for this tensor.
    public let parameters: ResolvedParameters
    /// Seed for this tensor (recipe seed mixed with a stable hash of the name).
    public let seed: UInt64
    /// Result.
    public let output: UnsafeMutableBufferPointer<Float>

    /// Elements of the output (and of every input).
    public var count: Int { output.count }
}

/// A merge method: its declaration (name, parameters, inputs) and the per-tensor computation.
///
/// Add a method by writing one file with a type conforming to this protocol and listing it in
/// `MethodRegistry.all`; `lep methods` and the recipe checks pick it up from there.
public protocol MergeMethod: Sendable {
    /// The recipe name (`merge_method`).
    var name: String { get }
    /// One-line description with the formula.
    var summary: String { get }
    /// Paper or reference implementation.
    var reference: String { get }
    /// Declared parameters with defaults.
    var parameters: [ParameterSpec] { get }
    /// Whether a base model is used.
    var basePolicy: BasePolicy { get }
    /// Allowed number of non-base inputs.
    var inputCount: ClosedRange<Int> { get }
    /// True when the result depends on the seed.
    var isRandom: Bool { get }
    /// Computes one tensor.
    func merge(_ job: MergeJob) throws(SurgeryError)
    /// Whether, with these parameters, element k of the result depends only on element k of the
    /// inputs (no whole-tensor reduction or selection), so `merge` may be called on any slice of a
    /// tensor and give the same bits: the executor then merges cache-sized chunks as it reads them.
    func isElementwise(_ parameters: ResolvedParameters, inputs: Int) -> Bool
}

extension MergeMethod {
    /// Methods are whole-tensor unless they say otherwise.
    public func isElementwise(_ parameters: ResolvedParameters, inputs: Int) -> Bool { false }
}

/// Every merge method, in the order `lep methods` lists them.
public enum MethodRegistry {
    /// The methods.
    public static let all: [any MergeMethod] = [
        LinearMerge(), TaskArithmeticMerge(), TiesMerge(), DareLinearMerge(), DareTiesMerge(),
        BreadcrumbsMerge(), BreadcrumbsTiesMerge(), DellaMerge(), DellaLinearMerge(),
        SlerpMerge(), ModelStockMerge(), PassthroughMerge()
    ]

    /// The method named `name`.
    public static func find(_ name: String) -> (any MergeMethod)? { all.first { $0.name == name } }

    /// Names, in order.
    public static var names: [String] { all.map(\.name) }
}
