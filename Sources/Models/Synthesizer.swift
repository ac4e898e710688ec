import LEPJSON
import SafeTensors
import Support
import TensorMath

/// Makes random checkpoints with the exact HF names, shapes and config of a model family.
///
/// Values are deterministic for a seed whatever the thread count: element k of a tensor takes the
/// counter-based SplitMix64 output for (seed, FNV-1a hash of the name, k), mapped to an approximately
/// normal value (sum of four 16-bit uniforms) with standard deviation 0.02; norm weights are ones,
/// as in HF initialisation.
public enum Synthesizer {
    /// A named starting configuration.
    public enum Preset: String, CaseIterable, Sendable {
        case tinyLlama3 = "tiny-llama3", tinyMistral = "tiny-mistral", llama3_8b = "llama3-8b", mistral7b = "mistral-7b"
    }

    /// User overrides of a preset.
    public struct Options: Sendable {
        /// Decoder layers (default 2 for the tiny presets, 32 otherwise); at least 1.
        public var layers: Int?
        /// Vocabulary size (default 1024 tiny, 128256 LLaMA-3, 32000 Mistral); at least 4.
        public var vocab: Int?
        /// Hidden size: a positive multiple of twice the head count; the MLP width is scaled with it
        /// (rounded up to a multiple of 8).
        public var hidden: Int?
        /// Seed of every value.
        public var seed: UInt64 = 0
        /// Storage dtype of every tensor: F32, F16 or BF16.
        public var dtype: DType = .BF16
        /// Maximum shard size in bytes; nil writes one file.
        public var maxShardBytes: Int? = 5_000_000_000
        /// Replace an existing output.
        public var force = false
        /// The preset unchanged: seed 0, BF16, 5 GB shards.
        public init() {}
    }

    /// The config.json object of a preset with overrides applied.
    public static func config(_ preset: Preset, _ options: Options) throws(ModelError) -> JSONObject {
        var o = JSONObject()
        func int(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
        func dbl(_ v: Double) -> JSONValue { .number(JSONNumber(v)) }
        let llama = preset == .tinyLlama3 || preset == .llama3_8b
        let tiny = preset == .tinyLlama3 || preset == .tinyMistral
        var hidden = tiny ? 64 : 4096
        var intermediate = tiny ? 192 : 14336
        let heads = tiny ? 4 : 32
        let kvHeads = tiny ? 2 : 8
        if let h = options.hidden {
            guard h > 0, h % heads == 0, (h / heads) % 2 == 0 else {
                throw .invalidOption(option: "hidden", reason: "\(h) must be a positive multiple of \(2 * heads) (\(heads) heads with an even head size)")
            }
            intermediate = max(8, (h * intermediate / hidden + 7) / 8 * 8)
            hidden = h
        }
        let vocab = options.vocab ?? (tiny ? 1024 : (llama ? 128256 : 32000))
        let layers = options.layers ?? (tiny ? 2 : 32)
        guard vocab >= 4 else { throw .invalidOption(option: "vocab", reason: "\(vocab) must be at least 4") }
        guard layers >= 1 else { throw .invalidOption(option: "layers", reason: "\(layers) must be at least 1") }
        var bos = llama ? (tiny ? 1 : 128000) : 1
        var eos: JSONValue = llama ? (tiny ? .array([int(2), int(3)]) : int(128001)) : int(2)
        if !tiny, llama, vocab <= 128001 { bos = 1; eos = int(2) }  // a shrunk vocabulary keeps valid ids
        o["architectures"] = .array([.string(llama ? "LlamaForCausalLM" : "MistralForCausalLM")])
        o["attention_bias"] = .bool(false)
        o["attention_dropout"] = dbl(0.0)
        o["bos_token_id"] = int(bos)
        o["eos_token_id"] = eos
        o["head_dim"] = int(hidden / heads)
        o["hidden_act"] = .string("silu")
        o["hidden_size"] = int(hidden)
        o["initializer_range"] = dbl(0.02)
        o["intermediate_size"] = int(intermediate)
        // LLaMA-3.1-style scaling needs max_position_embeddings above original_max_position_embeddings.
        o["max_position_embeddings"] = int(preset == .tinyLlama3 ? 131072 : llama ? 8192 : 32768)
        o["mlp_bias"] = .bool(false)
        o["model_type"] = .string(llama ? "llama" : "mistral")
        o["num_attention_heads"] = int(heads)
        o["num_hidden_layers"] = int(layers)
        o["num_key_value_heads"] = int(kvHeads)
        o["rms_norm_eps"] = dbl(1e-05)
        o["rope_theta"] = dbl(llama ? 500000.0 : 10000.0)
        if preset == .tinyLlama3 {
            o["rope_scaling"] = .object(
                JSONObject([
                    ("factor", dbl(8.0)), ("high_freq_factor", dbl(4.0)), ("low_freq_factor", dbl(1.0)),
                    ("original_max_position_embeddings", int(8192)), ("rope_type", .string("llama3"))
                ]))
        } else if llama {
            o["rope_scaling"] = .null
        }
        if !llama { o["sliding_window"] = int(tiny ? 16 : 4096) }
        o["tie_word_embeddings"] = .bool(false)
        o["torch_dtype"] = .string(options.dtype.torchName ?? "float32")
        o["use_cache"] = .bool(true)
        o["vocab_size"] = int(vocab)
        return o
    }

    /// generation_config.json for a config.
    public static func generationConfig(_ config: JSONObject) -> JSONObject {
        JSONObject([
            ("bos_token_id", config["bos_token_id"] ?? .null),
            ("eos_token_id", config["eos_token_id"] ?? .null),
            ("_from_model_config", .bool(true))
        ])
    }

    /// FNV-1a 64 of a string's UTF-8 bytes: a stable per-tensor seed (never `hashValue`).
    public static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// SplitMix64's output function.
    @inline(__always) static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Element `k` of a tensor seeded with `seed`: approximately N(0, 0.02²).
    @inline(__always) static func value(_ seed: UInt64, _ k: Int) -> Float {
        let r = mix(seed &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15)
        let s = Int(r & 0xFFFF) + Int((r >> 16) & 0xFFFF) + Int((r >> 32) & 0xFFFF) + Int(r >> 48)
        // Sum of four U[0,1): mean 2, variance 1/3 → scale to σ = 0.02.
        return (Float(s) * (1.0 / 65536.0) - 2.0) * (0.02 * 1.7320508)
    }

    /// Writes a random checkpoint of `preset` to `output`. `progress(done, total)` reports bytes.
    public static func synthesize(_ preset: Preset, options: Options, output path: String, progress: ((Int, Int) -> Void)? = nil) throws -> ModelConfig {
        let configObject = try config(preset, options)
        let config = try ModelConfig(object: configObject, path: "<\(preset.rawValue)>")
        let output = try AtomicOutputDirectory(target: path, force: options.force, inputs: [])
        let layout = TensorLayout.expected(for: config)
        let specs = layout.map { TensorSpec(name: $0.name, dtype: options.dtype, shape: $0.shape) }
        let writer = try CheckpointWriter(output: output, tensors: specs, maxShardBytes: options.maxShardBytes)
        let total = writer.totalDataBytes
        var done = 0
        guard let storage = options.dtype.floatStorage else {
            throw ModelError.invalidOption(option: "dtype", reason: "synth writes F32, F16 or BF16, not \(options.dtype.rawValue)")
        }
        try writer.writeTensors { spec, stream in
            let seed = mix(options.seed ^ stableHash(spec.name))
            let isNorm = TensorLayout.isNorm(spec.name)
            var k = 0
            while stream.written < stream.expected {
                try stream.fill(max: 1 << 22) { p, cap in
                    let n = cap / storage.byteSize
                    let start = k
                    Parallel.forChunks(count: n, minChunk: 1 << 14) { range in
                        for j in range {
                            let v: Float = isNorm ? 1 : value(seed, start + j)
                            switch storage {
                            case .bf16: p.storeBytes(of: HalfPrecision.floatToBF16(v), toByteOffset: j * 2, as: UInt16.self)
                            case .f16: p.storeBytes(of: HalfPrecision.floatToF16(v), toByteOffset: j * 2, as: UInt16.self)
                            case .f32: p.storeBytes(of: v, toByteOffset: j * 4, as: Float.self)
                            case .f64: p.storeBytes(of: Double(v), toByteOffset: j * 8, as: Double.self)
                            }
                        }
                    }
                    k += n
                    return n * storage.byteSize
                }
            }
            done += stream.expected
            progress?(done, total)
        }
        try output.writeFile("config.json", contents: Array(JSONWriter.pretty(.object(configObject)).utf8))
        try output.writeFile("generation_config.json", contents: Array(JSONWriter.pretty(.object(generationConfig(configObject))).utf8))
        try output.commit()
        return config
    }
}
