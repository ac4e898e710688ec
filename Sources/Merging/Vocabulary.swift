import LEPJSON
import Models
import Recipes
import Support
import Surgery
import Tokenizers

/// Token strings of a model's `tokenizer.json` (model.vocab + added_tokens), by id.
enum Vocabulary {
    static func tokens(of source: ModelSource) throws(SurgeryError) -> [Int: String] {
        let path = source.checkpoint.directory + "/tokenizer.json"
        guard let bytes = WholeFile.bytes(path) else {
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
        let refRows = try lifting { try reference.checkpoint.info(TensorLayout.embedTokens).shape[0] }
        let refTokens = try tokens(of: reference)
        var maps: [Int: [Int?]] = [:]
        var missing: [String] = []
        for (i, s) in sources.enumerated() where s !== reference {
            let rows = try lifting { try s.checkpoint.info(TensorLayout.embedTokens).shape[0] }
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
        let note =
            "vocabulary of \(reference.label) kept (\(refRows) rows), rows matched by token string"
            + (missing.isEmpty ? "" : "; " + missing.joined(separator: ", ") + " of its tokens (those rows take the base's row)")
        return (maps, refRows, note)
    }
}

/// `tokenizer_source: union`: the output tokenizer and how its rows are filled (mergekit 0.1.5).
public struct UnionVocabulary: @unchecked Sendable {
    /// The union tokenizer: the reference (base, else first model) with every other model's tokens added.
    public let tokenizer: HFTokenizer
    /// Source whose row fills a token some inputs lack, when it has the token (the recipe's
    /// `base_model`, if it is merged); otherwise the rows of the inputs that have it are averaged.
    public let preferred: Int?
    /// Output vocabulary rows.
    public let rows: Int
    /// Tokens the reference lacked, in output id order.
    public let added: [String]
}

extension Vocabulary {
    /// Token strings of a source's tokenizer.json: ordinary vocabulary (by id) and added tokens.
    static func entries(of source: ModelSource) throws(SurgeryError) -> (regular: [(id: Int, token: String)], added: [(id: Int, token: String, special: Bool)]) {
        let all = try tokens(of: source)
        let path = source.checkpoint.directory + "/tokenizer.json"
        var added: [(id: Int, token: String, special: Bool)] = []
        if let bytes = WholeFile.bytes(path), let root = try? JSONParser.parse(bytes, duplicateKeys: .lastWins) {
            for t in root["added_tokens"]?.array ?? [] {
                if let id = t["id"]?.number?.int64, let s = t["content"]?.string { added.append((Int(id), s, t["special"]?.bool ?? false)) }
            }
        }
        let addedIds = Set(added.map(\.id))
        let regular = all.filter { !addedIds.contains($0.key) }.map { (id: $0.key, token: $0.value) }.sorted { $0.id < $1.id }
        return (regular, added.sorted { $0.id < $1.id })
    }

    /// `tokenizer_source: union` as mergekit builds it: the reference tokenizer keeps its ids; tokens
    /// of the other sources that it lacks are appended — ordinary vocabulary first, then added tokens
    /// (first definition wins), sources in recipe order, each by id. mergekit appends them in hash-set
    /// order (its model set and vocabulary dicts), so only the token → row correspondence is defined
    /// there; lep's order is deterministic. Tokens with ids at or past a model's embedding rows are
    /// ignored. Returns per source: output row → source row (nil = the source lacks the token).
    static func union(sources: [ModelSource], reference: ModelSource, preferred: Int?) throws(SurgeryError) -> ([Int: [Int?]], UnionVocabulary, String) {
        let dir = reference.checkpoint.directory
        var tokenizer: HFTokenizer
        do { tokenizer = try HFTokenizer(path: dir + "/tokenizer.json", configDirectory: dir) } catch {
            throw .tokenizerUnreadable(model: reference.label, reason: "tokenizer_source union needs a loadable tokenizer.json: \(error.description)")
        }
        let order = [reference] + sources.filter { $0 !== reference }
        var rowsOf: [ObjectIdentifier: Int] = [:]
        var entriesOf: [ObjectIdentifier: (regular: [(id: Int, token: String)], added: [(id: Int, token: String, special: Bool)])] = [:]
        for s in order {
            rowsOf[ObjectIdentifier(s)] = try lifting { try s.checkpoint.info(TensorLayout.embedTokens).shape[0] }
            entriesOf[ObjectIdentifier(s)] = try entries(of: s)
        }
        var addedList: [(token: String, special: Bool)] = []
        var addedSeen: Set<String> = []
        for s in order {
            let rows = rowsOf[ObjectIdentifier(s)]!
            for a in entriesOf[ObjectIdentifier(s)]!.added where a.id < rows && !addedSeen.contains(a.token) {
                addedSeen.insert(a.token)
                addedList.append((a.token, a.special))
            }
        }
        var regularNew: [String] = []
        var regularSeen: Set<String> = []
        for s in order {
            let rows = rowsOf[ObjectIdentifier(s)]!
            for e in entriesOf[ObjectIdentifier(s)]!.regular where e.id < rows && !addedSeen.contains(e.token) && tokenizer.id(for: e.token) == nil && !regularSeen.contains(e.token) {
                regularSeen.insert(e.token)
                regularNew.append(e.token)
            }
        }
        let before = tokenizer.vocabularySize
        do {
            try tokenizer.addTokens(regularNew.map { (content: $0, special: false) } + addedList.map { (content: $0.token, special: $0.special) })
        } catch {
            throw .vocabulary(stage: "tokenizer_source union", reason: "cannot add tokens to \(reference.label)'s tokenizer: \(error.description)")
        }
        let rows = tokenizer.vocabularySize
        var maps: [Int: [Int?]] = [:]
        var lacking: [String] = []
        for (i, s) in sources.enumerated() {
            let srcRows = rowsOf[ObjectIdentifier(s)]!
            let e = entriesOf[ObjectIdentifier(s)]!
            var byString: [String: Int] = [:]
            for x in e.regular where x.id < srcRows { byString[x.token] = x.id }
            for x in e.added where x.id < srcRows { byString[x.token] = x.id }
            var map = [Int?](repeating: nil, count: rows)
            var absent = 0
            for r in 0..<rows {
                map[r] = tokenizer.token(for: r).flatMap { byString[$0] }
                if map[r] == nil { absent += 1 }
            }
            if absent > 0 { lacking.append("\(s.label) lacks \(absent)") }
            maps[i] = map
        }
        let added = (before..<rows).compactMap { tokenizer.token(for: $0) }
        let fill = preferred.map { "the row of \(sources[$0].label) when it has the token, else the mean of the inputs that have it" } ?? "the mean of the inputs that have it"
        let note =
            "union vocabulary: \(rows) rows (\(reference.label)'s \(before) + \(added.count) new: \(added.prefix(8).joined(separator: " "))\(added.count > 8 ? " …" : ""))"
            + (lacking.isEmpty ? "" : "; " + lacking.joined(separator: ", ") + " of them (filled with \(fill))")
        return (maps, UnionVocabulary(tokenizer: tokenizer, preferred: preferred, rows: rows, added: added), note)
    }
}
