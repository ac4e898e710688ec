import LEPJSON

/// tokenizer.json `decoder` stage: turns token strings back into text (HF `decode_chain`).
indirect enum Decoder: Sendable, Equatable {
    case sequence([Decoder])
    case byteLevel
    case metaspace(replacement: String, prependScheme: PrependScheme)
    case byteFallback
    case fuse
    case strip(content: String, start: Int, stop: Int)
    case replace(pattern: String, content: String)

    static func parse(_ v: JSONValue, path: String) throws(TokenizerError) -> Decoder? {
        if v.isNull { return nil }
        guard let type = v["type"]?.string else { throw .invalidField(path: path, key: "decoder.type", expected: "a string") }
        switch type {
        case "Sequence":
            guard let list = v["decoders"]?.array else { throw .invalidField(path: path, key: "decoder.decoders", expected: "an array") }
            var out: [Decoder] = []
            for n in list { if let x = try parse(n, path: path) { out.append(x) } }
            return .sequence(out)
        case "ByteLevel": return .byteLevel
        case "Metaspace":
            var scheme = PrependScheme.always
            if let s = v["prepend_scheme"]?.string, let p = PrependScheme(rawValue: s) { scheme = p } else if let a = v["add_prefix_space"]?.bool { scheme = a ? .always : .never }
            return .metaspace(replacement: v["replacement"]?.string ?? "▁", prependScheme: scheme)
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            return .strip(content: v["content"]?.string ?? " ", start: Int(v["start"]?.number?.int64 ?? 0), stop: Int(v["stop"]?.number?.int64 ?? 0))
        case "Replace":
            guard let p = v["pattern"]?["String"]?.string else { throw .unsupportedComponent(stage: "decoder", type: "Replace with a Regex pattern") }
            return .replace(pattern: p, content: v["content"]?.string ?? "")
        default: throw .unsupportedComponent(stage: "decoder", type: type)
        }
    }

    func json() -> JSONValue {
        func o(_ p: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(p)) }
        switch self {
        case .sequence(let l): return o([("type", .string("Sequence")), ("decoders", .array(l.map { $0.json() }))])
        case .byteLevel: return o([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])
        case .metaspace(let r, let p): return o([("type", .string("Metaspace")), ("replacement", .string(r)), ("prepend_scheme", .string(p.rawValue)), ("split", .bool(true))])
        case .byteFallback: return o([("type", .string("ByteFallback"))])
        case .fuse: return o([("type", .string("Fuse"))])
        case .strip(let c, let a, let b): return o([("type", .string("Strip")), ("content", .string(c)), ("start", .number(JSONNumber(a))), ("stop", .number(JSONNumber(b)))])
        case .replace(let p, let c): return o([("type", .string("Replace")), ("pattern", o([("String", .string(p))])), ("content", .string(c))])
        }
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .sequence(let l):
            var t = tokens
            for d in l { t = d.decodeChain(t) }
            return t
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens {
                for u in t.unicodeScalars {
                    if u.value < 324, ByteLevelAlphabet.scalarToByte[Int(u.value)] >= 0 {
                        bytes.append(UInt8(ByteLevelAlphabet.scalarToByte[Int(u.value)]))
                    } else {
                        bytes.append(contentsOf: String(u).utf8)
                    }
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let rep, let scheme):
            return tokens.enumerated().map { i, t in
                var s = t.replacingAll(rep, with: " ")
                if i == 0 && scheme != .never && s.utf8.first == 0x20 { s = String(decoding: s.utf8.dropFirst(), as: UTF8.self) }
                return s
            }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                if pending.isEmpty { return }
                if let s = String(validating: pending, as: UTF8.self) { out.append(s) } else { out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count)) }
                pending.removeAll()
            }
            for t in tokens {
                if let b = parseByteToken(t) { pending.append(b) } else { flush(); out.append(t) }
            }
            flush()
            return out
        case .fuse: return [tokens.joined()]
        case .strip(let content, let start, let stop):
            guard let c = content.unicodeScalars.first else { return tokens }
            return tokens.map { t in
                let chars = Array(t.unicodeScalars)
                var a = 0
                while a < start && a < chars.count && chars[a] == c { a += 1 }
                var b = 0
                while b < stop && b < chars.count - a && chars[chars.count - 1 - b] == c { b += 1 }
                var v = String.UnicodeScalarView()
                v.append(contentsOf: chars[a..<(chars.count - b)])
                return String(v)
            }
        case .replace(let p, let c): return tokens.map { $0.replacingAll(p, with: c) }
        }
    }
}

/// The byte of a SentencePiece byte token `<0xNN>`, nil for other tokens.
package func parseByteToken(_ t: String) -> UInt8? {
    let u = Array(t.utf8)
    guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
    guard let h = hex(u[3]), let l = hex(u[4]) else { return nil }
    return h << 4 | l
}

/// tokenizer.json `post_processor` (single-sequence template only: lep encodes one text at a time).
struct PostProcessor: Sendable, Equatable {
    enum Item: Sendable, Equatable { case special(String, [Int]), sequence }
    /// Template for one sequence, e.g. `[special(<s>), sequence]`.
    var single: [Item]
    /// The JSON as read (written back unchanged).
    var json: JSONValue

    static func parse(_ v: JSONValue, path: String) throws(TokenizerError) -> PostProcessor? {
        if v.isNull { return nil }
        guard let items = try parseItems(v, path: path) else { return nil }
        return PostProcessor(single: items, json: v)
    }

    private static func parseItems(_ v: JSONValue, path: String) throws(TokenizerError) -> [Item]? {
        guard let type = v["type"]?.string else { throw .invalidField(path: path, key: "post_processor.type", expected: "a string") }
        switch type {
        case "ByteLevel": return nil
        case "Sequence":
            var found: [Item]? = nil
            for p in v["processors"]?.array ?? [] {
                if let t = try parseItems(p, path: path) {
                    if found != nil { throw .unsupportedComponent(stage: "post_processor", type: "Sequence with two templates") }
                    found = t
                }
            }
            return found
        case "TemplateProcessing":
            guard let single = v["single"]?.array else { throw .invalidField(path: path, key: "post_processor.single", expected: "an array") }
            var out: [Item] = []
            for piece in single {
                if let s = piece["SpecialToken"]?["id"]?.string {
                    guard let spec = v["special_tokens"]?[s], let ids = spec["ids"]?.array else {
                        throw .unknownToken(s, context: "\(path) post_processor.special_tokens")
                    }
                    var list: [Int] = []
                    for i in ids { guard let n = i.number?.int64 else { throw .invalidField(path: path, key: "post_processor.special_tokens.\(s).ids", expected: "integers") }; list.append(Int(n)) }
                    out.append(.special(s, list))
                } else if piece["Sequence"] != nil {
                    out.append(.sequence)
                } else {
                    throw .invalidField(path: path, key: "post_processor.single", expected: "SpecialToken or Sequence items")
                }
            }
            return out
        default: throw .unsupportedComponent(stage: "post_processor", type: type)
        }
    }

    /// A template with optional BOS / EOS (what transformers builds for LlamaTokenizerFast).
    static func bosEos(bos: (Int, String)?, eos: (Int, String)?) -> PostProcessor {
        var single: [Item] = []
        var pair: [JSONValue] = []
        var specials: [(String, JSONValue)] = []
        func st(_ s: String, _ type: Int) -> JSONValue { .object(JSONObject([("SpecialToken", .object(JSONObject([("id", .string(s)), ("type_id", .number(JSONNumber(type)))])))])) }
        func sq(_ s: String, _ type: Int) -> JSONValue { .object(JSONObject([("Sequence", .object(JSONObject([("id", .string(s)), ("type_id", .number(JSONNumber(type)))])))])) }
        var singleJ: [JSONValue] = []
        if let b = bos { single.append(.special(b.1, [b.0])); singleJ.append(st(b.1, 0)); pair.append(st(b.1, 0)) }
        single.append(.sequence); singleJ.append(sq("A", 0)); pair.append(sq("A", 0))
        if let e = eos { single.append(.special(e.1, [e.0])); singleJ.append(st(e.1, 0)); pair.append(st(e.1, 0)) }
        if let b = bos { pair.append(st(b.1, 1)) }
        pair.append(sq("B", 1))
        if let e = eos { pair.append(st(e.1, 1)) }
        for (id, s) in [bos, eos].compactMap({ $0 }) where !specials.contains(where: { $0.0 == s }) {
            specials.append((s, .object(JSONObject([("id", .string(s)), ("ids", .array([.number(JSONNumber(id))])), ("tokens", .array([.string(s)]))]))))
        }
        let json = JSONValue.object(JSONObject([("type", .string("TemplateProcessing")), ("single", .array(singleJ)), ("pair", .array(pair)), ("special_tokens", .object(JSONObject(specials)))]))
        return PostProcessor(single: single, json: json)
    }
}
