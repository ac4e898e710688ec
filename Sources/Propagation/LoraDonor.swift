#if canImport(Glibc)
import Glibc
#endif
import Merging
import SafeTensors
import Support
import Surgery
import TensorMath
import Vocabulary

/// A donor given as a PEFT LoRA adapter (Documentation/Propagation.md §7), trained on the *donor base*: the base after the
/// tokenizer swap and §4 initialisation (`lep vocab init`'s output), which holds the new tokenizer.
///
/// ```
/// D      = W_donorBase(embed/lm_head) ⊕ adapter     (modules_to_save replace; embedding LoRA adds
///                                                      s·(B·A)ᵀ; lm_head LoRA adds s·B·A)
/// OUT    = §5 with D as the donor rows
/// W_out  = W_instruct + (1/alpha_scale) · ΔW          for every other tensor the adapter changes:
///          ΔW = s·B·A (LoRA), or R − W_donorBase (a modules_to_save copy R of a layer tensor)
/// ```
/// The merged donor rows are materialised once, in float32, in a temporary safetensors file next to
/// the output (removed afterwards), so the fit and the writer read them like any donor.
public struct LoraDonor: @unchecked Sendable {
    /// The adapter.
    public let adapter: LoraAdapter
    /// Directory of the donor base (tokenizer, config, untouched tensors).
    public let donorBase: String
    /// Embedding tensors the adapter changes (embed_tokens, lm_head): merged into the donor rows.
    public let embeddingTargets: [String]
    /// Every other tensor the adapter changes: its delta is added to the instruct model's tensor.
    public let layerTargets: [String]

    /// True when `path` is a PEFT adapter directory.
    public static func isAdapter(_ path: String) -> Bool { PathUtilities.exists(path + "/adapter_config.json") }

    /// Opens `adapter` and checks it against the donor base (every target, with shapes) and the instruct
    /// model (layer targets exist there with the donor base's shapes).
    init(adapter path: String, donorBase: PropagationInputs.Model, instruct: PropagationInputs.Model, tied: Bool) throws(SurgeryError) {
        let adapter = try LoraAdapter(path: path)
        try adapter.validate(against: donorBase.checkpoint, modelName: "the donor base \(donorBase.path)")
        let embeddings: Set<String> = [PropagationInputs.embedName, PropagationInputs.headName]
        let all = Set(adapter.updates.keys).union(adapter.replacements.keys).union(adapter.embeddingUpdates.keys)
        if let odd = adapter.embeddingUpdates.keys.sorted().first(where: { !embeddings.contains($0) }) {
            throw .invalidAdapter(path: path, reason: "embedding LoRA on '\(odd)', which is not an embedding table of the model (expected \(PropagationInputs.embedName))")
        }
        if tied && all.contains(PropagationInputs.headName) {
            throw .invalidAdapter(path: path, reason: "changes '\(PropagationInputs.headName)' but the models tie it to embed_tokens; adapt embed_tokens only")
        }
        guard !all.isEmpty else { throw .invalidAdapter(path: path, reason: "changes no tensor") }
        let layers = all.subtracting(embeddings).sorted(by: NaturalOrder.less)
        for t in layers {
            guard instruct.checkpoint.contains(t) else {
                throw .invalidAdapter(path: path, reason: "changes '\(t)', which the instruct model \(instruct.path) does not have")
            }
            let i = try lifting { try instruct.checkpoint.info(t) }, d = try lifting { try donorBase.checkpoint.info(t) }
            guard i.shape == d.shape else {
                throw .invalidAdapter(path: path, reason: "'\(t)' is \(d.shape) in the donor base but \(i.shape) in the instruct model; their layers must have one shape")
            }
            guard i.dtype.floatStorage != nil else { throw .unsupportedDType(tensor: t, model: "instruct", dtype: i.dtype.rawValue) }
        }
        self.adapter = adapter
        self.donorBase = donorBase.path
        self.embeddingTargets = all.intersection(embeddings).sorted()
        self.layerTargets = layers
    }

    /// The donor rows of embedding tensor `name`: the donor base's rows (float32, `[V, h]`) with the
    /// adapter merged.
    public func mergedRows(_ name: String, donorBase: Checkpoint) throws(SurgeryError) -> [Float] {
        let view = try lifting { try donorBase.view(name) }
        var w = try lifting { try view.floats() }
        try w.withUnsafeMutableBufferPointer { (p) throws(SurgeryError) in _ = try adapter.apply(to: p, target: name) }
        return w
    }

    /// Adds `factor · ΔW` of layer tensor `target` to `w` (the instruct tensor in float32).
    func addLayerDelta(to w: UnsafeMutableBufferPointer<Float>, target: String, factor: Double, donorBase: Checkpoint) throws(SurgeryError) {
        if let name = adapter.replacements[target] {
            // A modules_to_save copy R of a layer tensor: ΔW = R − W_donorBase.
            let r = try lifting { try adapter.checkpoint.view(name).floats() }
            let base = try lifting { try donorBase.view(target).floats() }
            guard r.count == w.count, base.count == w.count else {
                throw .invalidAdapter(path: adapter.path, reason: "'\(name)' has \(r.count) elements, the instruct '\(target)' \(w.count)")
            }
            let f = Float(factor)
            for k in 0..<w.count { w[k] += f * (r[k] - base[k]) }
        }
        try adapter.addDelta(to: w, target: target, factor: factor)
    }

    /// Writes the merged donor rows of `modules` (those the adapter changes) as an F32 safetensors file
    /// at `path`.
    func writeMergedRows(to path: String, modules: [String], donorBase: Checkpoint) throws(SurgeryError) {
        let targets = modules.filter { embeddingTargets.contains($0) }
        var specs: [TensorSpec] = []
        for t in targets { specs.append(TensorSpec(name: t, dtype: .F32, shape: try lifting { try donorBase.info(t) }.shape)) }
        do {
            let w = try SafeTensorsWriter(path: path, tensors: specs, metadata: ["format": "lep-lora-donor-rows"])
            for spec in w.order {
                let rows = try mergedRows(spec.name, donorBase: donorBase)
                let bad = FloatScan.nonFiniteCount(rows)
                guard bad == 0 else { throw SurgeryError.nonFiniteOutput(tensor: spec.name, count: bad) }
                try w.writeTensor(spec.name) { stream in try rows.withUnsafeBytes { try stream.write($0) } }
            }
            try w.finish(sync: false)
        } catch let e as SurgeryError {
            throw e
        } catch {
            throw .loraDonorRows(path: path, reason: "writing the merged donor rows: \(error)")
        }
    }

    /// A temporary file name for the merged donor rows: next to the output when its parent exists
    /// (the rows can be gigabytes), otherwise in $TMPDIR.
    static func temporaryPath(near output: String) -> String {
        var parent = "."
        if let s = output.lastIndex(of: "/") { parent = s == output.startIndex ? "/" : String(output[..<s]) }
        if !PathUtilities.isDirectory(parent) { parent = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp" }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return parent + "/.lep-lora-donor-\(getpid())-\(ts.tv_nsec).safetensors"
    }
}
