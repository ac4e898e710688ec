/// Errors about model directories and their configuration.
public enum ModelError: Error, Equatable, Sendable {
    /// config.json is missing.
    case missingConfig(path: String)
    /// A file is not valid JSON or not an object.
    case invalidJSON(path: String, detail: String)
    /// A required key is missing.
    case missingKey(path: String, key: String)
    /// A key has the wrong type or an impossible value.
    case invalidValue(path: String, key: String, reason: String)
    /// Two keys contradict each other.
    case inconsistent(path: String, reason: String)
    /// The architecture is not LLaMA or Mistral.
    case unsupportedArchitecture(path: String, modelType: String, architectures: [String])
    /// An option given to `synth` is invalid. `option` is its neutral name (`hidden`); the command
    /// line words it as the flag (`--hidden`).
    case invalidOption(option: String, reason: String)
    /// The checkpoint could not be opened or read (the underlying safetensors error).
    case checkpoint(path: String, detail: String)
    /// A tensor the configuration requires is absent from the checkpoint.
    case missingTensor(path: String, tensor: String)
    /// A tensor's shape disagrees with the configuration.
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// A tensor is stored in a dtype the forward pass cannot read.
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// The checkpoint has tensors the architecture does not use (e.g. attention biases).
    case unexpectedTensor(path: String, tensor: String)
    /// `rope_scaling` names a type the forward pass does not implement.
    case unsupportedRopeScaling(path: String, type: String)
    /// A token id is outside the vocabulary.
    case tokenOutOfRange(id: Int, vocabSize: Int)
    /// A sequence is empty or longer than the KV cache / context allows.
    case sequenceLength(reason: String)
    /// Two models cannot be compared (different vocabularies, sequence lengths).
    case incomparable(reason: String)
}

extension ModelError: CustomStringConvertible {
    /// The message shown to the user: the file or key, the problem and, where there is one, the fix.
    public var description: String {
        switch self {
        case .missingConfig(let p): "\(p): no config.json; a Hugging Face model directory needs one"
        case .invalidJSON(let p, let d): "\(p): not valid JSON: \(d)"
        case .missingKey(let p, let k): "\(p): missing key \"\(k)\""
        case .invalidValue(let p, let k, let r): "\(p): key \"\(k)\": \(r)"
        case .inconsistent(let p, let r): "\(p): inconsistent configuration: \(r)"
        case .unsupportedArchitecture(let p, let t, let a):
            "\(p): model_type \"\(t)\" (\(a.joined(separator: ", "))) is not supported; lep handles LlamaForCausalLM and MistralForCausalLM"
        case .invalidOption(let o, let r): "option '\(o)': \(r)"
        case .checkpoint(let p, let d): "\(p): cannot read the checkpoint: \(d)"
        case .missingTensor(let p, let t): "\(p): tensor \(t) is missing; config.json says the model has it (check num_hidden_layers and tie_word_embeddings)"
        case .shapeMismatch(let p, let t, let e, let f):
            "\(p): tensor \(t) has shape \(f) but config.json implies \(e); the config does not describe these weights"
        case .unsupportedDType(let p, let t, let d): "\(p): tensor \(t) is \(d); the forward pass reads BF16, F16, F32 and F64 weights"
        case .unexpectedTensor(let p, let t): "\(p): tensor \(t) is not part of a LLaMA/Mistral checkpoint (biases and extra modules are not supported)"
        case .unsupportedRopeScaling(let p, let t):
            "\(p): rope_scaling type \"\(t)\" is not supported; lep implements the default RoPE and \"llama3\" (LLaMA-3.1) scaling"
        case .tokenOutOfRange(let id, let v): "token id \(id) is outside the vocabulary (vocab_size \(v))"
        case .sequenceLength(let r): "sequence length: \(r)"
        case .incomparable(let r): "cannot compare the models: \(r)"
        }
    }
}
