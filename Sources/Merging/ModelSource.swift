import LEPJSON
import Models
import Recipes
import SafeTensors
import Support
import Surgery
import TensorMath

/// One opened input model: its validated checkpoint, config, and an optional LoRA adapter applied
/// on load.
public final class ModelSource: @unchecked Sendable {
    /// How the recipe names it (`base_model`, `models[1]`).
    public let role: String
    /// The reference as written.
    public let ref: Recipe.ModelRef
    /// The opened checkpoint (of the base model when `adapter` is set).
    public let checkpoint: Checkpoint
    /// config.json as parsed (nil when absent).
    public let config: JSONObject?
    /// A PEFT adapter applied on the fly (`model+adapter` in the recipe).
    public let adapter: LoraAdapter?

    /// Opens `ref` and its adapter, validating the adapter against the model.
    public init(ref: Recipe.ModelRef, role: String) throws(SurgeryError) {
        self.role = role
        self.ref = ref
        do { checkpoint = try Checkpoint(path: ref.path) } catch { throw .cannotOpenModel(path: ref.written, reason: "\(error)") }
        if let bytes = WholeFile.bytes(checkpoint.directory + "/config.json") {
            guard let o = (try? JSONParser.parse(bytes, duplicateKeys: .lastWins))?.object else {
                throw .cannotOpenModel(path: ref.written, reason: "config.json is not a JSON object")
            }
            config = o
        } else {
            config = nil
        }
        if let a = ref.adapter {
            let adapter = try LoraAdapter(path: a)
            try adapter.validate(against: checkpoint, modelName: ref.path)
            self.adapter = adapter
        } else {
            adapter = nil
        }
    }

    /// Display name for errors: role and path.
    public var label: String { "\(role) (\(ref.written))" }

    /// `num_hidden_layers` from config.json.
    public var layerCount: Int? { config?["num_hidden_layers"]?.number?.int64.map(Int.init) }

    /// Loads tensor `name` as float32 into `dst` (count elements), with the adapter applied and,
    /// when `through` is set, rounded through that dtype (mergekit's `dtype` cast).
    func load(_ name: String, into dst: UnsafeMutableBufferPointer<Float>, through: DType?) throws(SurgeryError) {
        let view = try lifting { try checkpoint.view(name) }
        guard view.elementCount == dst.count else {
            throw .tensorFailure(tensor: name, reason: "\(label) holds \(view.elementCount) elements, expected \(dst.count)")
        }
        if dst.count > 0 {
            try lifting { try view.convert(elements: 0..<dst.count, into: UnsafeMutableRawPointer(dst.baseAddress!), as: .F32) }
        }
        if let adapter, try adapter.apply(to: dst, target: name) {
            // The adapted model is stored in the model's dtype (as PEFT and mergekit do).
            TensorCast.round(dst, through: view.dtype)
        }
        if let through { TensorCast.round(dst, through: through) }
        view.file.dropPages(view.fileOffset..<(view.fileOffset + view.byteCount))
    }

    /// SHA-256 of every shard's header, in file order (the provenance of an input).
    public func headerHashes() -> [(file: String, sha256: String)] {
        checkpoint.files.map { f in (String(f.path.split(separator: "/").last ?? ""), f.headerSHA256) }
    }
}

/// Rounding of f32 buffers through narrower float types.
enum TensorCast {
    /// Rounds every element to the nearest value of `dtype` (no-op for F32/F64).
    static func round(_ x: UnsafeMutableBufferPointer<Float>, through dtype: DType) {
        switch dtype {
        case .BF16: Kernels.forEachChunk(x.count) { r in for k in r { x[k] = HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16(x[k])) } }
        case .F16: Kernels.forEachChunk(x.count) { r in for k in r { x[k] = HalfPrecision.f16ToFloat(HalfPrecision.floatToF16(x[k])) } }
        default: break
        }
    }
}
