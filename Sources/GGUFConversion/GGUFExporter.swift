import GGUF
import LEPJSON
import Models
import SafeTensors

/// `lep convert MODEL_DIR OUT.gguf`: a LLaMA/Mistral checkpoint as one llama.cpp GGUF file, following
/// convert_hf_to_gguf.py (`LlamaModel`): hyper-parameters under `llama.*`, LLaMA-3 RoPE scaling as the
/// `rope_freqs` tensor, the sliding window, q/k rows permuted, 1-D tensors in F32, the tokenizer and
/// chat templates under `tokenizer.*`. Written to a temporary sibling and renamed into place.
public enum GGUFExporter {
    /// What to write.
    public struct Options: Sendable {
        /// Type of the 2-D tensors: F16 (default, as convert_hf_to_gguf), BF16, F32 or Q8_0.
        public var type: GGMLType = .f16
        /// `general.name`; nil: the model folder's name.
        public var name: String?
        /// Replace an existing output file.
        public var force = false
        /// F16, the folder's name, never replace an output.
        public init() {}
    }

    /// What was written.
    public struct Summary: Sendable {
        /// Tensors written (`rope_freqs` included).
        public let tensors: Int
        /// Tensor data bytes (header and alignment padding not included).
        public let bytes: Int
        /// GGML types written and how many tensors have each, by type name.
        public let types: [(type: String, count: Int)]
        /// Metadata key/value pairs written.
        public let metadataEntries: Int
        /// The tokenizer as written, e.g. "gpt2 (llama-bpe), 128000 tokens + 256 added, 280147 merges".
        public let tokenizer: String
        /// Names of the chat templates written (empty when the model has none).
        public let chatTemplates: [String]
    }

    /// llama.cpp's `general.file_type` for the 2-D tensor type.
    static func fileType(_ t: GGMLType) -> UInt32 {
        switch t {
        case .f32: 0;
        case .f16: 1;
        case .q8_0: 7;
        case .bf16: 32;
        default: 1
        }
    }

    /// Converts the model folder `dir` into the GGUF file `output`. 2-D tensors get ``Options/type``
    /// (a Q8_0 tensor whose rows are not a multiple of 32 falls back to F16), 1-D tensors F32;
    /// `progress(done, total)` counts tensor bytes.
    ///
    /// Throws `ModelError` for a missing or unsupported config.json, ``GGUFError/conversion(path:reason:)``
    /// for a tensor llama.cpp's LLaMA has no place for, a wrong shape or dtype, an unsupported RoPE
    /// scaling or tokenizer, and `FileError.outputExists` when `output` exists without ``Options/force``.
    public static func convert(input dir: String, output: String, options: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Summary {
        guard GGUFQuantizer.writable.contains(options.type) else {
            throw GGUFError.conversion(path: output, reason: "lep writes GGUF tensors as f16, bf16, f32 or q8_0, not \(options.type.name)")
        }
        let config = try ModelConfig.load(directory: dir)
        let checkpoint = try Checkpoint(path: dir)
        let hasHeadDim = config.raw["head_dim"].map { !$0.isNull } ?? false
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        let base = dir.split(separator: "/").last.map(String.init) ?? "model"
        w.add("general.name", .string(options.name ?? base))
        func u32(_ k: String, _ v: Int) { w.add("llama." + k, .uint32(UInt32(v))) }
        u32("block_count", config.numHiddenLayers)
        u32("context_length", config.maxPositionEmbeddings)
        u32("embedding_length", config.hiddenSize)
        u32("feed_forward_length", config.intermediateSize)
        u32("attention.head_count", config.numAttentionHeads)
        u32("attention.head_count_kv", config.numKeyValueHeads)
        w.add("llama.rope.freq_base", .float32(Float(config.ropeTheta)))
        w.add("llama.attention.layer_norm_rms_epsilon", .float32(Float(config.rmsNormEps)))
        w.add("general.file_type", .uint32(fileType(options.type)))
        if hasHeadDim {
            u32("attention.key_length", config.headDim)
            u32("attention.value_length", config.headDim)
        }
        u32("vocab_size", config.vocabSize)
        u32("rope.dimension_count", config.headDim)
        if let s = config.slidingWindow { u32("attention.sliding_window", s) }
        w.add("general.quantization_version", .uint32(2))
        let tok = try GGUFTokenizerExport(directory: dir, vocabSize: config.vocabSize)
        for e in tok.entries { w.add(e.key, e.value) }

        // Tensors: rope_freqs, then the checkpoint's in model order.
        var sources: [(name: String, hf: String?, shape: [Int])] = []
        var ropeFactors: [Float]?
        switch config.ropeScaling {
        case .none: break
        case .llama3(let f, let lo, let hi, let orig):
            ropeFactors = Llama3RopeFactors.factors(
                theta: config.ropeTheta, headDim: config.headDim,
                .init(factor: f, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositionEmbeddings: orig))
            sources.append((LlamaTensorNames.ropeFreqs, nil, [config.headDim / 2]))
        case .unsupported(let t):
            throw GGUFError.conversion(path: dir, reason: "rope_scaling type '\(t)' has no llama.cpp LLaMA equivalent that lep writes (default and llama3 are supported)")
        }
        let expected = Dictionary(uniqueKeysWithValues: TensorLayout.expected(for: config).map { ($0.name, $0.shape) })
        let order = TensorLayout.expected(for: config).map(\.name).sorted { rank($0) < rank($1) }
        for name in checkpoint.tensorNames where expected[name] == nil && !name.hasSuffix("rotary_emb.inv_freq") {
            if name == TensorLayout.lmHead && config.tieWordEmbeddings { continue }
            throw GGUFError.conversion(path: dir, reason: "tensor '\(name)' has no place in llama.cpp's LLaMA (expected the \(expected.count) tensors of config.json)")
        }
        for name in order {
            guard let g = LlamaTensorNames.gguf(name), let shape = expected[name] else { continue }
            let info = try checkpoint.info(name)
            guard info.shape == shape else {
                throw GGUFError.conversion(path: dir, reason: "tensor '\(name)' has shape \(info.shape); config.json implies \(shape)")
            }
            guard info.dtype.isStandardFloat else { throw GGUFError.conversion(path: dir, reason: "tensor '\(name)' is \(info.dtype.rawValue), not a float type") }
            sources.append((g, name, shape))
        }
        for s in sources {
            var type: GGMLType = s.shape.count == 1 ? .f32 : options.type
            if type == .q8_0 && s.shape[s.shape.count - 1] % 32 != 0 { type = .f16 }
            w.tensors.append(.init(name: s.name, dimensions: s.shape.reversed(), type: type))
        }
        let q = config.numAttentionHeads, kv = config.numKeyValueHeads
        var done = 0
        let total = w.tensors.reduce(0) { $0 + ($1.type.byteCount(elements: $1.dimensions.reduce(1, *)) ?? 0) }
        try w.write(to: output, force: options.force) { i in
            let s = sources[i], t = w.tensors[i]
            var values: [Float]
            if let hf = s.hf {
                let view = try checkpoint.view(hf)
                values = try view.floats()
                view.file.dropPages(view.fileOffset..<(view.fileOffset + view.byteCount))
                if hf.hasSuffix("q_proj.weight") { values = QKPermutation.permute(values, rows: s.shape[0], cols: s.shape[1], heads: q) }
                if hf.hasSuffix("k_proj.weight") { values = QKPermutation.permute(values, rows: s.shape[0], cols: s.shape[1], heads: kv) }
            } else {
                values = ropeFactors ?? []
            }
            guard let bytes = GGUFQuantizer.encode(values, as: t.type) else { throw GGUFError.writerMisuse("cannot encode \(s.name) as \(t.type.name)") }
            done += bytes.count
            progress?(done, total)
            return bytes
        }
        var counts: [String: Int] = [:]
        for t in w.tensors { counts[t.type.name, default: 0] += 1 }
        let size = w.tensors.reduce(0) { $0 + ($1.type.byteCount(elements: $1.dimensions.reduce(1, *)) ?? 0) }
        return Summary(
            tensors: w.tensors.count, bytes: size, types: counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            metadataEntries: w.metadata.count, tokenizer: tok.summary, chatTemplates: tok.templateNames)
    }

    /// llama.cpp's order: token_embd, the blocks in order, output_norm, output.
    static func rank(_ name: String) -> (Int, Int, String) {
        if name == TensorLayout.embedTokens { return (0, 0, name) }
        if name == TensorLayout.finalNorm { return (2, 0, name) }
        if name == TensorLayout.lmHead { return (3, 0, name) }
        let parts = name.split(separator: ".")
        return (1, parts.count > 2 ? Int(parts[2]) ?? 0 : 0, name)
    }
}
