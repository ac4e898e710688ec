import LEPJSON
import Support

/// `tokenizer_config.json` + `special_tokens_map.json`, kept as JSON so lep writes them back
/// unchanged except for what it edits. `chat_template` is kept as text (rendering is the evaluator's).
public struct TokenizerConfig: Sendable, Equatable {
    /// tokenizer_config.json as read (an empty object when absent).
    public var config: JSONObject
    /// special_tokens_map.json as read (an empty object when absent).
    public var specialTokensMap: JSONObject

    /// A configuration from the two files' objects (empty: no config, as for a bare tokenizer file).
    public init(config: JSONObject = JSONObject(), specialTokensMap: JSONObject = JSONObject()) {
        self.config = config
        self.specialTokensMap = specialTokensMap
    }

    /// Reads the two files from `directory` (each optional).
    public static func load(directory: String) throws(TokenizerError) -> TokenizerConfig {
        var c = TokenizerConfig()
        let cp = directory + "/tokenizer_config.json", sp = directory + "/special_tokens_map.json"
        if PathUtilities.exists(cp) {
            guard let o = try FileIO.readJSON(cp).object else { throw .invalidField(path: cp, key: "(root)", expected: "an object") }
            c.config = o
        }
        if PathUtilities.exists(sp) {
            guard let o = try FileIO.readJSON(sp).object else { throw .invalidField(path: sp, key: "(root)", expected: "an object") }
            c.specialTokensMap = o
        }
        return c
    }

    /// The token string of a role (`bos_token`, `eos_token`, `unk_token`, `pad_token`): from
    /// tokenizer_config.json, else special_tokens_map.json; a string or `{"content": ...}`.
    public func token(_ role: String) -> String? {
        for src in [config, specialTokensMap] {
            if let v = src[role] {
                if let s = v.string { return s }
                if let s = v["content"]?.string { return s }
                if v.isNull { return nil }
            }
        }
        return nil
    }

    /// `add_bos_token`, when set.
    public var addBosToken: Bool? { config["add_bos_token"]?.bool }
    /// `add_eos_token`, when set.
    public var addEosToken: Bool? { config["add_eos_token"]?.bool }
    /// The chat template text, when present (a string; named templates are not rendered here).
    public var chatTemplate: String? { config["chat_template"]?.string }
    /// `tokenizer_class`.
    public var tokenizerClass: String? { config["tokenizer_class"]?.string }

    /// `added_tokens_decoder` entries (id → token), sorted by id.
    public func addedTokensDecoder(path: String) throws(TokenizerError) -> [AddedToken] {
        guard let o = config["added_tokens_decoder"]?.object else { return [] }
        var out: [AddedToken] = []
        for (k, v) in o.members {
            guard let id = Int(k), let content = v["content"]?.string else {
                throw .invalidField(path: path, key: "added_tokens_decoder.\(k)", expected: "an id key with a content string")
            }
            out.append(
                AddedToken(
                    id: id, content: content, special: v["special"]?.bool ?? false, normalized: v["normalized"]?.bool,
                    lstrip: v["lstrip"]?.bool ?? false, rstrip: v["rstrip"]?.bool ?? false, singleWord: v["single_word"]?.bool ?? false))
        }
        return out.sorted { $0.id < $1.id }
    }
}

extension AddedToken {
    /// HF tokenizer.json / added_tokens_decoder form.
    func json(withId: Bool) -> JSONValue {
        var p: [(String, JSONValue)] = []
        if withId { p.append(("id", .number(JSONNumber(id)))) }
        p += [
            ("content", .string(content)), ("single_word", .bool(singleWord)), ("lstrip", .bool(lstrip)),
            ("rstrip", .bool(rstrip)), ("normalized", .bool(normalized)), ("special", .bool(special))
        ]
        return .object(JSONObject(p))
    }
}
