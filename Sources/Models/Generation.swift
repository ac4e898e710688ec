import LEPJSON
import Support

/// Greedy decoding with a KV cache, stopping at the end-of-sequence ids.
extension Transformer {
    /// The ids that end generation: `eos_token_id` of `generation_config.json` (an int or a list),
    /// falling back to `config.json`'s.
    public static func stopIds(directory: String, config: ModelConfig) throws(ModelError) -> Set<Int> {
        let path = directory + "/generation_config.json"
        guard let bytes = WholeFile.bytes(path) else { return Set(config.eosTokenIds) }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: path, detail: error.description) }
        guard case .object(let o) = root else { throw .invalidJSON(path: path, detail: "top level is not an object") }
        let ids = try ConfigReader(object: o, path: path).tokenIdList("eos_token_id")
        return Set(ids.isEmpty ? config.eosTokenIds : ids)
    }

    /// Greedy continuation of `prompt`: prefill once, then one token at a time from the cache, until
    /// `maxNewTokens` tokens or an id in `stopIds` (included in the result). `onToken` sees each new
    /// id as soon as it is chosen. Ties in the argmax go to the lowest id, as `torch.argmax` does.
    public func greedy(
        prompt: [Int], maxNewTokens: Int, stopIds: Set<Int>, onToken: (Int) -> Void = { _ in }
    ) throws(ModelError) -> [Int] {
        guard !prompt.isEmpty else { throw .sequenceLength(reason: "the prompt is empty") }
        guard maxNewTokens > 0 else { return [] }
        let cache = makeCache(capacity: prompt.count + maxNewTokens)
        var logits = try forward(prompt, cache: cache, logits: .last)
        var out: [Int] = []
        while true {
            let next = Transformer.argmax(logits)
            out.append(next)
            onToken(next)
            if stopIds.contains(next) || out.count == maxNewTokens { return out }
            logits = try forward([next], cache: cache, logits: .last)
        }
    }

    /// Index of the largest value (the first one on ties).
    public static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }
}
