import LEPJSON
import Models

/// Token strings of a model's `tokenizer.json` (model.vocab + added_tokens), by id.
enum Vocabulary {
    static func tokens(of source: ModelSource) throws(SurgeryError) -> [Int: String] {
        let path = source.checkpoint.directory + "/tokenizer.json"
        guard let bytes = FileBytes.read(path) else {
            throw .tokenizerUnreadable(model: source.label, reason: "no tokenizer.json (tokenizer_source needs token strings to match rows)")
        }
        guard let root = try? JSONParser.parse(bytes, duplicateKeys: .lastWins) else {
            throw .tokenizerUnreadable(model: source.label, reason: "tokenizer.json is not valid JSON")
        }
        var out: [Int: String] = [:]
        if let o = root["model"]?["vocab"]?.object {
            for (k, v) in o.members { if let id = v.number?.int64 { out[Int(id)] = k } }
        } else if let a = root["model"]?["vocab"]?.array {
            for (i, e) in a.enumerated() { if let s = e.array?.first?.string { out[i] = s } }
        } else {
            throw .tokenizerUnreadable(model: source.label, reason: "tokenizer.json has no model.vocab")
        }
        for t in root["added_tokens"]?.array ?? [] {
            if let id = t["id"]?.number?.int64, let s = t["content"]?.string { out[Int(id)] = s }
        }
        return out
    }

    /// `tokenizer_source: base`: the output keeps `reference`'s rows; every other source's rows are
    /// matched by token string. Returns per source index: output row → source row (nil = the token is
    /// missing there), the output row count, and a note for the plan.
    static func reconcile(sources: [ModelSource], reference: ModelSource) throws(SurgeryError) -> ([Int: [Int?]], Int, String?) {
        let refRows = try lifting { try reference.checkpoint.info("model.embed_tokens.weight").shape[0] }
        let refTokens = try tokens(of: reference)
        var maps: [Int: [Int?]] = [:]
        var missing: [String] = []
        for (i, s) in sources.enumerated() where s !== reference {
            let rows = try lifting { try s.checkpoint.info("model.embed_tokens.weight").shape[0] }
            let toks = try tokens(of: s)
            var byString: [String: Int] = [:]
            for (id, t) in toks where id < rows { byString[t] = id }
            var map = [Int?](repeating: nil, count: refRows)
            var absent = 0
            for r in 0..<refRows {
                if let t = refTokens[r] { map[r] = byString[t] } else { map[r] = r < rows ? r : nil }
                if map[r] == nil { absent += 1 }
            }
            if absent > 0 { missing.append("\(s.label) lacks \(absent)") }
            maps[i] = map
        }
        let note = "vocabulary of \(reference.label) kept (\(refRows) rows), rows matched by token string" +
            (missing.isEmpty ? "" : "; " + missing.joined(separator: ", ") + " of its tokens (those rows take the base's row)")
        return (maps, refRows, note)
    }
}
