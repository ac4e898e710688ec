import LEPJSON

/// The token-id settings of `config.json` and `generation_config.json` (`bos_token_id`,
/// `eos_token_id` as an id or a list, `pad_token_id`, `decoder_start_token_id`, ...: every key ending
/// in `token_id`), rewritten when the vocabulary changes. The one walk over them: `vocab init` and
/// `propagate` differ only in what they do with an id (`map`).
public enum SpecialTokenIds {
    /// True for a key that holds token ids.
    public static func isTokenIdKey(_ key: String) -> Bool { key.hasSuffix("token_id") }

    /// Rewrites every integer id under a token-id key of `object` through `map(id, key, place)`, where
    /// `place` names it for messages (`config.json eos_token_id[1]`). A list stays a list. `map`
    /// returning nil removes the id: from a list, or a single id becomes `null`. Values that are not
    /// integers are left as they are.
    public static func remap<E: Error>(
        _ object: inout JSONObject, file: String,
        _ map: (_ id: Int, _ key: String, _ place: String) throws(E) -> Int?
    ) throws(E) {
        for key in object.keys where isTokenIdKey(key) {
            switch object[key] {
            case .number(let n)?:
                guard let v = n.int64 else { continue }
                object[key] = try map(Int(v), key, "\(file) \(key)").map { .number(JSONNumber($0)) } ?? .null
            case .array(let a)?:
                var out: [JSONValue] = []
                for (i, e) in a.enumerated() {
                    guard let v = e.number?.int64 else { out.append(e); continue }
                    if let m = try map(Int(v), key, "\(file) \(key)[\(i)]") { out.append(.number(JSONNumber(m))) }
                }
                object[key] = .array(out)
            default: continue
            }
        }
    }
}
