import SafeTensors
import TensorMath

/// The weights of a LLaMA/Mistral checkpoint, read in place from the memory-mapped safetensors
/// files and converted to Float32 one layer at a time.
///
/// Opening validates everything the forward pass will touch before any computation: every tensor
/// `config.json` implies exists with the implied shape and a float dtype, no unknown tensor is
/// present, and the RoPE scaling is one lep implements. When the whole model in Float32 fits in
/// `residentBudget` bytes the converted layers are kept; otherwise each layer is converted when it
/// is used, into one buffer reused by every layer and pass, so an 8B bf16 checkpoint runs with one
/// layer of Float32 (≈ 0.9 GB) plus activations in anonymous memory (the mapped checkpoint pages
/// are page cache). Decoding, and long passes where the GEMM kernel runs (`Kernels.hasGEMM`:
/// AVX-512), read the weights in place (`storedLayer`, `project`) and convert nothing.
public final class ModelWeights {
    /// The model's configuration.
    public let config: ModelConfig
    /// The opened checkpoint.
    public let checkpoint: Checkpoint
    /// `model.norm.weight` [h]
    public let finalNorm: FloatWeights
    /// True when converted layers and the output matrix are kept between forward passes.
    public let keepsConvertedWeights: Bool
    private var cache: [Int: LayerWeights] = [:]
    private var stored: [Int: StoredLayer] = [:]
    private var layerBuffer: UnsafeMutablePointer<Float>?
    private var layerBufferCapacity = 0
    private var output: FloatWeights?
    private let embedView: TensorView
    private let outputView: TensorView

    /// Default budget for keeping Float32 weights: 8 GiB.
    public static let defaultResidentBudget = 8 << 30

    /// Opens and validates the model in `directory` (config.json + safetensors).
    public convenience init(directory: String, residentBudget: Int = ModelWeights.defaultResidentBudget) throws(ModelError) {
        let config = try ModelConfig.load(directory: directory)
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(path: directory) } catch {
            throw .checkpoint(path: directory, detail: error.description)
        }
        try self.init(config: config, checkpoint: checkpoint, residentBudget: residentBudget)
    }

    /// Validates `checkpoint` against `config`.
    public init(config: ModelConfig, checkpoint: Checkpoint, residentBudget: Int = ModelWeights.defaultResidentBudget) throws(ModelError) {
        let path = checkpoint.directory
        if case .unsupported(let type) = config.ropeScaling { throw .unsupportedRopeScaling(path: path, type: type) }
        let expected = TensorLayout.expected(for: config)
        for e in expected {
            guard checkpoint.contains(e.name) else { throw .missingTensor(path: path, tensor: e.name) }
            let info: TensorInfo
            do { info = try checkpoint.info(e.name) } catch { throw .checkpoint(path: path, detail: error.description) }
            guard info.shape == e.shape else { throw .shapeMismatch(path: path, tensor: e.name, expected: e.shape, found: info.shape) }
            guard info.dtype.floatStorage != nil else { throw .unsupportedDType(path: path, tensor: e.name, dtype: info.dtype.rawValue) }
        }
        let known = Set(expected.map(\.name))
        for name in checkpoint.tensorNames where !known.contains(name) {
            // Old checkpoints store RoPE buffers; tied models may still carry an lm_head copy, which
            // transformers ignores when tie_word_embeddings is true.
            if name.hasSuffix("rotary_emb.inv_freq") || (config.tieWordEmbeddings && name == TensorLayout.lmHead) { continue }
            throw .unexpectedTensor(path: path, tensor: name)
        }
        self.config = config
        self.checkpoint = checkpoint
        func view(_ name: String) throws(ModelError) -> TensorView {
            do { return try checkpoint.view(name) } catch { throw .checkpoint(path: path, detail: error.description) }
        }
        finalNorm = try FloatWeights(try view(TensorLayout.finalNorm))
        embedView = try view(TensorLayout.embedTokens)
        outputView = try view(config.tieWordEmbeddings ? TensorLayout.embedTokens : TensorLayout.lmHead)
        keepsConvertedWeights = config.parameterCount * 4 <= residentBudget
    }

    deinit { layerBuffer?.deallocate() }

    /// The Float32 weights of layer `index`: kept from an earlier call when the budget allows, else
    /// converted now. Without keeping, every layer is converted into one buffer that this object
    /// reuses (F32 tensors are borrowed in place), so the result is valid only until the next call;
    /// a long pass over a 16-bit checkpoint then touches one layer of Float32 memory, not a model's.
    package func layer(_ index: Int) throws(ModelError) -> LayerWeights {
        if let w = cache[index] { return w }
        let keys: [TensorLayout.LayerTensor] = [.inputNorm, .q, .k, .v, .o, .postNorm, .gate, .up, .down]
        var views: [TensorView] = []
        for key in keys {
            do { views.append(try checkpoint.view(TensorLayout.name(layer: index, key))) } catch { throw .checkpoint(path: checkpoint.directory, detail: error.description) }
        }
        var next: UnsafeMutablePointer<Float>? = nil
        if !keepsConvertedWeights {
            let needed = views.reduce(0) { $0 + FloatWeights.conversionCount($1) }
            if needed > layerBufferCapacity {
                layerBuffer?.deallocate()
                layerBuffer = .allocate(capacity: needed)
                layerBufferCapacity = needed
            }
            next = layerBuffer
        }
        var f: [FloatWeights] = []
        for v in views {
            let w = try FloatWeights(v, into: next)
            if let n = next, !w.isBorrowed { next = n + w.count }
            f.append(w)
        }
        let w = LayerWeights(inputNorm: f[0], q: f[1], k: f[2], v: f[3], o: f[4], postNorm: f[5], gate: f[6], up: f[7], down: f[8])
        if keepsConvertedWeights { cache[index] = w }
        return w
    }

    /// Layer `index`'s matrices read in place from the mapping (no conversion, nothing allocated but
    /// the two norm vectors), for the matrix-vector kernels; nil when a matrix is F64.
    package func storedLayer(_ index: Int) throws(ModelError) -> StoredLayer? {
        if let s = stored[index] { return s }
        func view(_ key: TensorLayout.LayerTensor) throws(ModelError) -> TensorView {
            do { return try checkpoint.view(TensorLayout.name(layer: index, key)) } catch { throw .checkpoint(path: checkpoint.directory, detail: error.description) }
        }
        func matrix(_ key: TensorLayout.LayerTensor) throws(ModelError) -> StoredMatrix? {
            Self.storedMatrix(try view(key))
        }
        guard let q = try matrix(.q), let k = try matrix(.k), let v = try matrix(.v), let o = try matrix(.o),
            let gate = try matrix(.gate), let up = try matrix(.up), let down = try matrix(.down)
        else { return nil }
        let s = StoredLayer(
            inputNorm: try FloatWeights(try view(.inputNorm)), q: q, k: k, v: v, o: o,
            postNorm: try FloatWeights(try view(.postNorm)), gate: gate, up: up, down: down)
        stored[index] = s
        return s
    }

    /// A validated 2-D float tensor as a `StoredMatrix` (nil for F64).
    static func storedMatrix(_ view: TensorView) -> StoredMatrix? {
        guard let storage = view.dtype.floatStorage, view.shape.count == 2, let base = view.bytes.baseAddress else { return nil }
        return StoredMatrix(base: base, storage: storage, rows: view.shape[0], columns: view.shape[1])
    }

    /// Writes the embedding rows of `tokens` into `x` [tokens.count, h].
    public func embed(_ tokens: [Int], into x: UnsafeMutablePointer<Float>) throws(ModelError) {
        let h = config.hiddenSize
        for (t, id) in tokens.enumerated() {
            guard id >= 0, id < config.vocabSize else { throw .tokenOutOfRange(id: id, vocabSize: config.vocabSize) }
            do {
                try embedView.convert(elements: (id * h)..<((id + 1) * h), into: UnsafeMutableRawPointer(x + t * h), as: .F32)
            } catch { throw .unsupportedDType(path: checkpoint.directory, tensor: embedView.name, dtype: embedView.dtype.rawValue) }
        }
    }

    /// `logits[t, :] = x[t, :] · Wᵀ` with W = `lm_head.weight` (or the tied embeddings) [V, h],
    /// for `rows` rows of x [rows, h] into logits [rows, V]. Streams W in blocks of rows when the
    /// converted weights are not kept.
    public func project(_ x: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        let h = config.hiddenSize, vocab = config.vocabSize
        if rows <= Transformer.matrixVectorRows || Kernels.hasGEMM, let w = Self.storedMatrix(outputView) {
            // The kernels read W in place, converting nothing: matrix-vector for few rows (decoding),
            // the GEMM kernel for more.
            Transformer.product(x, rows: rows, ldx: h, [Kernels.LinearJob(weight: w, output: logits, ldy: vocab)])
            return
        }
        if keepsConvertedWeights {
            if output == nil { output = try FloatWeights(outputView) }
            if let w = output { BLAS.linear(x, rows: rows, inFeatures: h, weight: w.pointer, outFeatures: vocab, into: logits) }
            return
        }
        let block = max(1, (64 << 20) / (4 * h))  // 64 MB of Float32 per block
        var lo = 0
        while lo < vocab {
            let hi = min(vocab, lo + block)
            let w = try FloatWeights(outputView, rows: lo..<hi)
            BLAS.linear(x, rows: rows, inFeatures: h, weight: w.pointer, outFeatures: hi - lo, into: logits + lo, ldy: vocab)
            w.releaseSourcePages()
            lo = hi
        }
    }
}
