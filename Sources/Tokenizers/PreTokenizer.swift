import LEPJSON

/// How a split keeps the delimiters (HF `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable, Equatable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// Metaspace `prepend_scheme`.
enum PrependScheme: String, Sendable, Equatable { case always, first, never }

/// Text split into pieces: byte ranges over one buffer (so pure splits never copy).
struct Pieces {
    var buf: [UInt8]
    var ranges: [Range<Int>]
    /// The first piece starts at offset 0 of the original input (Metaspace `first`).
    var firstAtInputStart: Bool

    /// Rebuilds the buffer with each piece transformed.
    mutating func map(_ f: (Int, ArraySlice<UInt8>) -> [UInt8]) {
        var nb: [UInt8] = []
        nb.reserveCapacity(buf.count + ranges.count * 3)
        var nr: [Range<Int>] = []
        nr.reserveCapacity(ranges.count)
        for (k, r) in ranges.enumerated() {
            let s = nb.count
            nb.append(contentsOf: f(k, buf[r]))
            nr.append(s..<nb.count)
        }
        buf = nb
        ranges = nr
    }

    /// Replaces each piece by the sub-pieces `f` returns (absolute ranges inside the piece).
    mutating func refine(_ f: (UnsafeBufferPointer<UInt8>, Range<Int>, inout [Range<Int>]) -> Void) {
        var nr: [Range<Int>] = []
        nr.reserveCapacity(ranges.count * 2)
        buf.withUnsafeBufferPointer { p in
            for r in ranges { f(p, r, &nr) }
        }
        ranges = nr.filter { !$0.isEmpty }
    }
}

/// Applies a split behaviour to the matches found in `r`.
func splitWith(_ r: Range<Int>, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool, into out: inout [Range<Int>]) {
    // Tile r into (range, isMatch).
    var tiles: [(Range<Int>, Bool)] = []
    var at = r.lowerBound
    for m in matches where !m.isEmpty {
        if m.lowerBound > at { tiles.append((at..<m.lowerBound, false)) }
        tiles.append((m, true))
        at = m.upperBound
    }
    if at < r.upperBound { tiles.append((at..<r.upperBound, false)) }
    if invert { tiles = tiles.map { ($0.0, !$0.1) } }
    switch behavior {
    case .removed: for (t, m) in tiles where !m { out.append(t) }
    case .isolated: for (t, _) in tiles { out.append(t) }
    case .contiguous:
        var prevMatch = false
        for (t, m) in tiles {
            if m && prevMatch, let last = out.popLast() { out.append(last.lowerBound..<t.upperBound) } else { out.append(t) }
            prevMatch = m
        }
    case .mergedWithPrevious:
        var prevWasNonMatch = false
        for (t, m) in tiles {
            if m && prevWasNonMatch, let last = out.popLast() { out.append(last.lowerBound..<t.upperBound) } else { out.append(t) }
            prevWasNonMatch = !m
        }
    case .mergedWithNext:
        var pending: Int? = nil
        for (t, m) in tiles {
            if m {
                if pending == nil {
                    pending = t.lowerBound
                }
                // consecutive matches each start a new piece in HF; keep only the last one pending
                else {
                    out.append(pending!..<t.lowerBound); pending = t.lowerBound
                }
            } else {
                out.append((pending ?? t.lowerBound)..<t.upperBound)
                pending = nil
            }
        }
        if let p = pending { out.append(p..<r.upperBound) }
    }
}

/// tokenizer.json `pre_tokenizer` stage.
indirect enum PreTokenizer: Sendable, Equatable {
    case sequence([PreTokenizer])
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool, trimOffsets: Bool)
    case splitRegex(SplitPattern, behavior: SplitBehavior, invert: Bool)
    case splitString(String, behavior: SplitBehavior, invert: Bool)
    case metaspace(replacement: String, prependScheme: PrependScheme, split: Bool)
    case digits(individual: Bool)
    case whitespaceSplit

    static func parse(_ v: JSONValue, path: String) throws(TokenizerError) -> PreTokenizer? {
        if v.isNull { return nil }
        guard let type = v["type"]?.string else { throw .invalidField(path: path, key: "pre_tokenizer.type", expected: "a string") }
        switch type {
        case "Sequence":
            guard let list = v["pretokenizers"]?.array else { throw .invalidField(path: path, key: "pre_tokenizer.pretokenizers", expected: "an array") }
            var out: [PreTokenizer] = []
            for n in list { if let x = try parse(n, path: path) { out.append(x) } }
            return .sequence(out)
        case "ByteLevel":
            return .byteLevel(
                addPrefixSpace: v["add_prefix_space"]?.bool ?? true, useRegex: v["use_regex"]?.bool ?? true,
                trimOffsets: v["trim_offsets"]?.bool ?? true)
        case "Split":
            let bs = v["behavior"]?.string ?? ""
            guard let b = SplitBehavior(rawValue: bs) else {
                throw .invalidField(path: path, key: "pre_tokenizer.behavior", expected: "one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
            }
            let inv = v["invert"]?.bool ?? false
            if let s = v["pattern"]?["String"]?.string { return .splitString(s, behavior: b, invert: inv) }
            if let r = v["pattern"]?["Regex"]?.string {
                guard let p = SplitPattern(source: r) else { throw .unsupportedComponent(stage: "pre_tokenizer", type: "Split with Regex \(r)") }
                return .splitRegex(p, behavior: b, invert: inv)
            }
            throw .invalidField(path: path, key: "pre_tokenizer.pattern", expected: "{\"String\": ...} or {\"Regex\": ...}")
        case "Metaspace":
            let rep = v["replacement"]?.string ?? "▁"
            var scheme = PrependScheme.always
            if let s = v["prepend_scheme"]?.string {
                guard let p = PrependScheme(rawValue: s) else { throw .invalidField(path: path, key: "pre_tokenizer.prepend_scheme", expected: "always, first or never") }
                scheme = p
            } else if let a = v["add_prefix_space"]?.bool {
                scheme = a ? .always : .never
            }
            return .metaspace(replacement: rep, prependScheme: scheme, split: v["split"]?.bool ?? true)
        case "Digits": return .digits(individual: v["individual_digits"]?.bool ?? false)
        case "WhitespaceSplit": return .whitespaceSplit
        default: throw .unsupportedComponent(stage: "pre_tokenizer", type: type)
        }
    }

    func json() -> JSONValue {
        func o(_ p: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(p)) }
        switch self {
        case .sequence(let l): return o([("type", .string("Sequence")), ("pretokenizers", .array(l.map { $0.json() }))])
        case .byteLevel(let a, let r, let t):
            return o([("type", .string("ByteLevel")), ("add_prefix_space", .bool(a)), ("trim_offsets", .bool(t)), ("use_regex", .bool(r))])
        case .splitRegex(let p, let b, let i):
            return o([("type", .string("Split")), ("pattern", o([("Regex", .string(p.source))])), ("behavior", .string(b.rawValue)), ("invert", .bool(i))])
        case .splitString(let s, let b, let i):
            return o([("type", .string("Split")), ("pattern", o([("String", .string(s))])), ("behavior", .string(b.rawValue)), ("invert", .bool(i))])
        case .metaspace(let r, let p, let s):
            return o([("type", .string("Metaspace")), ("replacement", .string(r)), ("prepend_scheme", .string(p.rawValue)), ("split", .bool(s))])
        case .digits(let i): return o([("type", .string("Digits")), ("individual_digits", .bool(i))])
        case .whitespaceSplit: return o([("type", .string("WhitespaceSplit"))])
        }
    }

    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let l): return l.contains { $0.isByteLevel }
        default: return false
        }
    }

    var metaspace: (replacement: String, scheme: PrependScheme)? {
        switch self {
        case .metaspace(let r, let p, _): return (r, p)
        case .sequence(let l): return l.lazy.compactMap { $0.metaspace }.first
        default: return nil
        }
    }

    /// Applies the stage; `continuation` disables every prefix space.
    func apply(_ x: inout Pieces, continuation: Bool) {
        switch self {
        case .sequence(let l): for p in l { p.apply(&x, continuation: continuation) }
        case .byteLevel(let addPrefix, let useRegex, _):
            if addPrefix && !continuation {
                x.map { _, s in s.first == 0x20 ? Array(s) : [0x20] + s }
            }
            if useRegex {
                x.refine { p, r, out in SplitPattern.gpt2.forEachMatch(p, r) { out.append($0) } }
            }
        case .splitRegex(let pat, let behavior, let invert):
            if behavior == .isolated && !invert {
                x.refine { p, r, out in pat.forEachMatch(p, r) { out.append($0) } }
            } else {
                x.refine { p, r, out in
                    var m: [Range<Int>] = []
                    pat.forEachMatch(p, r) { m.append($0) }
                    splitWith(r, matches: m, behavior: behavior, invert: invert, into: &out)
                }
            }
        case .splitString(let s, let behavior, let invert):
            let pat = Array(s.utf8)
            x.refine { p, r, out in
                var m: [Range<Int>] = []
                if !pat.isEmpty {
                    var i = r.lowerBound
                    while i + pat.count <= r.upperBound {
                        if p[i] == pat[0] && (1..<pat.count).allSatisfy({ p[i + $0] == pat[$0] }) { m.append(i..<(i + pat.count)); i += pat.count } else { i += 1 }
                    }
                }
                splitWith(r, matches: m, behavior: behavior, invert: invert, into: &out)
            }
        case .metaspace(let rep, let scheme, let split):
            let repBytes = Array(rep.utf8)
            let first = x.firstAtInputStart
            x.map { k, s in
                var o: [UInt8] = []
                o.reserveCapacity(s.count + 8)
                for b in s { if b == 0x20 { o.append(contentsOf: repBytes) } else { o.append(b) } }
                let startsWithRep = o.starts(with: repBytes)
                if !continuation && !startsWithRep {
                    if scheme == .always || (scheme == .first && k == 0 && first) { o = repBytes + o }
                }
                return o
            }
            if split {
                x.refine { p, r, out in
                    var m: [Range<Int>] = []
                    var i = r.lowerBound
                    while i + repBytes.count <= r.upperBound {
                        if (0..<repBytes.count).allSatisfy({ p[i + $0] == repBytes[$0] }) { m.append(i..<(i + repBytes.count)); i += repBytes.count } else { i += 1 }
                    }
                    splitWith(r, matches: m, behavior: .mergedWithNext, invert: false, into: &out)
                }
            }
        case .digits(let individual):
            x.refine { p, r, out in
                var m: [Range<Int>] = []
                for i in r where p[i] >= 0x30 && p[i] <= 0x39 { m.append(i..<(i + 1)) }
                splitWith(r, matches: m, behavior: individual ? .isolated : .contiguous, invert: false, into: &out)
            }
        case .whitespaceSplit:
            x.refine { p, r, out in
                var i = r.lowerBound
                while i < r.upperBound {
                    let (v, n) = decodeScalar(p, i)
                    if CharClass.of(v) & CharClass.space != 0 { i += n; continue }
                    let s = i
                    while i < r.upperBound { let (v2, n2) = decodeScalar(p, i); if CharClass.of(v2) & CharClass.space != 0 { break }; i += n2 }
                    out.append(s..<i)
                }
            }
        }
    }
}
