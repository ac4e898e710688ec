import LEPJSON
import Models
import SafeTensors
import Support
import Surgery
import Tokenizers

/// `lep vocab build` (Documentation/Propagation.md §3): the paper's new tokenizers, from an old tokenizer and a new
/// SentencePiece model or HF tokenizer, written as an HF folder (`tokenizer.json`,
/// `tokenizer_config.json`, `special_tokens_map.json`, and `tokenizer.model` where SentencePiece).
///
/// - `replace`: the new tokenizer; the old tokenizer's special added tokens the new one lacks (LLaMA-3's
///   256) are appended after the new vocabulary.
/// - `extend`: the new normal pieces the old vocabulary lacks, appended after the old model vocabulary
///   in the new tokenizer's order, the new merges ranked before the old ones. Byte-level old
///   (LLaMA-3): pieces converted to the byte-level alphabet (`▁` → space → UTF-8 → GPT-2 characters),
///   the old special tokens moved after the new tokens. SentencePiece old (Mistral): pieces appended to
///   the `.model` with scores above every old score (SentencePiece BPE merges by score, so the new merges
///   come first), `tokenizer.json` converted from it.
/// - `optimize` (byte-level BPE old): the old vocabulary shrunk to the `keep` tokens most used on a
///   corpus (with the tokens their merges need, so every kept token stays reachable; a merge is kept
///   only if both parts and the result survive), then extended with the first `add` new pieces.
public enum VocabularyBuilder {
    /// The paper's vocabulary scenarios: replace the old vocabulary, extend it, or optimise a kept subset plus new pieces.
    public enum Mode: String, Sendable, CaseIterable { case replace, extend, optimize }

    /// What to build.
    public struct Options: Sendable {
        /// The scenario.
        public var mode: Mode
        /// optimize: corpus file (UTF-8 text).
        public var corpus: String?
        /// optimize: old tokens to keep.
        public var keep: Int = 64000
        /// optimize (and extend, when set): number of new pieces to consider, in the new tokenizer's order.
        public var add: Int?
        /// Replace an existing output.
        public var force = false
        /// Defaults for `mode`.
        public init(mode: Mode) { self.mode = mode }
    }

    /// The files of a built tokenizer and what happened.
    public struct Result: Sendable {
        /// File name → bytes.
        public var files: [(String, [UInt8])]
        /// Ids in the new tokenizer (model vocabulary + added tokens).
        public var vocabularySize: Int
        /// Ids of the old vocabulary.
        public var oldSize: Int
        /// Tokens appended (extend/optimize: new pieces; replace: old specials).
        public var appended: Int
        /// optimize: old tokens kept.
        public var kept: Int?
        /// What the build did that the user should know (moved specials, skipped pieces).
        public var notes: [String]
    }

    /// An HF tokenizer being edited: tokenizer.json root plus the two config files.
    struct HFFiles {
        var root: JSONObject
        var config: JSONObject
        var specialMap: JSONObject
        var spm: SentencePieceModel?
        var source: String

        var model: JSONObject { root["model"]?.object ?? JSONObject() }
        var isBPE: Bool { model["type"]?.string == "BPE" }
        var byteLevel: Bool {
            func has(_ v: JSONValue?) -> Bool {
                guard let v else { return false }
                if v["type"]?.string == "ByteLevel" { return true }
                return (v["pretokenizers"]?.array ?? []).contains { $0["type"]?.string == "ByteLevel" }
            }
            return has(root["pre_tokenizer"])
        }
        var added: [JSONValue] { root["added_tokens"]?.array ?? [] }
        var addedIds: Set<Int> { Set(added.compactMap { $0["id"]?.number?.int64.map { Int($0) } }) }

        /// BPE model vocabulary, dense by id (holes refused).
        func bpeTokens() throws(SurgeryError) -> [String] {
            guard let v = model["vocab"]?.object else { throw .vocabulary(stage: source, reason: "tokenizer.json model.vocab is not a BPE vocabulary") }
            var out = [String?](repeating: nil, count: v.count)
            for (t, idv) in v.members {
                guard let id = idv.number?.int64, id >= 0, Int(id) < v.count else {
                    throw .vocabulary(stage: source, reason: "model.vocab ids are not 0..<\(v.count) (token \(t))")
                }
                out[Int(id)] = t
            }
            return try out.enumerated().map { i, t throws(SurgeryError) in
                guard let t else { throw .vocabulary(stage: source, reason: "model.vocab has no id \(i)") }
                return t
            }
        }

        func bpeMerges() throws(SurgeryError) -> [(String, String)] {
            var out: [(String, String)] = []
            for (k, m) in (model["merges"]?.array ?? []).enumerated() {
                if let s = m.string {
                    // Split on the byte: a space before a combining mark is one Character.
                    let u = Array(s.utf8)
                    guard let sp = u.firstIndex(of: 0x20) else { throw .vocabulary(stage: source, reason: "model.merges[\(k)] is not \"a b\"") }
                    out.append((String(decoding: u[..<sp], as: UTF8.self), String(decoding: u[(sp + 1)...], as: UTF8.self)))
                } else if let a = m.array, a.count == 2, let x = a[0].string, let y = a[1].string {
                    out.append((x, y))
                } else {
                    throw .vocabulary(stage: source, reason: "model.merges[\(k)] is not \"a b\" or [a, b]")
                }
            }
            return out
        }
        var mergesAsStrings: Bool { model["merges"]?.array?.first?.string != nil }
    }

    /// Loads a tokenizer as editable HF files: a directory (tokenizer.json, else tokenizer.model), a
    /// tokenizer.json, or a SentencePiece `.model` (converted).
    static func load(_ path: String) throws(SurgeryError) -> HFFiles {
        var dir = path, json: String? = nil, spmPath: String? = nil
        if PathUtilities.isDirectory(path) {
            if PathUtilities.exists(path + "/tokenizer.json") { json = path + "/tokenizer.json" }
            if PathUtilities.exists(path + "/tokenizer.model") { spmPath = path + "/tokenizer.model" }
        } else if path.hasSuffix(".json") {
            json = path
            dir = PathUtilities.parentDirectory(of: path)
        } else {
            spmPath = path
            dir = PathUtilities.parentDirectory(of: path)
        }
        func readObject(_ p: String) throws(SurgeryError) -> JSONObject {
            guard let b = WholeFile.bytes(p) else { throw .vocabulary(stage: p, reason: "cannot read") }
            guard let v = try? JSONParser.parse(b, duplicateKeys: .lastWins), let o = v.object else { throw .vocabulary(stage: p, reason: "not a JSON object") }
            return o
        }
        var spm: SentencePieceModel? = nil
        if let s = spmPath {
            guard let b = WholeFile.bytes(s) else { throw .vocabulary(stage: s, reason: "cannot read") }
            do { spm = try SentencePieceModel(bytes: b, path: s) } catch {
                if json == nil { throw .vocabulary(stage: s, reason: "\(error) (tiktoken ranks need their tokenizer.json)") }
            }
        }
        if let j = json {
            let root = try readObject(j)
            let cfg = PathUtilities.exists(dir + "/tokenizer_config.json") ? try readObject(dir + "/tokenizer_config.json") : JSONObject()
            let map = PathUtilities.exists(dir + "/special_tokens_map.json") ? try readObject(dir + "/special_tokens_map.json") : JSONObject()
            return HFFiles(root: root, config: cfg, specialMap: map, spm: spm, source: j)
        }
        guard let m = spm else { throw .vocabulary(stage: path, reason: "no tokenizer.json or SentencePiece tokenizer.model") }
        let (cfg, map) = SentencePieceConversion.configs(m)
        return HFFiles(root: SentencePieceConversion.tokenizerJSON(m), config: cfg, specialMap: map, spm: m, source: spmPath ?? path)
    }

    /// Builds the tokenizer of `options.mode` from `old` and `new`.
    public static func build(old oldPath: String, new newPath: String, options: Options) throws(SurgeryError) -> Result {
        let old = try load(oldPath), new = try load(newPath)
        let result: Result
        switch options.mode {
        case .replace: result = try replace(old: old, new: new)
        case .extend:
            if old.byteLevel {
                result = try extendByteLevel(old: old, new: new, keep: nil, options: options)
            } else {
                result = try extendSentencePiece(old: old, new: new, options: options)
            }
        case .optimize:
            guard old.byteLevel, old.isBPE else { throw .vocabulary(stage: "optimize", reason: "\(old.source): optimize needs a byte-level BPE old tokenizer (LLaMA-3)") }
            guard let c = options.corpus else { throw .invalidOption(option: "corpus", reason: "mode optimize needs a corpus file") }
            result = try extendByteLevel(old: old, new: new, keep: (c, options.keep), options: options)
        }
        return try keepingChatTemplates(result, from: PathUtilities.isDirectory(oldPath) ? oldPath : PathUtilities.parentDirectory(of: oldPath))
    }

    /// The old tokenizer's chat templates, in the form it stores them (chat_template.jinja and
    /// additional_chat_templates/, or tokenizer_config.json's chat_template, or chat_template.json).
    static func keepingChatTemplates(_ r: Result, from dir: String) throws(SurgeryError) -> Result {
        let set: ChatTemplateSet?
        do { set = try ChatTemplateSet.load(directory: dir) } catch { throw .vocabulary(stage: "chat template", reason: error.description) }
        guard let set else { return r }
        var r = r
        let (files, value) = set.encoded()
        if let i = r.files.firstIndex(where: { $0.0 == "tokenizer_config.json" }),
            let v = try? JSONParser.parse(r.files[i].1, duplicateKeys: .lastWins), var o = v.object
        {
            o["chat_template"] = value
            r.files[i].1 = bytes(o)
        }
        r.files += files.map { ($0.name, $0.bytes) }
        return r
    }

    /// Writes a result atomically as a directory.
    public static func write(_ r: Result, to path: String, force: Bool, inputs: [String]) throws {
        let out = try AtomicOutputDirectory(target: path, force: force, inputs: inputs)
        do {
            for (name, bytes) in r.files {
                if let slash = name.lastIndex(of: "/") { try out.makeDirectory(String(name[..<slash])) }
                try out.writeFile(name, contents: bytes)
            }
            try out.commit()
        } catch {
            out.abort()
            throw error
        }
    }

    // MARK: New pieces

    /// The new tokenizer's normal pieces in id order (no specials / control / byte pieces), as text
    /// with `▁` still in place, and its merges.
    static func newPieces(_ new: HFFiles) throws(SurgeryError) -> (pieces: [String], merges: [(String, String)]) {
        if let m = new.spm, new.root["model"]?["type"]?.string == nil || new.source.hasSuffix(".model") {
            let pieces = m.pieces.filter { $0.type == .normal || $0.type == .userDefined }.map(\.piece)
            return (pieces, m.modelType == .bpe ? SentencePieceConversion.extractMerges(m.pieces) : [])
        }
        let added = new.addedIds
        let byteFallback = new.model["byte_fallback"]?.bool ?? false
        if new.isBPE {
            let toks = try new.bpeTokens()
            let pieces = toks.enumerated().filter { !added.contains($0.offset) && !(byteFallback && TokenMapping.byteTokenValue($0.element) != nil) }.map(\.element)
            return (pieces, try new.bpeMerges())
        }
        // Unigram: pieces in vocabulary order, no merges.
        let arr = new.model["vocab"]?.array ?? []
        var pieces: [String] = []
        for (i, e) in arr.enumerated() where !added.contains(i) {
            if let s = e.array?.first?.string, !(byteFallback && TokenMapping.byteTokenValue(s) != nil) { pieces.append(s) }
        }
        return (pieces, [])
    }

    static func toByteLevel(_ piece: String) -> String { ByteLevelAlphabet.encode(Array(piece.replacingOccurrences("▁", " ").utf8)) }

    // MARK: Byte-level extend / optimize

    static func extendByteLevel(old: HFFiles, new: HFFiles, keep: (corpus: String, count: Int)?, options: Options) throws(SurgeryError) -> Result {
        guard old.isBPE else { throw .vocabulary(stage: "extend", reason: "\(old.source): a byte-level old tokenizer must be BPE") }
        var oldTokens = try old.bpeTokens()
        var oldMerges = try old.bpeMerges()
        let oldAddedIds = old.addedIds
        // The model vocabulary proper: ids below the first added id that follows it (LLaMA-3: 128000).
        let modelCount = oldTokens.count
        var notes: [String] = []
        var kept: Int? = nil
        if let k = keep {
            (oldTokens, oldMerges) = try shrink(old: old, tokens: oldTokens, merges: oldMerges, corpus: k.corpus, keep: k.count)
            kept = oldTokens.count
            notes.append("kept \(oldTokens.count) of \(modelCount) old tokens (most used on \(k.corpus), with the tokens their merges need), \(oldMerges.count) merges")
        }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(oldTokens.count * 2)
        for (i, t) in oldTokens.enumerated() where !oldAddedIds.contains(i) || keep != nil { vocab[t] = i }
        var tokens = oldTokens
        var (pieces, newMerges) = try newPieces(new)
        if let a = options.add { pieces = Array(pieces.prefix(a)) }
        let convertedMerges = newMerges.map { (toByteLevel($0.0), toByteLevel($0.1)) }
        var producer: [String: (String, String)] = [:]
        for m in convertedMerges where producer[m.0 + m.1] == nil { producer[m.0 + m.1] = m }
        var extraMerges: [(String, String)] = []
        var appended = 0
        func ensure(_ t: String) {
            if vocab[t] != nil { return }
            if let (a, b) = producer[t] {
                ensure(a); ensure(b)
            } else {
                let chars = Array(t.unicodeScalars)
                if chars.count > 1 {
                    let prefix = String(String.UnicodeScalarView(chars.dropLast())), last = String(chars[chars.count - 1])
                    ensure(prefix); ensure(last)
                    extraMerges.append((prefix, last))
                }
            }
            if vocab[t] != nil { return }
            vocab[t] = tokens.count
            tokens.append(t)
            appended += 1
        }
        for p in pieces { ensure(toByteLevel(p)) }
        // Merges: new first (those whose parts and result exist), helpers, then the old ones.
        var merges: [(String, String)] = []
        var seen = Set<String>()
        func addMerge(_ m: (String, String)) {
            guard vocab[m.0] != nil, vocab[m.1] != nil, vocab[m.0 + m.1] != nil else { return }
            if seen.insert(m.0 + " " + m.1).inserted { merges.append(m) }
        }
        for m in convertedMerges { addMerge(m) }
        for m in extraMerges { addMerge(m) }
        for m in oldMerges { addMerge(m) }
        // Old added tokens (specials) after the model vocabulary (LLaMA-3's 128000+) move after the new
        // tokens, in old id order; those inside it (ids 0-16 of some models) keep their ids.
        var idMap: [Int: Int] = [:]
        var added: [JSONValue] = []
        var movedFrom: [Int] = []
        let sortedAdded = old.added.sorted { ($0["id"]?.number?.int64 ?? 0) < ($1["id"]?.number?.int64 ?? 0) }
        for a in sortedAdded {
            guard let id = a["id"]?.number?.int64.map({ Int($0) }), var o = a.object else { continue }
            if id < modelCount && keep == nil { idMap[id] = id; added.append(a); continue }
            let nid = tokens.count + movedFrom.count
            movedFrom.append(id)
            idMap[id] = nid
            o["id"] = .number(JSONNumber(nid))
            added.append(.object(o))
        }
        var root = old.root
        var model = old.model
        var vocabObj = JSONObject()
        for (i, t) in tokens.enumerated() { vocabObj[t] = .number(JSONNumber(i)) }
        model["vocab"] = .object(vocabObj)
        model["merges"] = .array(merges.map { old.mergesAsStrings ? .string($0.0 + " " + $0.1) : .array([.string($0.0), .string($0.1)]) })
        root["model"] = .object(model)
        root["added_tokens"] = .array(added)
        let contentToId = Dictionary(added.compactMap { a in a["content"]?.string.map { ($0, Int(a["id"]?.number?.int64 ?? 0)) } }, uniquingKeysWith: { a, _ in a })
        if let pp = root["post_processor"] { root["post_processor"] = remapTemplateIds(pp, contentToId) }
        var cfg = old.config
        cfg["added_tokens_decoder"] = remapDecoder(old.config["added_tokens_decoder"], idMap)
        notes.append("\(appended) new tokens appended after \(oldTokens.count) old ones (\(convertedMerges.count) new merges offered, \(merges.count) merges in all)")
        let stayed = added.count - movedFrom.count
        if !movedFrom.isEmpty {
            notes.append("\(movedFrom.count) special tokens moved from old ids \(idRangesText(movedFrom)) to ids \(idRangesText(Array(tokens.count..<(tokens.count + movedFrom.count))))")
        }
        if stayed > 0 {
            let ids = added.compactMap { a in a["id"]?.number?.int64.map { Int($0) } }.filter { $0 < modelCount }
            notes.append("\(stayed) special tokens inside the old vocabulary keep their ids (\(idRangesText(ids)))")
        }
        let files = [("tokenizer.json", bytes(root)), ("tokenizer_config.json", bytes(cfg)), ("special_tokens_map.json", bytes(old.specialMap))]
        return Result(files: files, vocabularySize: tokens.count + movedFrom.count, oldSize: oldSizeOf(old), appended: appended, kept: kept, notes: notes)
    }

    /// optimize: the old tokens most used on `corpus`, closed under the merges that make them.
    static func shrink(old: HFFiles, tokens: [String], merges: [(String, String)], corpus: String, keep: Int) throws(SurgeryError) -> ([String], [(String, String)]) {
        guard let text = WholeFile.bytes(corpus) else { throw .vocabulary(stage: "optimize", reason: "\(corpus): cannot read the corpus") }
        guard let s = String(validating: text, as: UTF8.self) else { throw .vocabulary(stage: "optimize", reason: "\(corpus): not valid UTF-8") }
        let tok: HFTokenizer
        do { tok = try HFTokenizer(json: .object(old.root), path: old.source) } catch { throw .vocabulary(stage: "optimize", reason: "\(old.source): \(error)") }
        let n = tokens.count
        var counts = [Int](repeating: 0, count: n)
        // Line by line keeps memory small; the split pattern never joins across a newline's own pre-token.
        for line in s.split(separator: "\n", omittingEmptySubsequences: false) {
            for id in tok.encodeIds(String(line) + "\n") where Int(id) < n { counts[Int(id)] += 1 }
        }
        var index: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { index[t] = i }
        var producer = [(Int, Int)?](repeating: nil, count: n)
        for (a, b) in merges {
            if let ia = index[a], let ib = index[b], let im = index[a + b], producer[im] == nil { producer[im] = (ia, ib) }
        }
        var keepSet = [Bool](repeating: false, count: n)
        var size = 0
        // Single bytes always stay (every text stays encodable).
        for i in 0..<n where producer[i] == nil && tokens[i].unicodeScalars.count == 1 { keepSet[i] = true; size += 1 }
        func closure(_ i: Int, into l: inout [Int]) {
            if keepSet[i] || l.contains(i) { return }
            if let (a, b) = producer[i] { closure(a, into: &l); closure(b, into: &l) }
            l.append(i)
        }
        let order = (0..<n).sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        for i in order where counts[i] > 0 && size < keep {
            if keepSet[i] { continue }
            if producer[i] == nil && tokens[i].unicodeScalars.count > 1 { continue }  // unreachable in the old model
            var l: [Int] = []
            closure(i, into: &l)
            if size + l.count > keep { continue }
            for j in l { keepSet[j] = true }
            size += l.count
        }
        let keptTokens = (0..<n).filter { keepSet[$0] }.map { tokens[$0] }
        let keptSet = Set(keptTokens)
        let keptMerges = merges.filter { keptSet.contains($0.0) && keptSet.contains($0.1) && keptSet.contains($0.0 + $0.1) }
        return (keptTokens, keptMerges)
    }

    // MARK: SentencePiece extend

    static func extendSentencePiece(old: HFFiles, new: HFFiles, options: Options) throws(SurgeryError) -> Result {
        guard var m = old.spm else {
            throw .vocabulary(stage: "extend", reason: "\(old.source): extend needs a byte-level tokenizer.json or a SentencePiece tokenizer.model as the old tokenizer")
        }
        guard m.modelType == .bpe else { throw .vocabulary(stage: "extend", reason: "\(old.source): the old SentencePiece model must be BPE") }
        var (pieces, _) = try newPieces(new)
        if let a = options.add { pieces = Array(pieces.prefix(a)) }
        // Every new piece is ranked by its new order above every old-only piece: the pieces the old
        // vocabulary already has are re-scored in place (ids unchanged), the others appended.
        var index: [String: Int] = [:]
        for (i, p) in m.pieces.enumerated() where index[p.piece] == nil { index[p.piece] = i }
        let top = m.pieces.map(\.score).max() ?? 0
        let oldSize = m.pieces.count
        var add: [String] = []
        var rescored = 0
        for (k, p) in pieces.enumerated() {
            let score = top + Float(pieces.count - k)
            if let i = index[p] {
                if m.pieces[i].type == .normal { m.pieces[i].score = score; rescored += 1 }
                continue
            }
            index[p] = m.pieces.count
            m.pieces.append(SentencePieceModel.Piece(piece: p, score: score, type: .normal))
            add.append(p)
        }
        var root = SentencePieceConversion.tokenizerJSON(m)
        // Keep the old tokenizer.json's pipeline choices (normaliser etc.) when it had one.
        if old.root["model"]?["type"]?.string == "BPE" {
            for k in ["normalizer", "pre_tokenizer", "post_processor", "decoder"] { if let v = old.root[k] { root[k] = v } }
        }
        var (cfg, map) = SentencePieceConversion.configs(m)
        if !old.config.isEmpty {
            var c = old.config
            c["added_tokens_decoder"] = cfg["added_tokens_decoder"]
            cfg = c
            map = old.specialMap.isEmpty ? map : old.specialMap
        }
        let notes = [
            "\(add.count) new pieces appended after \(oldSize); \(add.count + rescored) new pieces scored above the old maximum \(top) in their new order (\(rescored) of them already old pieces), so the new merges come first"
        ]
        let files = [("tokenizer.json", bytes(root)), ("tokenizer_config.json", bytes(cfg)), ("special_tokens_map.json", bytes(map)), ("tokenizer.model", m.serialized())]
        return Result(files: files, vocabularySize: m.pieces.count, oldSize: oldSize, appended: add.count, kept: nil, notes: notes)
    }

    // MARK: Replace

    static func replace(old: HFFiles, new: HFFiles) throws(SurgeryError) -> Result {
        var root = new.root
        var added = new.added
        let newSize: Int
        if new.isBPE { newSize = new.model["vocab"]?.object?.count ?? 0 } else { newSize = new.model["vocab"]?.array?.count ?? 0 }
        var next = max(newSize, (new.addedIds.max() ?? -1) + 1)
        let have = Set(added.compactMap { $0["content"]?.string } + (new.isBPE ? (new.model["vocab"]?.object?.keys ?? []) : []))
        var cfg = new.config
        var decoder = new.config["added_tokens_decoder"]?.object ?? JSONObject()
        var appended = 0
        let oldAdded = old.added.sorted { ($0["id"]?.number?.int64 ?? 0) < ($1["id"]?.number?.int64 ?? 0) }
        for a in oldAdded where a["special"]?.bool ?? false {
            guard let c = a["content"]?.string, !have.contains(c), var o = a.object else { continue }
            o["id"] = .number(JSONNumber(next))
            added.append(.object(o))
            var d = o
            d["id"] = nil
            decoder[String(next)] = .object(d)
            next += 1
            appended += 1
        }
        root["added_tokens"] = .array(added)
        if appended > 0 { cfg["added_tokens_decoder"] = .object(decoder) }
        var files = [("tokenizer.json", bytes(root)), ("tokenizer_config.json", bytes(cfg)), ("special_tokens_map.json", bytes(new.specialMap))]
        var notes: [String] = []
        if let m = new.spm {
            if appended == 0 { files.append(("tokenizer.model", m.serialized())) } else { notes.append("tokenizer.model left out: the appended special tokens are only in tokenizer.json") }
        }
        if appended > 0 { notes.append("\(appended) special tokens of the old tokenizer appended at ids \(next - appended)..<\(next)") }
        return Result(files: files, vocabularySize: next, oldSize: oldSizeOf(old), appended: appended, kept: nil, notes: notes)
    }

    static func oldSizeOf(_ f: HFFiles) -> Int {
        let v = f.isBPE ? (f.model["vocab"]?.object?.count ?? 0) : (f.model["vocab"]?.array?.count ?? 0)
        return max(v, (f.addedIds.max() ?? -1) + 1)
    }

    // MARK: JSON helpers

    static func bytes(_ o: JSONObject) -> [UInt8] { Array((JSONWriter.pretty(.object(o)) + "\n").utf8) }

    /// TemplateProcessing `special_tokens.*.ids` remapped by token string (recursing into Sequence).
    static func remapTemplateIds(_ v: JSONValue, _ byContent: [String: Int]) -> JSONValue {
        guard var o = v.object else { return v }
        if let procs = o["processors"]?.array { o["processors"] = .array(procs.map { remapTemplateIds($0, byContent) }) }
        if let st = o["special_tokens"]?.object {
            var n = JSONObject()
            for (k, e) in st.members {
                guard var eo = e.object else { n[k] = e; continue }
                if let toks = eo["tokens"]?.array?.compactMap({ $0.string }), toks.allSatisfy({ byContent[$0] != nil }) {
                    eo["ids"] = .array(toks.map { .number(JSONNumber(byContent[$0]!)) })
                }
                n[k] = .object(eo)
            }
            o["special_tokens"] = .object(n)
        }
        return .object(o)
    }

    /// tokenizer_config `added_tokens_decoder` with ids remapped (entries without a new id dropped).
    static func remapDecoder(_ v: JSONValue?, _ idMap: [Int: Int]) -> JSONValue? {
        guard let o = v?.object else { return v }
        var entries: [(Int, JSONValue)] = []
        for (k, e) in o.members { if let id = Int(k), let n = idMap[id] { entries.append((n, e)) } }
        return .object(JSONObject(entries.sorted { $0.0 < $1.0 }.map { (String($0.0), $0.1) }))
    }
}

extension String {
    /// Replaces every occurrence of the scalar `a` by `b` (scalar-wise: `▁` before a combining mark
    /// is part of one Character).
    func replacingOccurrences(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> String {
        var v = String.UnicodeScalarView()
        for u in unicodeScalars { v.append(u == a ? b : u) }
        return String(v)
    }
}
