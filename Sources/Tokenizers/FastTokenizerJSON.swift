import LEPJSON

/// A fast path for the two big values of a BPE tokenizer.json (`model.vocab`, `model.merges`: 99% of
/// LLaMA-3's 7 MB). They are scanned straight from the bytes; the rest of the document, with those two
/// values replaced by `{}` / `[]`, goes through the strict ``JSONParser`` as usual. Anything unexpected
/// returns nil and the caller parses the whole file with ``JSONParser`` (which then reports the error).
enum FastTokenizerJSON {
    struct Result {
        var document: JSONValue
        var vocab: [(String, Int)]
        var merges: [(String, String)]
    }

    static func parse(_ bytes: [UInt8]) -> Result? {
        // One UTF-8 validation for the whole file; strings are then taken as they are.
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        return bytes.withUnsafeBufferPointer { p -> Result? in
            var s = Scanner(p: p)
            guard let (vocabRange, mergesRange) = s.locateModelArrays(), let vr = vocabRange, let mr = mergesRange else { return nil }
            var vocab: [(String, Int)] = []
            var merges: [(String, String)] = []
            var v = Scanner(p: p, i: vr.lowerBound)
            guard v.readVocab(into: &vocab), v.i == vr.upperBound else { return nil }
            var m = Scanner(p: p, i: mr.lowerBound)
            guard m.readMerges(into: &merges), m.i == mr.upperBound else { return nil }
            // The rest of the document, strictly.
            var rest: [UInt8] = []
            rest.reserveCapacity(p.count - vr.count - mr.count + 4)
            let (first, second) = vr.lowerBound < mr.lowerBound ? (vr, mr) : (mr, vr)
            rest.append(contentsOf: p[0..<first.lowerBound])
            rest.append(contentsOf: first == vr ? Array("{}".utf8) : Array("[]".utf8))
            rest.append(contentsOf: p[first.upperBound..<second.lowerBound])
            rest.append(contentsOf: second == vr ? Array("{}".utf8) : Array("[]".utf8))
            rest.append(contentsOf: p[second.upperBound..<p.count])
            guard let doc = try? JSONParser.parse(rest) else { return nil }
            return Result(document: doc, vocab: vocab, merges: merges)
        }
    }

    struct Scanner {
        let p: UnsafeBufferPointer<UInt8>
        var i = 0
        var scratch: [UInt8] = []

        init(p: UnsafeBufferPointer<UInt8>, i: Int = 0) { self.p = p; self.i = i }

        mutating func ws() { while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 } }
        mutating func eat(_ c: UInt8) -> Bool { ws(); if i < p.count && p[i] == c { i += 1; return true }; return false }

        /// Reads a JSON string (after optional whitespace) into `scratch`; false on any irregularity.
        mutating func string() -> Bool {
            ws()
            guard i < p.count, p[i] == 0x22 else { return false }
            i += 1
            scratch.removeAll(keepingCapacity: true)
            while i < p.count {
                let c = p[i]
                if c == 0x22 { i += 1; return true }
                if c < 0x20 { return false }
                if c != 0x5C { scratch.append(c); i += 1; continue }
                guard i + 1 < p.count else { return false }
                let e = p[i + 1]
                i += 2
                switch e {
                case 0x22, 0x5C, 0x2F: scratch.append(e)
                case 0x62: scratch.append(0x08)
                case 0x66: scratch.append(0x0C)
                case 0x6E: scratch.append(0x0A)
                case 0x72: scratch.append(0x0D)
                case 0x74: scratch.append(0x09)
                case 0x75:
                    guard var u = hex4() else { return false }
                    if u >= 0xD800 && u < 0xDC00 {
                        guard i + 1 < p.count, p[i] == 0x5C, p[i + 1] == 0x75 else { return false }
                        i += 2
                        guard let lo = hex4(), lo >= 0xDC00 && lo < 0xE000 else { return false }
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    } else if u >= 0xDC00 && u < 0xE000 {
                        return false
                    }
                    guard let sc = Unicode.Scalar(u) else { return false }
                    scratch.append(contentsOf: String(sc).utf8)
                default: return false
                }
            }
            return false
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= p.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = p[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func integer() -> Int? {
            ws()
            var v = 0, n = 0
            while i < p.count, p[i] >= 0x30 && p[i] <= 0x39, n < 12 { v = v * 10 + Int(p[i] - 0x30); i += 1; n += 1 }
            guard n > 0, i < p.count, !(p[i] == 0x2E || p[i] == 0x65 || p[i] == 0x45 || (p[i] >= 0x30 && p[i] <= 0x39)) else { return nil }
            if n > 1 && p[i - n] == 0x30 { return nil }  // leading zero
            return v
        }

        /// Skips any JSON value (structure only; the strict parse of the rest validates it).
        mutating func skipValue() -> Bool {
            ws()
            guard i < p.count else { return false }
            switch p[i] {
            case 0x22:  // skip a string without decoding it
                i += 1
                while i < p.count {
                    let c = p[i]
                    if c == 0x22 { i += 1; return true }
                    if c == 0x5C { i += 2 } else if c < 0x20 { return false } else { i += 1 }
                }
                return false
            case 0x7B, 0x5B:
                let close: UInt8 = p[i] == 0x7B ? 0x7D : 0x5D
                let isObj = p[i] == 0x7B
                i += 1
                if eat(close) { return true }
                while true {
                    if isObj { guard string(), eat(0x3A) else { return false } }
                    guard skipValue() else { return false }
                    if eat(close) { return true }
                    guard eat(0x2C) else { return false }
                }
            default:
                while i < p.count, !(p[i] == 0x2C || p[i] == 0x7D || p[i] == 0x5D || p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09) { i += 1 }
                return true
            }
        }

        /// Byte ranges of the values of top-level `model.vocab` and `model.merges`.
        mutating func locateModelArrays() -> (Range<Int>?, Range<Int>?)? {
            guard eat(0x7B) else { return nil }
            var vocab: Range<Int>? = nil, merges: Range<Int>? = nil
            if eat(0x7D) { return (nil, nil) }
            while true {
                guard string() else { return nil }
                let key = scratch
                guard eat(0x3A) else { return nil }
                if key == Array("model".utf8) {
                    guard eat(0x7B) else { return nil }
                    if !eat(0x7D) {
                        while true {
                            guard string() else { return nil }
                            let k2 = scratch
                            guard eat(0x3A) else { return nil }
                            ws()
                            let start = i
                            guard skipValue() else { return nil }
                            if k2 == Array("vocab".utf8) { vocab = start..<i } else if k2 == Array("merges".utf8) { merges = start..<i }
                            if eat(0x7D) { break }
                            guard eat(0x2C) else { return nil }
                        }
                    }
                } else {
                    guard skipValue() else { return nil }
                }
                if eat(0x7D) { return (vocab, merges) }
                guard eat(0x2C) else { return nil }
            }
        }

        mutating func readVocab(into out: inout [(String, Int)]) -> Bool {
            guard eat(0x7B) else { return false }
            if eat(0x7D) { return true }
            while true {
                guard string() else { return false }
                let key = String(decoding: scratch, as: UTF8.self)
                guard eat(0x3A), let v = integer() else { return false }
                out.append((key, v))
                if eat(0x7D) { return true }
                guard eat(0x2C) else { return false }
            }
        }

        mutating func readMerges(into out: inout [(String, String)]) -> Bool {
            guard eat(0x5B) else { return false }
            if eat(0x5D) { return true }
            while true {
                ws()
                guard i < p.count else { return false }
                if p[i] == 0x5B {
                    i += 1
                    guard string() else { return false }
                    let a = String(decoding: scratch, as: UTF8.self)
                    guard eat(0x2C), string() else { return false }
                    let b = String(decoding: scratch, as: UTF8.self)
                    guard eat(0x5D) else { return false }
                    out.append((a, b))
                } else {
                    guard string() else { return false }
                    let parts = scratch.split(separator: 0x20, omittingEmptySubsequences: false)
                    guard parts.count == 2 else { return false }
                    out.append((String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self)))
                }
                if eat(0x5D) { return true }
                guard eat(0x2C) else { return false }
            }
        }
    }
}
