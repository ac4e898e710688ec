import LEPJSON
import Recipes
import SafeTensors
import Surgery

/// What `lep lora merge` and a pipeline's `lora_merge` step ask for, parsed by one function
/// (``init(parsing:)``) so both accept and refuse the same options (see `OptionValues`). The merge
/// itself is a passthrough recipe of `MODEL+ADAPTER` (``recipe()``), run by ``MergeExecutor``.
public struct LoraMergeRequest: Sendable {
    /// The model folder the adapter was trained on.
    public var model: String
    /// The PEFT LoRA adapter folder.
    public var adapter: String
    /// The output folder.
    public var output: String
    /// The output dtype (nil: the model's).
    public var dtype: DType?
    /// Whether an existing output may be replaced.
    public var force: Bool

    /// The keys ``init(parsing:)`` reads with a value.
    public static let valueKeys = ["model", "adapter", "output", "dtype"]
    /// The switches it reads.
    public static let flagKeys = ["force"]

    /// Required: model, adapter, output; `dtype` one of the float names a recipe's `out_dtype` takes.
    public init(parsing o: OptionValues) throws(SurgeryError) {
        model = try o.required("model")
        adapter = try o.required("adapter")
        output = try o.required("output")
        force = o.flag("force")
        if let name = o.string("dtype") {
            guard let d = DType(userName: name), d.isStandardFloat else {
                throw .invalidOption(option: "dtype", reason: "expected bfloat16, float16, float32 or float64 (or bf16, f16, f32, f64), got '\(name)'")
            }
            dtype = d
        } else {
            dtype = nil
        }
    }

    /// The passthrough recipe that folds the adapter into the model (`model: MODEL+ADAPTER`).
    public func recipe() throws(SurgeryError) -> Recipe {
        var root = JSONObject()
        root["lep_recipe"] = .number(JSONNumber(Recipe.formatVersion))
        root["merge_method"] = .string("passthrough")
        root["models"] = .array([.object(JSONObject([("model", .string(model + "+" + adapter))]))])
        if let dtype { root["out_dtype"] = .string(dtype.rawValue) }
        return try Recipe.decode(.object(root), form: .json, text: JSONWriter.pretty(.object(root)) + "\n", baseDirectory: ".")
    }
}
