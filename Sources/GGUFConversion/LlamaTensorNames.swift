import Models

/// llama.cpp's tensor names for the LLaMA architecture (`gguf.constants.TENSOR_NAMES`,
/// `MODEL_TENSORS[LLAMA]`) and the Hugging Face names they stand for.
enum LlamaTensorNames {
    static let global: [(gguf: String, hf: String)] = [
        ("token_embd.weight", TensorLayout.embedTokens),
        ("output_norm.weight", TensorLayout.finalNorm),
        ("output.weight", TensorLayout.lmHead)
    ]
    static let block: [(gguf: String, hf: TensorLayout.LayerTensor)] = [
        ("attn_norm", .inputNorm), ("attn_q", .q), ("attn_k", .k), ("attn_v", .v), ("attn_output", .o),
        ("ffn_norm", .postNorm), ("ffn_gate", .gate), ("ffn_up", .up), ("ffn_down", .down)
    ]
    /// The llama3 RoPE factors (`rope_freqs.weight`), which has no Hugging Face tensor.
    static let ropeFreqs = "rope_freqs.weight"

    /// GGUF name → HF name, nil for an unknown name.
    static func hf(_ name: String) -> String? {
        if let g = global.first(where: { $0.gguf == name }) { return g.hf }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let i = Int(parts[1]), i >= 0, parts[3] == "weight",
            let b = block.first(where: { $0.gguf == parts[2] })
        else { return nil }
        return TensorLayout.name(layer: i, b.hf)
    }

    /// HF name → GGUF name, nil for a name llama.cpp's LLaMA has no tensor for.
    static func gguf(_ name: String) -> String? {
        if let g = global.first(where: { $0.hf == name }) { return g.gguf }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]) else { return nil }
        let sub = String(rest[rest.index(after: dot)...])
        guard let b = block.first(where: { $0.hf.rawValue == sub }) else { return nil }
        return "blk.\(i).\(b.gguf).weight"
    }
}

/// llama.cpp's row order for q/k projections (`LlamaModel.permute` in convert_hf_to_gguf.py): within
/// each head, the rows of the two rotary halves are interleaved (HF: [h, 2, d/2]; GGUF: [h, d/2, 2]).
enum QKPermutation {
    /// HF → GGUF: row `h·d + 2i + j` of the result is row `h·d + j·d/2 + i` of `w` ([rows, cols]).
    static func permute(_ w: [Float], rows: Int, cols: Int, heads: Int) -> [Float] {
        reorder(w, rows: rows, cols: cols, heads: heads, toGGUF: true)
    }

    /// GGUF → HF (the inverse).
    static func unpermute(_ w: [Float], rows: Int, cols: Int, heads: Int) -> [Float] {
        reorder(w, rows: rows, cols: cols, heads: heads, toGGUF: false)
    }

    static func reorder(_ w: [Float], rows: Int, cols: Int, heads: Int, toGGUF: Bool) -> [Float] {
        let d = rows / heads, half = d / 2
        var out = [Float](repeating: 0, count: w.count)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let hfRow = h * d + j * half + i, ggRow = h * d + 2 * i + j
                    let (src, dst) = toGGUF ? (hfRow, ggRow) : (ggRow, hfRow)
                    for c in 0..<cols { out[dst * cols + c] = w[src * cols + c] }
                }
            }
        }
        return out
    }
}
