import GGUF
import LEPJSON
import Models
import SafeTensors
import Support
import TensorMath

/// `lep convert FILE.gguf OUT_DIR`: a llama.cpp GGUF file of the LLaMA architecture (LLaMA, Mistral
/// and their small relatives) as a Hugging Face model directory.
///
/// Tensors are dequantised (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K) with the kernels of
/// ``GGUFDequantizer``, q/k rows are put back in the HF order, `config.json` and
/// `generation_config.json` are built from the metadata, and the tokenizer is rebuilt as HF files
/// (byte-level BPE `tokenizer.json` for `gpt2` tokenizers, SentencePiece `tokenizer.model` for
/// `llama` ones) with the chat templates as `chat_template.jinja` (+ `additional_chat_templates/`).
public enum GGUFImporter {
    /// What to write.
    public struct Options: Sendable {
        /// Output dtype; nil: the file's float type when every tensor has the same one, else F32 (lossless).
        public var dtype: DType?
        /// Maximum shard size in bytes; nil writes one file.
        public var maxShardBytes: Int? = 5_000_000_000
        /// Replace an existing output folder.
        public var force = false
        /// The file's own float type, 5 GB shards, never replace an output.
        public init() {}
    }

    /// What was written.
    public struct Summary: Sendable {
        /// Tensors written (0 for a vocabulary-only file).
        public let tensors: Int
        /// Tensor data bytes written (safetensors headers not included).
        public let bytesWritten: Int
        /// The dtype of every output tensor.
        public let dtype: DType
        /// Tensor types of the input and how many tensors had each (e.g. "Q8_0": 7).
        public let inputTypes: [(type: String, count: Int)]
        /// "gpt2 (llama-bpe), 128256 tokens, 280147 merges" / "llama (SentencePiece), 32000 tokens".
        public let tokenizer: String
        /// Names of the chat templates found (`default` first when there is one).
        public let chatTemplates: [String]
        /// The output's `architectures[0]` (or "vocabulary only (no tensors)").
        public let architecture: String
        /// Every file written into the output folder, sorted.
        public let files: [String]
    }

    /// Converts `input` into the directory `output`.
    public static func convert(input: String, output: String, options: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Summary {
        let file = try GGUFFile(path: input)
        let md = GGUFMetadata(header: file.header, path: input)
        if file.header.tensors.isEmpty { return try vocabularyOnly(file: file, md: md, output: output, options: options) }
        let plan = try Plan(file: file, md: md, options: options)
        let tokenizer = try GGUFTokenizerImport(md: md, vocabSize: plan.config.vocabSize)

        let out = try AtomicOutputDirectory(target: output, force: options.force, inputs: [input])
        let specs = plan.tensors.map { TensorSpec(name: $0.hf, dtype: plan.dtype, shape: $0.info.shape) }
        let writer = try CheckpointWriter(output: out, tensors: specs, maxShardBytes: options.maxShardBytes, metadata: ["format": "pt"])
        let byName = Dictionary(uniqueKeysWithValues: plan.tensors.map { ($0.hf, $0) })
        let total = writer.totalDataBytes
        var done = 0
        try writer.writeTensors { spec, stream in
            guard let t = byName[spec.name] else { throw GGUFError.writerMisuse("unplanned tensor \(spec.name)") }
            var values = try file.floats(t.info.name)
            if let heads = t.unpermuteHeads {
                values = QKPermutation.unpermute(values, rows: t.info.shape[0], cols: t.info.shape[1], heads: heads)
            }
            try write(values, as: spec.dtype, to: stream)
            file.release(t.info)
            done += stream.expected
            progress?(done, total)
        }
        var files = Set(writer.shards.map(\.fileName))
        func put(_ name: String, _ bytes: [UInt8]) throws {
            if let slash = name.lastIndex(of: "/") { try out.makeDirectory(String(name[..<slash])) }
            try out.writeFile(name, contents: bytes)
            files.insert(name)
        }
        try put("config.json", json(plan.configJSON))
        try put("generation_config.json", json(plan.generationConfig(tokenizer)))
        for (name, bytes) in try tokenizer.files(modelMaxLength: plan.config.maxPositionEmbeddings) { try put(name, bytes) }
        try out.commit()
        var counts: [String: Int] = [:]
        for t in file.header.tensors { counts[t.type.name, default: 0] += 1 }
        return Summary(
            tensors: specs.count, bytesWritten: total, dtype: plan.dtype,
            inputTypes: counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            tokenizer: tokenizer.summary, chatTemplates: tokenizer.chatTemplates.map(\.name),
            architecture: plan.config.architectures.first ?? plan.config.family.rawValue, files: files.sorted())
    }

    /// A vocabulary-only GGUF (llama.cpp's `ggml-vocab-*.gguf`, 0 tensors): the tokenizer files alone.
    static func vocabularyOnly(file: GGUFFile, md: GGUFMetadata, output: String, options: Options) throws -> Summary {
        let count = try md.stringArray("tokenizer.ggml.tokens")?.count ?? 0
        let tokenizer = try GGUFTokenizerImport(md: md, vocabSize: max(count, try md.optionalInt("llama.vocab_size") ?? 0))
        let out = try AtomicOutputDirectory(target: output, force: options.force, inputs: [md.path])
        var files: [String] = []
        for (name, bytes) in try tokenizer.files(modelMaxLength: try md.optionalInt("llama.context_length") ?? 2048) {
            if let slash = name.lastIndex(of: "/") { try out.makeDirectory(String(name[..<slash])) }
            try out.writeFile(name, contents: bytes)
            files.append(name)
        }
        try out.commit()
        return Summary(
            tensors: 0, bytesWritten: 0, dtype: options.dtype ?? .F32, inputTypes: [], tokenizer: tokenizer.summary,
            chatTemplates: tokenizer.chatTemplates.map(\.name), architecture: "vocabulary only (no tensors)", files: files.sorted())
    }

    static func json(_ o: JSONObject) -> [UInt8] { Array((JSONWriter.pretty(.object(o)) + "\n").utf8) }

    static func write(_ values: [Float], as dtype: DType, to stream: TensorByteStream) throws {
        var i = 0
        let size = dtype.bitWidth / 8
        while i < values.count {
            let start = i
            try stream.fill(max: 1 << 22) { p, cap in
                let n = min(cap / size, values.count - start)
                for k in 0..<n {
                    let v = values[start + k]
                    switch dtype {
                    case .F32: p.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self)
                    case .F16: p.storeBytes(of: HalfPrecision.floatToF16(v).littleEndian, toByteOffset: 2 * k, as: UInt16.self)
                    default: p.storeBytes(of: HalfPrecision.floatToBF16(v).littleEndian, toByteOffset: 2 * k, as: UInt16.self)
                    }
                }
                return n * size
            }
            i = stream.written / size
        }
    }

    /// The model read from the metadata: its config and the tensors to write.
    struct Plan {
        struct Tensor { let info: GGUFTensorInfo; let hf: String; let unpermuteHeads: Int? }
        let config: ModelConfig
        let configJSON: JSONObject
        let tensors: [Tensor]
        let dtype: DType
        let md: GGUFMetadata

        init(file: GGUFFile, md: GGUFMetadata, options: Options) throws {
            self.md = md
            let path = md.path
            let arch = try md.optionalString("general.architecture") ?? "(none)"
            guard arch == "llama" else {
                throw GGUFError.conversion(path: path, reason: "general.architecture is '\(arch)'; lep converts the llama architecture (LLaMA, Mistral and relatives) only")
            }
            func k(_ s: String) -> String { "llama." + s }
            let layers = try md.positiveInt(k("block_count"))
            let hidden = try md.positiveInt(k("embedding_length"))
            let ffn = try md.positiveInt(k("feed_forward_length"))
            let heads = try md.positiveInt(k("attention.head_count"))
            let kvHeads = try md.optionalInt(k("attention.head_count_kv")) ?? heads
            let ctx = try md.optionalInt(k("context_length")) ?? 2048
            let eps = try md.optionalDouble(k("attention.layer_norm_rms_epsilon")) ?? 1e-5
            let theta = try md.optionalDouble(k("rope.freq_base")) ?? 10000
            let headDim = try md.optionalInt(k("attention.key_length")) ?? md.optionalInt(k("rope.dimension_count")) ?? (hidden / max(heads, 1))
            if let v = try md.optionalInt(k("attention.value_length")), v != headDim {
                throw GGUFError.conversion(path: path, reason: "attention.value_length \(v) differs from key_length \(headDim); LLaMA needs them equal")
            }
            if let rot = try md.optionalInt(k("rope.dimension_count")), rot != headDim {
                throw GGUFError.conversion(path: path, reason: "rope.dimension_count \(rot) differs from the head size \(headDim) (partial rotary embeddings are not LLaMA)")
            }
            if let type = try md.optionalString(k("rope.scaling.type")), type != "none" {
                throw GGUFError.conversion(path: path, reason: "rope.scaling.type '\(type)' is not supported (lep reads LLaMA-3 scaling stored as rope_freqs)")
            }
            if md[k("expert_count")]?.int ?? 0 > 0 {
                throw GGUFError.conversion(path: path, reason: "this is a mixture-of-experts model (llama.expert_count); lep converts dense LLaMA models only")
            }
            let sliding = try md.optionalInt(k("attention.sliding_window"))
            guard let embd = file.header.tensor("token_embd.weight"), embd.dimensions.count == 2 else {
                throw GGUFError.conversion(path: path, reason: "tensor 'token_embd.weight' is missing or not 2-D")
            }
            let tokens = try md.stringArray("tokenizer.ggml.tokens")
            let vocab = try md.optionalInt(k("vocab_size")) ?? tokens?.count ?? embd.dimensions[1]

            // llama3 RoPE scaling: the factors must be reproducible by its four parameters.
            var ropeScaling: JSONValue = .null
            if file.header.tensor(LlamaTensorNames.ropeFreqs) != nil {
                let f = try file.floats(LlamaTensorNames.ropeFreqs)
                if f.contains(where: { $0 != 1 }) {
                    guard let p = Llama3RopeFactors.infer(f, theta: theta, headDim: headDim) else {
                        throw GGUFError.conversion(path: path, reason: "tensor 'rope_freqs.weight' holds RoPE factors that no LLaMA-3 rope_scaling reproduces; lep cannot express them in config.json")
                    }
                    ropeScaling = .object(
                        JSONObject([
                            ("factor", .number(JSONNumber(p.factor))), ("high_freq_factor", .number(JSONNumber(p.highFreqFactor))),
                            ("low_freq_factor", .number(JSONNumber(p.lowFreqFactor))),
                            ("original_max_position_embeddings", .number(JSONNumber(p.originalMaxPositionEmbeddings))),
                            ("rope_type", .string("llama3"))
                        ]))
                }
            }
            let tied = file.header.tensor("output.weight") == nil
            let family = sliding != nil ? "mistral" : "llama"
            // The output dtype.
            let floatTypes = Set(file.header.tensors.filter { $0.name != LlamaTensorNames.ropeFreqs && $0.dimensions.count > 1 }.map(\.type))
            let dtype: DType
            if let d = options.dtype {
                guard d == .F32 || d == .F16 || d == .BF16 else { throw GGUFError.conversion(path: path, reason: "the output dtype must be bf16, f16 or f32") }
                dtype = d
            } else if floatTypes == [.f16] {
                dtype = .F16
            } else if floatTypes == [.bf16] {
                dtype = .BF16
            } else {
                dtype = .F32
            }
            let dtypeName = dtype.torchName ?? "float32"

            var c = JSONObject()
            c["architectures"] = .array([.string(family == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM")])
            c["attention_bias"] = .bool(false)
            c["attention_dropout"] = .number(JSONNumber(0.0))
            if let b = try md.optionalInt("tokenizer.ggml.bos_token_id") { c["bos_token_id"] = .number(JSONNumber(b)) }
            if let e = try md.optionalInt("tokenizer.ggml.eos_token_id") { c["eos_token_id"] = .number(JSONNumber(e)) }
            c["head_dim"] = .number(JSONNumber(headDim))
            c["hidden_act"] = .string("silu")
            c["hidden_size"] = .number(JSONNumber(hidden))
            c["initializer_range"] = .number(JSONNumber(0.02))
            c["intermediate_size"] = .number(JSONNumber(ffn))
            c["max_position_embeddings"] = .number(JSONNumber(ctx))
            if family == "llama" { c["mlp_bias"] = .bool(false) }
            c["model_type"] = .string(family)
            c["num_attention_heads"] = .number(JSONNumber(heads))
            c["num_hidden_layers"] = .number(JSONNumber(layers))
            c["num_key_value_heads"] = .number(JSONNumber(kvHeads))
            c["rms_norm_eps"] = .number(JSONNumber(eps))
            c["rope_scaling"] = ropeScaling
            c["rope_theta"] = .number(JSONNumber(theta))
            if let sliding { c["sliding_window"] = .number(JSONNumber(sliding)) }
            c["tie_word_embeddings"] = .bool(tied)
            c["torch_dtype"] = .string(dtypeName)
            c["use_cache"] = .bool(true)
            c["vocab_size"] = .number(JSONNumber(vocab))
            let config: ModelConfig
            do { config = try ModelConfig(object: c, path: path + " (config built from the metadata)") } catch {
                throw GGUFError.conversion(path: path, reason: error.description)
            }
            // Every tensor accounted for, with the shape the config implies.
            var planned: [Tensor] = []
            let expected = Dictionary(uniqueKeysWithValues: TensorLayout.expected(for: config).map { ($0.name, $0.shape) })
            for t in file.header.tensors where t.name != LlamaTensorNames.ropeFreqs {
                guard let hf = LlamaTensorNames.hf(t.name), let shape = expected[hf] else {
                    throw GGUFError.conversion(path: path, reason: "tensor '\(t.name)' is not part of a LLaMA model with \(layers) layers")
                }
                guard t.shape == shape else {
                    throw GGUFError.conversion(path: path, reason: "tensor '\(t.name)' has shape \(t.shape) but the metadata implies \(shape) for \(hf)")
                }
                guard GGMLType.dequantizable.contains(t.type) else {
                    throw GGUFError.unsupportedTensorType(path: path, tensor: t.name, type: t.type.name)
                }
                let perm: Int? = hf.hasSuffix("q_proj.weight") ? heads : hf.hasSuffix("k_proj.weight") ? kvHeads : nil
                planned.append(Tensor(info: t, hf: hf, unpermuteHeads: perm))
            }
            let have = Set(planned.map(\.hf))
            if let missing = expected.keys.sorted().first(where: { !have.contains($0) }) {
                throw GGUFError.conversion(path: path, reason: "tensor '\(LlamaTensorNames.gguf(missing) ?? missing)' (\(missing)) is missing")
            }
            self.config = config
            configJSON = c
            tensors = planned
            self.dtype = dtype
        }

        /// generation_config.json: bos, and eos plus the end-of-turn token when it differs.
        func generationConfig(_ tok: GGUFTokenizerImport) -> JSONObject {
            var g = JSONObject()
            if let b = tok.special.bos { g["bos_token_id"] = .number(JSONNumber(b)) }
            var eos: [Int] = []
            for e in [tok.special.eos, tok.special.eot].compactMap({ $0 }) where !eos.contains(e) { eos.append(e) }
            if eos.count == 1 { g["eos_token_id"] = .number(JSONNumber(eos[0])) } else if !eos.isEmpty { g["eos_token_id"] = .array(eos.map { .number(JSONNumber($0)) }) }
            return g
        }
    }
}
