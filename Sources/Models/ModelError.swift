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
    /// A preset or option given to `synth` is unknown or invalid.
    case invalidOption(String)
}

extension ModelError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .missingConfig(let p): "\(p): no config.json; a Hugging Face model directory needs one"
        case .invalidJSON(let p, let d): "\(p): not valid JSON: \(d)"
        case .missingKey(let p, let k): "\(p): missing key \"\(k)\""
        case .invalidValue(let p, let k, let r): "\(p): key \"\(k)\": \(r)"
        case .inconsistent(let p, let r): "\(p): inconsistent configuration: \(r)"
        case .unsupportedArchitecture(let p, let t, let a):
            "\(p): model_type \"\(t)\" (\(a.joined(separator: ", "))) is not supported; lep handles LlamaForCausalLM and MistralForCausalLM"
        case .invalidOption(let m): m
        }
    }
}
