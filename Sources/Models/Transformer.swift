import TensorMath

/// The verification forward pass of `LlamaForCausalLM` and `MistralForCausalLM` in Float32,
/// a port of transformers' `modeling_llama.py` / `modeling_mistral.py` (one implementation: Mistral
/// is LLaMA with a sliding attention window).
///
/// Read top to bottom in `forward`. Notation: T new tokens at positions p₀..<p₀+T (p₀ = tokens
/// already in the cache), h hidden size, I intermediate size, nH query heads, nKV key/value heads,
/// d head_dim, V vocabulary size. Every matrix product reads the weights in place in the mapping
/// (bf16/f16/f32), converting nothing: passes of at most `matrixVectorRows` tokens (decoding) on the
/// matrix-vector kernels (each weight read once per token), longer passes (prefill) on the
/// register-tiled GEMM kernel (`Kernels.gemm`, output features split over the threads). Without
/// AVX-512, or for F64 weights, long passes use OpenBLAS (`BLAS.splitLinear`) on Float32 weights
/// converted per layer. Element loops and kernels run in parallel on `Parallel.threadCount` threads
/// (`TensorMath`).
public final class Transformer {
    /// Which positions get logits.
    public enum Logits: Sendable {
        /// Every new position: [T, V].
        case all
        /// Only the last new position: [V] (generation).
        case last
    }

    /// The configuration.
    public let config: ModelConfig
    /// The weights (mapped, converted per layer).
    public let weights: ModelWeights
    /// RoPE frequencies.
    package let rope: RotaryEmbedding

    /// Opens and validates the model in `directory`.
    public convenience init(directory: String, residentBudget: Int = ModelWeights.defaultResidentBudget) throws(ModelError) {
        try self.init(weights: try ModelWeights(directory: directory, residentBudget: residentBudget))
    }

    /// A forward pass over validated `weights`.
    public init(weights: ModelWeights) throws(ModelError) {
        self.weights = weights
        config = weights.config
        rope = try RotaryEmbedding(config: config, path: weights.checkpoint.directory + "/config.json")
    }

    /// Passes of at most this many new tokens run on the matrix-vector kernels (each weight read
    /// once per pass); longer passes on the GEMM kernel (or sgemm on Float32 weights without it).
    public static let matrixVectorRows = 8

    /// The products `jobs` on weights read in place: the matrix-vector kernels for at most
    /// `matrixVectorRows` rows, the register-tiled GEMM kernel for more (which needs `Kernels.hasGEMM`).
    static func product(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ jobs: [Kernels.LinearJob]) {
        if rows <= matrixVectorRows { Kernels.linear(x, rows: rows, ldx: ldx, jobs) } else { Kernels.gemm(x, rows: rows, ldx: ldx, jobs) }
    }

    /// A KV cache with room for `capacity` positions.
    public func makeCache(capacity: Int) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// Runs `tokens` after the positions already in `cache`, appends their keys and values to it,
    /// and returns the logits ([T, V] row-major for `.all`, [V] for `.last`).
    public func forward(_ tokens: [Int], cache: KVCache, logits mode: Logits = .all) throws(ModelError) -> [Float] {
        let c = config
        let T = tokens.count, p0 = cache.count
        let h = c.hiddenSize, I = c.intermediateSize, d = c.headDim
        let nH = c.numAttentionHeads, nKV = c.numKeyValueHeads, V = c.vocabSize
        let eps = Float(c.rmsNormEps)
        guard T > 0 else { throw .sequenceLength(reason: "no tokens to run") }
        guard p0 + T <= cache.capacity else {
            throw .sequenceLength(reason: "\(p0) cached + \(T) new positions exceed the KV cache capacity \(cache.capacity)")
        }

        let x = scratch(T * h)  // residual stream [T, h]
        let xn = scratch(T * h)  // normalised input of a block [T, h]
        let q = scratch(T * nH * d)  // queries [T, nH·d]
        let attn = scratch(T * nH * d)  // attention output before o_proj [T, nH·d]
        // the MLP's activation [T, I], rows of stride ldg (padded when I would make the down
        // projection's GEMM copy its input; I on the other paths)
        let ldg = T > Self.matrixVectorRows && Kernels.hasGEMM ? Kernels.gemmStride(columns: I, rows: T) : I
        let gate = scratch(T * ldg)
        let up = scratch(T * I)  // [T, I]
        defer { [x, xn, q, attn, gate, up].forEach { $0.deallocate() } }

        // x = embed_tokens[tokens]                                             [T, h]
        try weights.embed(tokens, into: x)
        // cos/sin of every new position, shared by q, k and all layers
        let angles = rope.table(rows: T, firstPosition: p0)

        for l in 0..<c.numHiddenLayers {
            // The weights in place in the mapping (matrix-vector kernels for few rows, else the GEMM
            // kernel); without the GEMM kernel, long passes use Float32 weights (converted per layer,
            // or kept) and sgemm.
            let w: Layer
            if T <= Self.matrixVectorRows || Kernels.hasGEMM, let s = try weights.storedLayer(l) {
                w = .stored(s)
            } else {
                w = .converted(try weights.layer(l))
            }
            let kRows = cache.keys[l] + p0 * nKV * d  // this step's keys   [T, nKV·d] in the cache
            let vRows = cache.values[l] + p0 * nKV * d  // this step's values [T, nKV·d] in the cache

            // --- self-attention block: x = x + o_proj(attention(rmsnorm(x))) ---
            // xn = x / √(mean(x²) + ε) ⊙ input_layernorm                            [T, h]
            RMSNorm.apply(x, weight: w.inputNorm, eps: eps, rows: T, width: h, into: xn)
            // q = xn·Wqᵀ [T, nH·d];  k = xn·Wkᵀ, v = xn·Wvᵀ [T, nKV·d] (into the cache)
            w.qkv(xn, rows: T, q: q, k: kRows, v: vRows)
            // rotate q and k by their positions p₀..<p₀+T (rotate-half RoPE)
            rope.apply([(q, nH), (kRows, nKV)], table: angles)
            // attn = softmax(q·kᵀ/√d + causal/sliding mask)·v over positions 0..<p₀+T   [T, nH·d]
            Attention.forward(
                q: q, keys: cache.keys[l], values: cache.values[l], rows: T, firstPosition: p0,
                config: c, into: attn)
            // x = x + attn·Woᵀ                                                     [T, h]
            w.addOutput(attn, rows: T, into: x)

            // --- MLP block: x = x + down_proj(silu(gate_proj(xn)) ⊙ up_proj(xn)) ---
            // xn = rmsnorm(x) ⊙ post_attention_layernorm                           [T, h]
            RMSNorm.apply(x, weight: w.postNorm, eps: eps, rows: T, width: h, into: xn)
            // gate = silu(xn·Wgᵀ) ⊙ (xn·Wuᵀ), silu(z) = z·σ(z)                     [T, I]
            // (one fused pass on the GEMM kernel; else gate and up, then the activation)
            let ld = w.gatedActivation(xn, rows: T, into: gate, ldg: ldg, up: up)
            // x = x + gate·Wdᵀ                                                     [T, h]
            w.addDown(gate, rows: T, ld: ld, into: x)
            withExtendedLifetime(w) {}  // converted weights are freed only after their last product
        }
        cache.count = p0 + T

        // --- head: logits = rmsnorm(x) ⊙ norm · W_lmᵀ (lm_head, or embed_tokens when tied) ---
        let first = mode == .all ? 0 : T - 1
        let rows = T - first
        RMSNorm.apply(x + first * h, weight: weights.finalNorm.pointer, eps: eps, rows: rows, width: h, into: xn)
        var out = [Float](repeating: 0, count: rows * V)  // [rows, V]
        try out.withUnsafeMutableBufferPointer { (o: inout UnsafeMutableBufferPointer<Float>) throws(ModelError) in
            try weights.project(xn, rows: rows, into: o.baseAddress!)
        }
        return out
    }
}

/// One layer's weights as the forward pass uses them: in place in the mapping (matrix-vector
/// kernels) or converted to Float32 (sgemm). Shapes as in `LayerWeights`.
private enum Layer {
    case stored(StoredLayer)
    case converted(LayerWeights)

    var inputNorm: UnsafePointer<Float> {
        switch self {
        case .stored(let s): s.inputNorm.pointer;
        case .converted(let w): w.inputNorm.pointer
        }
    }

    var postNorm: UnsafePointer<Float> {
        switch self {
        case .stored(let s): s.postNorm.pointer;
        case .converted(let w): w.postNorm.pointer
        }
    }

    /// q = xn·Wqᵀ, k = xn·Wkᵀ, v = xn·Wvᵀ.
    func qkv(
        _ xn: UnsafePointer<Float>, rows: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>
    ) {
        switch self {
        case .stored(let s):
            Transformer.product(
                xn, rows: rows, ldx: s.q.columns,
                [
                    .init(weight: s.q, output: q), .init(weight: s.k, output: k),
                    .init(weight: s.v, output: v)
                ])
        case .converted(let w):
            let h = w.inputNorm.count
            Self.linear(xn, rows: rows, w.q, out: w.q.count / h, into: q)
            Self.linear(xn, rows: rows, w.k, out: w.k.count / h, into: k)
            Self.linear(xn, rows: rows, w.v, out: w.v.count / h, into: v)
        }
    }

    /// x = x + attn·Woᵀ.
    func addOutput(_ attn: UnsafePointer<Float>, rows: Int, into x: UnsafeMutablePointer<Float>) {
        addProjection(attn, rows: rows, ld: nil, stored: \.o, converted: \.o, into: x)
    }

    /// gate = silu(xn·Wgᵀ) ⊙ (xn·Wuᵀ); returns gate's row stride: `ldg` on the fused GEMM kernel, else
    /// the intermediate size (contiguous rows). `up` is scratch of gate's size (unused by the fused kernel).
    func gatedActivation(
        _ xn: UnsafePointer<Float>, rows: Int, into gate: UnsafeMutablePointer<Float>, ldg: Int, up: UnsafeMutablePointer<Float>
    ) -> Int {
        switch self {
        case .stored(let s) where rows > Transformer.matrixVectorRows:
            Kernels.gemmSwiGLU(xn, rows: rows, ldx: s.gate.columns, gate: s.gate, up: s.up, into: gate, ldy: ldg)
            return ldg
        case .stored(let s):
            Transformer.product(xn, rows: rows, ldx: s.gate.columns, [.init(weight: s.gate, output: gate), .init(weight: s.up, output: up)])
            SwiGLU.apply(gate: gate, up: up, count: rows * s.gate.rows)
            return s.gate.rows
        case .converted(let w):
            let h = w.inputNorm.count, I = w.gate.count / h
            Self.linear(xn, rows: rows, w.gate, out: I, into: gate)
            Self.linear(xn, rows: rows, w.up, out: I, into: up)
            SwiGLU.apply(gate: gate, up: up, count: rows * I)
            return I
        }
    }

    /// y = x·Wᵀ (+ y when accumulating) for Float32 weights W [out, count/out], on every thread.
    private static func linear(
        _ x: UnsafePointer<Float>, rows: Int, _ w: FloatWeights, out: Int,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let width = w.count / out
        BLAS.splitLinear(
            m: rows, n: out, k: width, a: x, lda: width, b: w.pointer, ldb: width, beta: accumulate ? 1 : 0,
            c: y, ldc: out)
    }

    /// x = x + gate·Wdᵀ (gate's rows of stride `ld`).
    func addDown(_ gate: UnsafePointer<Float>, rows: Int, ld: Int, into x: UnsafeMutablePointer<Float>) {
        addProjection(gate, rows: rows, ld: ld, stored: \.down, converted: \.down, into: x)
    }

    /// x = x + input·Wᵀ for a projection W back to the hidden size (o_proj, down_proj); the input's rows
    /// of stride `ld` (nil: contiguous; only with stored weights).
    private func addProjection(
        _ input: UnsafePointer<Float>, rows: Int, ld: Int?, stored: KeyPath<StoredLayer, StoredMatrix>,
        converted: KeyPath<LayerWeights, FloatWeights>, into x: UnsafeMutablePointer<Float>
    ) {
        switch self {
        case .stored(let s):
            let w = s[keyPath: stored]
            Transformer.product(input, rows: rows, ldx: ld ?? w.columns, [.init(weight: w, output: x, accumulate: true)])
        case .converted(let l):
            Self.linear(input, rows: rows, l[keyPath: converted], out: l.inputNorm.count, into: x, accumulate: true)
        }
    }
}

/// An uninitialised Float32 scratch buffer (the caller deallocates it).
func scratch(_ count: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: max(count, 1)) }
