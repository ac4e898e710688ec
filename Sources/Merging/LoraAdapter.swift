import LEPJSON
import Models
import Recipes
import SafeTensors
import Support
import Surgery
import TensorMath

/// A PEFT LoRA adapter: `adapter_config.json` + `adapter_model.safetensors`.
///
/// For each target module M with `base_model.model.M.lora_A.weight [r, in]` and `lora_B.weight
/// [out, r]`, the merged weight is W + s·B·A with s = lora_alpha / r (rsLoRA: lora_alpha / √r);
/// `alpha_pattern` / `rank_pattern` override alpha and r for modules whose name ends with the key.
/// Full tensors saved by `modules_to_save` (`base_model.model.M.weight`) replace W.
/// Embedding LoRA (`base_model.model.M.lora_embedding_A [r, V]`, `lora_embedding_B [h, r]`) adds
/// s·(B·A)ᵀ to the `[V, h]` table (Documentation/Propagation.md §7).
public final class LoraAdapter: @unchecked Sendable {
    /// One low-rank update.
    public struct Update: Sendable {
        /// Adapter tensor name of A `[r, in]`.
        public let a: String
        /// Adapter tensor name of B `[out, r]`.
        public let b: String
        /// The rank r.
        public let rank: Int
        /// The factor s = lora_alpha / r (rsLoRA: / √r).
        public let scale: Double
    }

    /// The adapter folder.
    public let path: String
    /// Its `adapter_model.safetensors`.
    public let checkpoint: Checkpoint
    /// Base tensor name → low-rank update.
    public let updates: [String: Update]
    /// Base tensor name → adapter tensor replacing it.
    public let replacements: [String: String]
    /// Base tensor name (an embedding `[V, h]`) → embedding LoRA update (`a`: A `[r, V]`, `b`: B `[h, r]`).
    public let embeddingUpdates: [String: Update]
    /// SHA-256 of adapter_config.json.
    public let configHash: String

    /// Opens an adapter directory.
    public init(path: String) throws(SurgeryError) {
        self.path = path
        guard let bytes = WholeFile.bytes(path + "/adapter_config.json") else {
            throw .invalidAdapter(path: path, reason: "no adapter_config.json (a PEFT adapter directory needs one)")
        }
        configHash = SHA256.hex(bytes)
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, duplicateKeys: .lastWins) } catch {
            throw .invalidAdapter(path: path, reason: "adapter_config.json: \(error)")
        }
        guard let r = root["r"]?.number?.int64, r > 0 else { throw .invalidAdapter(path: path, reason: "adapter_config.json: 'r' must be a positive integer") }
        let alpha = root["lora_alpha"]?.number?.double ?? Double(r)
        let rs = root["use_rslora"]?.bool ?? false
        if let t = root["peft_type"]?.string, t != "LORA" { throw .invalidAdapter(path: path, reason: "peft_type \(t) is not LORA") }
        var alphaPattern: [(String, Double)] = []
        var rankPattern: [(String, Int)] = []
        for (k, v) in root["alpha_pattern"]?.object?.members ?? [] { if let d = v.number?.double { alphaPattern.append((k, d)) } }
        for (k, v) in root["rank_pattern"]?.object?.members ?? [] { if let d = v.number?.int64 { rankPattern.append((k, Int(d))) } }
        let file = path + "/adapter_model.safetensors"
        guard PathUtilities.exists(file) else { throw .invalidAdapter(path: path, reason: "no adapter_model.safetensors") }
        do { checkpoint = try Checkpoint(path: file) } catch { throw .invalidAdapter(path: path, reason: "\(error)") }
        var updates: [String: Update] = [:]
        var replacements: [String: String] = [:]
        var embeddingUpdates: [String: Update] = [:]
        func scale(_ module: String) -> (Int, Double) {
            var rank = Int(r), a = alpha
            for (k, v) in rankPattern where module.hasSuffix(k) { rank = v }
            for (k, v) in alphaPattern where module.hasSuffix(k) { a = v }
            return (rank, rs ? a / Double(rank).squareRoot() : a / Double(rank))
        }
        let prefix = "base_model.model."
        for name in checkpoint.tensorNames {
            guard name.hasPrefix(prefix) else { throw .invalidAdapter(path: path, reason: "tensor '\(name)' does not start with '\(prefix)'") }
            let rest = String(name.dropFirst(prefix.count))
            if rest.hasSuffix(".lora_A.weight") || rest.hasSuffix(".lora_A.default.weight") {
                let module = String(rest[..<rest.range(of: ".lora_A")!.lowerBound])
                let bName = name.replacingFirst(".lora_A", with: ".lora_B")
                guard checkpoint.contains(bName) else { throw .invalidAdapter(path: path, reason: "'\(name)' has no matching lora_B tensor") }
                var rank = Int(r), a = alpha
                for (k, v) in rankPattern where module.hasSuffix(k) { rank = v }
                for (k, v) in alphaPattern where module.hasSuffix(k) { a = v }
                let scale = rs ? a / Double(rank).squareRoot() : a / Double(rank)
                updates[module + ".weight"] = Update(a: name, b: bName, rank: rank, scale: scale)
            } else if rest.contains(".lora_B") {
                continue
            } else if let at = rest.range(of: ".lora_embedding_A") {
                let module = String(rest[..<at.lowerBound])
                let bName = name.replacingFirst(".lora_embedding_A", with: ".lora_embedding_B")
                guard checkpoint.contains(bName) else { throw .invalidAdapter(path: path, reason: "'\(name)' has no matching lora_embedding_B tensor") }
                let (rank, s) = scale(module)
                embeddingUpdates[module + ".weight"] = Update(a: name, b: bName, rank: rank, scale: s)
            } else if rest.contains(".lora_embedding_B") {
                continue
            } else {
                // modules_to_save copies; PEFT's save_embedding_layers stores the base layer as M.base_layer.weight.
                replacements[rest.replacingFirst(".modules_to_save.default", with: "").replacingFirst(".base_layer", with: "")] = name
            }
        }
        self.updates = updates
        self.replacements = replacements
        self.embeddingUpdates = embeddingUpdates
    }

    /// Checks every update and replacement against the base model's tensors (names and shapes).
    public func validate(against base: Checkpoint, modelName: String) throws(SurgeryError) {
        for (target, u) in updates.sorted(by: { $0.key < $1.key }) {
            guard base.contains(target) else {
                throw .invalidAdapter(path: path, reason: "targets '\(target)', which \(modelName) does not have (adapter made for another model?)")
            }
            let w = try lifting { try base.info(target) }
            let a = try lifting { try checkpoint.info(u.a) }, b = try lifting { try checkpoint.info(u.b) }
            guard w.shape.count == 2, a.shape.count == 2, b.shape.count == 2, a.shape[0] == b.shape[1],
                b.shape[0] == w.shape[0], a.shape[1] == w.shape[1]
            else {
                throw .invalidAdapter(path: path, reason: "'\(target)' is \(w.shape) in \(modelName) but B·A is \(b.shape)·\(a.shape) (adapter made for another model?)")
            }
            guard a.shape[0] == u.rank else {
                throw .invalidAdapter(path: path, reason: "'\(u.a)' has rank \(a.shape[0]) but adapter_config.json says r = \(u.rank)")
            }
        }
        for (target, u) in embeddingUpdates.sorted(by: { $0.key < $1.key }) {
            guard base.contains(target) else {
                throw .invalidAdapter(path: path, reason: "embedding LoRA targets '\(target)', which \(modelName) does not have (adapter made for another model?)")
            }
            let w = try lifting { try base.info(target) }
            let a = try lifting { try checkpoint.info(u.a) }, b = try lifting { try checkpoint.info(u.b) }
            // W [V, h] += s · (B [h, r] · A [r, V])ᵀ
            guard w.shape.count == 2, a.shape.count == 2, b.shape.count == 2, a.shape[0] == b.shape[1],
                a.shape[1] == w.shape[0], b.shape[0] == w.shape[1]
            else {
                throw .invalidAdapter(path: path, reason: "'\(target)' is \(w.shape) in \(modelName) but (B·A)ᵀ is (\(b.shape)·\(a.shape))ᵀ (adapter made for another model or vocabulary?)")
            }
            guard a.shape[0] == u.rank else {
                throw .invalidAdapter(path: path, reason: "'\(u.a)' has rank \(a.shape[0]) but adapter_config.json says r = \(u.rank)")
            }
        }
        for (target, name) in replacements.sorted(by: { $0.key < $1.key }) {
            guard base.contains(target) else { throw .invalidAdapter(path: path, reason: "replaces '\(target)', which \(modelName) does not have") }
            let w = try lifting { try base.info(target) }, r = try lifting { try checkpoint.info(name) }
            guard w.shape == r.shape else { throw .invalidAdapter(path: path, reason: "'\(name)' is \(r.shape) but '\(target)' is \(w.shape) in \(modelName)") }
        }
    }

    /// Applies the adapter's change to `w` (the f32 copy of base tensor `target`); false when the
    /// adapter does not touch `target`.
    @discardableResult
    package func apply(to w: UnsafeMutableBufferPointer<Float>, target: String) throws(SurgeryError) -> Bool {
        if let name = replacements[target] {
            let v = try lifting { try checkpoint.view(name) }
            try lifting { try v.convert(elements: 0..<w.count, into: UnsafeMutableRawPointer(w.baseAddress!), as: .F32) }
            // A saved base layer (save_embedding_layers) still takes its LoRA on top.
            if embeddingUpdates[target] == nil && updates[target] == nil { return true }
        }
        if embeddingUpdates[target] != nil { return try addEmbeddingDelta(to: w, target: target) }
        return try addDelta(to: w, target: target)
    }

    /// Adds `factor · s · B·A` of the Linear LoRA on `target` to `w` (f32, `[out, in]`); false when
    /// `target` has no Linear LoRA.
    @discardableResult
    package func addDelta(to w: UnsafeMutableBufferPointer<Float>, target: String, factor: Double = 1) throws(SurgeryError) -> Bool {
        guard let u = updates[target] else { return false }
        let a = try lifting { try checkpoint.view(u.a).floats() }
        let b = try lifting { try checkpoint.view(u.b).floats() }
        let r = u.rank, cols = a.count / r, rows = b.count / r
        guard rows * cols == w.count else { throw .invalidAdapter(path: path, reason: "'\(target)': B·A has \(rows * cols) elements, the tensor \(w.count)") }
        let s = Float(u.scale * factor)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                let (ab, bb) = (UncheckedSendable(ap), UncheckedSendable(bp))
                DispatchRows.forEach(rows) { o in
                    // w[o, :] += s · Σⱼ B[o, j] · A[j, :]
                    var acc = [Float](repeating: 0, count: cols)
                    for j in 0..<r {
                        let coef = bb.value[o * r + j]
                        let rowA = j * cols
                        for c in 0..<cols { acc[c] += coef * ab.value[rowA + c] }
                    }
                    let base = o * cols
                    for c in 0..<cols { w[base + c] += s * acc[c] }
                }
            }
        }
        return true
    }

    /// Adds `s · (B·A)ᵀ` of the embedding LoRA on `target` to `w` (f32, `[V, h]`); false when `target`
    /// has no embedding LoRA. Row v: `w[v, :] += s · Σⱼ A[j, v] · B[:, j]`.
    @discardableResult
    package func addEmbeddingDelta(to w: UnsafeMutableBufferPointer<Float>, target: String) throws(SurgeryError) -> Bool {
        guard let u = embeddingUpdates[target] else { return false }
        let a = try lifting { try checkpoint.view(u.a).floats() }  // [r, V]
        let b = try lifting { try checkpoint.view(u.b).floats() }  // [h, r]
        let r = u.rank, vocab = a.count / r, h = b.count / r
        guard vocab * h == w.count, w.count > 0 else { throw .invalidAdapter(path: path, reason: "'\(target)': (B·A)ᵀ has \(vocab * h) elements, the tensor \(w.count)") }
        // W [V, h] = s · Aᵀ [V, r] · Bᵀ [r, h] + W  (one sgemm: V·h·r multiply-adds, float32)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                BLAS.sgemm(
                    transA: true, transB: true, m: vocab, n: h, k: r, alpha: Float(u.scale), a: ap.baseAddress!, lda: vocab,
                    b: bp.baseAddress!, ldb: r, beta: 1, c: w.baseAddress!, ldc: h)
            }
        }
        return true
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return String(self[..<r.lowerBound]) + replacement + String(self[r.upperBound...])
    }

    func range(of target: String) -> Range<String.Index>? {
        guard !target.isEmpty, target.count <= count else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }
}
