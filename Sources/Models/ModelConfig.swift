import LEPJSON
import Support

/// The RoPE scaling of a configuration.
public enum RopeScaling: Equatable, Sendable {
    /// No scaling (`rope_scaling` absent or null, or `rope_type: default`).
    case none
    /// LLaMA-3.1's frequency-dependent scaling.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int)
    /// Another scaling type, kept so the forward pass can refuse it by name.
    case unsupported(type: String)
}

/// A typed `config.json` for `LlamaForCausalLM` and `MistralForCausalLM`.
public struct ModelConfig: Equatable, Sendable {
    /// Supported families.
    public enum Family: String, Sendable { case llama, mistral }

    /// `model_type`.
    public var family: Family
    /// `architectures` (each `LlamaForCausalLM` or `MistralForCausalLM`; may be empty).
    public var architectures: [String]
    /// `vocab_size`: rows of the embedding and of lm_head.
    public var vocabSize: Int
    /// `hidden_size`: the model width h.
    public var hiddenSize: Int
    /// `intermediate_size`: the MLP's inner width.
    public var intermediateSize: Int
    /// `num_hidden_layers`: decoder layers.
    public var numHiddenLayers: Int
    /// `num_attention_heads`: query heads.
    public var numAttentionHeads: Int
    /// `num_key_value_heads` (default `num_attention_heads`); divides the query heads (grouped-query attention).
    public var numKeyValueHeads: Int
    /// Per-head dimension (`head_dim`, default hidden_size / num_attention_heads).
    public var headDim: Int
    /// `rms_norm_eps` (default 1e-6).
    public var rmsNormEps: Double
    /// `rope_theta`, or `rope_parameters.rope_theta` (transformers 5); default 10000.
    public var ropeTheta: Double
    /// `rope_scaling` (or `rope_parameters`).
    public var ropeScaling: RopeScaling
    /// `max_position_embeddings` (default 2048).
    public var maxPositionEmbeddings: Int
    /// Mistral's attention window; nil for full attention.
    public var slidingWindow: Int?
    /// `tie_word_embeddings` (default false): lm_head reuses the embedding matrix.
    public var tieWordEmbeddings: Bool
    /// `bos_token_id`, below `vocab_size`.
    public var bosTokenId: Int?
    /// One or several end-of-sequence ids (kept as a list either way).
    public var eosTokenIds: [Int]
    /// `torch_dtype` (or transformers 5's `dtype`), e.g. "bfloat16".
    public var torchDtype: String?
    /// The whole document, so unknown keys survive a rewrite.
    public var raw: JSONObject

    /// Parses `config.json` text; `path` names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(ModelError) -> ModelConfig {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: path, detail: error.description) }
        guard case .object(let o) = root else { throw .invalidJSON(path: path, detail: "top level is not an object") }
        return try ModelConfig(object: o, path: path)
    }

    /// Reads `DIR/config.json`.
    public static func load(directory: String) throws(ModelError) -> ModelConfig {
        let path = directory + "/config.json"
        guard let bytes = WholeFile.bytes(path) else { throw .missingConfig(path: directory) }
        return try parse(bytes, path: path)
    }

    /// Builds a configuration from a parsed object, validating every key lep uses.
    public init(object o: JSONObject, path: String) throws(ModelError) {
        let r = ConfigReader(object: o, path: path)
        let modelType = try r.string("model_type")
        let archs = try r.optionalStringList("architectures") ?? []
        guard let family = Family(rawValue: modelType) else {
            throw .unsupportedArchitecture(path: path, modelType: modelType, architectures: archs)
        }
        let known = ["LlamaForCausalLM", "MistralForCausalLM"]
        if let bad = archs.first(where: { !known.contains($0) }) {
            throw .unsupportedArchitecture(path: path, modelType: modelType, architectures: [bad])
        }
        self.family = family
        architectures = archs
        vocabSize = try r.positiveInt("vocab_size")
        hiddenSize = try r.positiveInt("hidden_size")
        intermediateSize = try r.positiveInt("intermediate_size")
        numHiddenLayers = try r.positiveInt("num_hidden_layers")
        numAttentionHeads = try r.positiveInt("num_attention_heads")
        numKeyValueHeads = try r.optionalPositiveInt("num_key_value_heads") ?? numAttentionHeads
        if let hd = try r.optionalPositiveInt("head_dim") {
            headDim = hd
        } else {
            guard hiddenSize % numAttentionHeads == 0 else {
                throw .inconsistent(path: path, reason: "hidden_size \(hiddenSize) is not divisible by num_attention_heads \(numAttentionHeads) and no head_dim is given")
            }
            headDim = hiddenSize / numAttentionHeads
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw .inconsistent(path: path, reason: "num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        guard headDim % 2 == 0 else { throw .inconsistent(path: path, reason: "head_dim \(headDim) must be even for RoPE") }
        rmsNormEps = try r.optionalPositiveDouble("rms_norm_eps") ?? 1e-6
        // transformers ≥ 5 writes `rope_parameters` {rope_type, rope_theta, ...} instead of the
        // Hub's `rope_theta` + `rope_scaling`; both spellings are read.
        if let theta = try r.optionalPositiveDouble("rope_theta") {
            ropeTheta = theta
        } else {
            ropeTheta = try r.ropeParameters()?.optionalPositiveDouble("rope_theta") ?? 10000
        }
        maxPositionEmbeddings = try r.optionalPositiveInt("max_position_embeddings") ?? 2048
        slidingWindow = try r.optionalPositiveInt("sliding_window")
        if family == .llama, slidingWindow != nil {
            throw .inconsistent(path: path, reason: "sliding_window is set but model_type is llama (Mistral uses sliding windows)")
        }
        tieWordEmbeddings = try r.optionalBool("tie_word_embeddings") ?? false
        bosTokenId = try r.optionalTokenId("bos_token_id")
        eosTokenIds = try r.tokenIdList("eos_token_id")
        for id in [bosTokenId].compactMap({ $0 }) + eosTokenIds where id >= vocabSize {
            throw .inconsistent(path: path, reason: "special token id \(id) is outside vocab_size \(vocabSize)")
        }
        let legacyDtype = try r.optionalString("torch_dtype")
        let newDtype = try r.optionalString("dtype")
        torchDtype = legacyDtype ?? newDtype
        ropeScaling = try r.ropeScaling()
        raw = o
    }

    /// Number of parameters implied by the configuration.
    public var parameterCount: Int {
        TensorLayout.expected(for: self).reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}

/// Typed access to config keys with errors that name the key.
struct ConfigReader {
    let object: JSONObject
    let path: String

    func string(_ key: String) throws(ModelError) -> String {
        guard let v = object[key] else { throw .missingKey(path: path, key: key) }
        guard case .string(let s) = v else { throw .invalidValue(path: path, key: key, reason: "expected a string, found \(v.kindName)") }
        return s
    }

    func optionalString(_ key: String) throws(ModelError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .string(let s) = v else { throw .invalidValue(path: path, key: key, reason: "expected a string, found \(v.kindName)") }
        return s
    }

    func optionalStringList(_ key: String) throws(ModelError) -> [String]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .array(let a) = v else { throw .invalidValue(path: path, key: key, reason: "expected a list of strings") }
        var out: [String] = []
        for x in a {
            guard case .string(let s) = x else { throw .invalidValue(path: path, key: key, reason: "expected a list of strings") }
            out.append(s)
        }
        return out
    }

    func int(_ v: JSONValue, _ key: String) throws(ModelError) -> Int {
        guard case .number(let n) = v else { throw .invalidValue(path: path, key: key, reason: "expected an integer, found \(v.kindName)") }
        guard n.isIntegerLiteral, let i = n.int64, let r = Int(exactly: i) else {
            throw .invalidValue(path: path, key: key, reason: "expected an integer, found \(n.text)")
        }
        return r
    }

    func positiveInt(_ key: String) throws(ModelError) -> Int {
        guard let v = object[key], !v.isNull else { throw .missingKey(path: path, key: key) }
        let i = try int(v, key)
        guard i > 0 else { throw .invalidValue(path: path, key: key, reason: "must be positive, found \(i)") }
        return i
    }

    func optionalPositiveInt(_ key: String) throws(ModelError) -> Int? {
        guard let v = object[key], !v.isNull else { return nil }
        let i = try int(v, key)
        guard i > 0 else { throw .invalidValue(path: path, key: key, reason: "must be positive, found \(i)") }
        return i
    }

    func optionalPositiveDouble(_ key: String) throws(ModelError) -> Double? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .number(let n) = v else { throw .invalidValue(path: path, key: key, reason: "expected a number, found \(v.kindName)") }
        guard n.double > 0, n.double.isFinite else { throw .invalidValue(path: path, key: key, reason: "must be positive, found \(n.text)") }
        return n.double
    }

    func optionalBool(_ key: String) throws(ModelError) -> Bool? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw .invalidValue(path: path, key: key, reason: "expected true or false, found \(v.kindName)") }
        return b
    }

    func optionalTokenId(_ key: String) throws(ModelError) -> Int? {
        guard let v = object[key], !v.isNull else { return nil }
        let i = try int(v, key)
        guard i >= 0 else { throw .invalidValue(path: path, key: key, reason: "token id must be non-negative, found \(i)") }
        return i
    }

    func tokenIdList(_ key: String) throws(ModelError) -> [Int] {
        guard let v = object[key], !v.isNull else { return [] }
        if case .array(let a) = v {
            var out: [Int] = []
            for x in a {
                let i = try int(x, key)
                guard i >= 0 else { throw .invalidValue(path: path, key: key, reason: "token id must be non-negative, found \(i)") }
                out.append(i)
            }
            return out
        }
        let i = try int(v, key)
        guard i >= 0 else { throw .invalidValue(path: path, key: key, reason: "token id must be non-negative, found \(i)") }
        return [i]
    }

    /// `rope_parameters` (transformers ≥ 5) as a reader, nil when absent.
    func ropeParameters() throws(ModelError) -> ConfigReader? {
        guard let v = object["rope_parameters"], !v.isNull else { return nil }
        guard case .object(let o) = v else { throw .invalidValue(path: path, key: "rope_parameters", reason: "expected an object or null") }
        return ConfigReader(object: o, path: path)
    }

    func ropeScaling() throws(ModelError) -> RopeScaling {
        let key = object["rope_scaling"].map { !$0.isNull } == true ? "rope_scaling" : "rope_parameters"
        guard let v = object[key], !v.isNull else { return .none }
        guard case .object(let o) = v else { throw .invalidValue(path: path, key: key, reason: "expected an object or null") }
        let typeValue = o["rope_type"] ?? o["type"]
        guard case .string(let type)? = typeValue else {
            throw .invalidValue(path: path, key: key + ".rope_type", reason: "missing or not a string")
        }
        switch type {
        case "default": return .none
        case "llama3":
            let sub = ConfigReader(object: o, path: path)
            func need(_ k: String) throws(ModelError) -> Double {
                guard let d = try sub.optionalPositiveDouble(k) else { throw .missingKey(path: path, key: "\(key).\(k)") }
                return d
            }
            let factor = try need("factor")
            let low = try need("low_freq_factor")
            let high = try need("high_freq_factor")
            guard let orig = try sub.optionalPositiveInt("original_max_position_embeddings") else {
                throw .missingKey(path: path, key: key + ".original_max_position_embeddings")
            }
            guard high > low else {
                throw .inconsistent(path: path, reason: "\(key).high_freq_factor \(high) must exceed low_freq_factor \(low)")
            }
            return .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: orig)
        default:
            return .unsupported(type: type)
        }
    }
}
