import LEPJSON

/// tokenizer.json `normalizer` stage. Works on UTF-8 bytes.
indirect enum Normalizer: Sendable, Equatable {
    case sequence([Normalizer])
    /// Prepends `prepend` to non-empty text (skipped for continuation encoding).
    case prepend(String)
    /// Replaces every occurrence of a literal string.
    case replace(pattern: String, content: String)
    case lowercase
    /// Strips Unicode whitespace.
    case strip(left: Bool, right: Bool)
    /// Unicode normalisation (NFC, NFD, NFKC, NFKD).
    case unicode(UnicodeNormalization.Form)

    static func parse(_ v: JSONValue, path: String) throws(TokenizerError) -> Normalizer? {
        if v.isNull { return nil }
        guard let type = v["type"]?.string else { throw .invalidField(path: path, key: "normalizer.type", expected: "a string") }
        switch type {
        case "Sequence":
            guard let list = v["normalizers"]?.array else { throw .invalidField(path: path, key: "normalizer.normalizers", expected: "an array") }
            var out: [Normalizer] = []
            for n in list { if let x = try parse(n, path: path) { out.append(x) } }
            return .sequence(out)
        case "Prepend":
            guard let s = v["prepend"]?.string else { throw .invalidField(path: path, key: "normalizer.prepend", expected: "a string") }
            return .prepend(s)
        case "Replace":
            guard let pat = v["pattern"]?["String"]?.string else {
                throw .unsupportedComponent(stage: "normalizer", type: "Replace with a Regex pattern")
            }
            guard let c = v["content"]?.string else { throw .invalidField(path: path, key: "normalizer.content", expected: "a string") }
            return .replace(pattern: pat, content: c)
        case "Lowercase": return .lowercase
        case "NFC": return .unicode(.nfc)
        case "NFD": return .unicode(.nfd)
        case "NFKC": return .unicode(.nfkc)
        case "NFKD": return .unicode(.nfkd)
        case "Strip":
            return .strip(left: v["strip_left"]?.bool ?? true, right: v["strip_right"]?.bool ?? true)
        default:
            throw .unsupportedComponent(stage: "normalizer", type: type)
        }
    }

    func json() -> JSONValue {
        switch self {
        case .sequence(let l): return .object(JSONObject([("type", .string("Sequence")), ("normalizers", .array(l.map { $0.json() }))]))
        case .prepend(let s): return .object(JSONObject([("type", .string("Prepend")), ("prepend", .string(s))]))
        case .replace(let p, let c):
            return .object(JSONObject([("type", .string("Replace")), ("pattern", .object(JSONObject([("String", .string(p))]))), ("content", .string(c))]))
        case .lowercase: return .object(JSONObject([("type", .string("Lowercase"))]))
        case .unicode(let form): return .object(JSONObject([("type", .string(form.rawValue))]))
        case .strip(let l, let r):
            return .object(JSONObject([("type", .string("Strip")), ("strip_left", .bool(l)), ("strip_right", .bool(r))]))
        }
    }

    /// Normalises `text`; `continuation` skips `Prepend`.
    func apply(_ text: String, continuation: Bool) -> String {
        switch self {
        case .sequence(let l):
            var t = text
            for n in l { t = n.apply(t, continuation: continuation) }
            return t
        case .prepend(let p): return continuation || text.isEmpty ? text : p + text
        case .replace(let p, let c): return text.replacingAll(p, with: c)
        case .lowercase: return text.lowercased()
        case .unicode(let form): return UnicodeNormalization.apply(form, to: text)
        case .strip(let l, let r):
            var s = Substring(text)
            if l { while let f = s.unicodeScalars.first, f.properties.isWhitespace { s = Substring(s.unicodeScalars.dropFirst()) } }
            if r { while let f = s.unicodeScalars.last, f.properties.isWhitespace { s = Substring(s.unicodeScalars.dropLast()) } }
            return String(s)
        }
    }

    /// True when every stage is `Prepend` or `Replace`: ``apply(bytes:continuation:)`` then gives what
    /// ``apply(_:continuation:)`` gives, without going through `String`.
    var worksOnBytes: Bool {
        switch self {
        case .sequence(let l): return l.allSatisfy { $0.worksOnBytes }
        case .prepend, .replace: return true
        case .lowercase, .strip, .unicode: return false
        }
    }

    /// Normalises UTF-8 bytes; only for pipelines that ``worksOnBytes`` (others are returned unchanged).
    func apply(bytes: [UInt8], continuation: Bool) -> [UInt8] {
        switch self {
        case .sequence(let l):
            var b = bytes
            for n in l { b = n.apply(bytes: b, continuation: continuation) }
            return b
        case .prepend(let p): return continuation || bytes.isEmpty ? bytes : Array(p.utf8) + bytes
        case .replace(let p, let c): return bytes.replacingAll(Array(p.utf8), with: Array(c.utf8)) ?? bytes
        case .lowercase, .strip, .unicode: return bytes
        }
    }

    /// True when the pipeline turns spaces into `▁` (SentencePiece-style vocabularies).
    var replacesSpaceWithMetaspace: Bool {
        switch self {
        case .sequence(let l): return l.contains { $0.replacesSpaceWithMetaspace }
        case .replace(let p, let c): return p == " " && c == "▁"
        default: return false
        }
    }
}

extension String {
    /// Replaces every non-overlapping occurrence of `pattern` (byte-wise, left to right).
    func replacingAll(_ pattern: String, with content: String) -> String {
        guard let out = Array(utf8).replacingAll(Array(pattern.utf8), with: Array(content.utf8)) else { return self }
        return String(decoding: out, as: UTF8.self)
    }
}

extension [UInt8] {
    /// Replaces every non-overlapping occurrence of `pattern`, left to right; nil when there is none.
    func replacingAll(_ pat: [UInt8], with rep: [UInt8]) -> [UInt8]? {
        if pat.isEmpty || count < pat.count { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count + 16)
        var i = 0
        var changed = false
        while i < count {
            if self[i] == pat[0] && i + pat.count <= count && self[i..<(i + pat.count)].elementsEqual(pat) {
                out.append(contentsOf: rep); i += pat.count; changed = true
            } else {
                out.append(self[i]); i += 1
            }
        }
        return changed ? out : nil
    }
}
