/// Finds added tokens in text as HF `AddedVocabulary` does: leftmost-longest matches, `single_word`
/// filtering, then `lstrip` / `rstrip` swallowing whitespace around the match.
struct AddedTokenMatcher: Sendable {
    /// (pattern bytes, id, token) for every token; the prefix map gives -1 for proper prefixes.
    private var prefixes = ByteMap()
    private var tokens: [AddedToken] = []
    private var firstByte = [Bool](repeating: false, count: 256)
    var isEmpty: Bool { tokens.isEmpty }

    /// `patterns[i]` is what `tokens[i]` matches (its content, normalised when the token is).
    init(_ list: [(pattern: String, token: AddedToken)]) {
        for (pattern, t) in list {
            let b = Array(pattern.utf8)
            if b.isEmpty { continue }
            for k in 1..<b.count where prefixes.get(Array(b[0..<k])) == nil { prefixes.set(Array(b[0..<k]), -1) }
            prefixes.set(b, Int32(tokens.count))
            tokens.append(t)
            firstByte[Int(b[0])] = true
        }
    }

    enum Segment { case text(Range<Int>), token(Int) }

    /// Splits `p` into text ranges and matched token ids.
    func split(_ p: UnsafeBufferPointer<UInt8>) -> [Segment] {
        var out: [Segment] = []
        if tokens.isEmpty { if p.count > 0 { out.append(.text(0..<p.count)) }; return out }
        var textStart = 0
        var i = 0
        let n = p.count
        while i < n {
            guard firstByte[Int(p[i])] else { i += 1; continue }
            if p[i] & 0xC0 == 0x80 { i += 1; continue }  // not a scalar boundary
            var best = -1, bestEnd = -1
            var e = i
            while e < n {
                e += 1
                guard let v = prefixes.get(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[i..<e]))) else { break }
                if v >= 0 { best = Int(v); bestEnd = e }
            }
            if best < 0 { i += 1; continue }
            let t = tokens[best]
            var start = i, stop = bestEnd
            if t.singleWord {
                let before = i == 0 || !isWordChar(lastScalar(p, before: i))
                let after = bestEnd == n || !isWordChar(decodeScalar(p, bestEnd).0)
                if !(before && after) { i = bestEnd; continue }
            }
            if t.lstrip {
                while start > textStart {
                    let (v, len) = lastScalarWithLength(p, before: start)
                    guard CharClass.of(v) & CharClass.space != 0 else { break }
                    start -= len
                }
            }
            if t.rstrip {
                while stop < n {
                    let (v, len) = decodeScalar(p, stop)
                    guard CharClass.of(v) & CharClass.space != 0 else { break }
                    stop += len
                }
            }
            if start > textStart { out.append(.text(textStart..<start)) }
            out.append(.token(t.id))
            textStart = stop
            i = stop
        }
        if textStart < n { out.append(.text(textStart..<n)) }
        return out
    }

    private func lastScalar(_ p: UnsafeBufferPointer<UInt8>, before i: Int) -> UInt32 { lastScalarWithLength(p, before: i).0 }

    private func lastScalarWithLength(_ p: UnsafeBufferPointer<UInt8>, before i: Int) -> (UInt32, Int) {
        var j = i - 1
        while j > 0 && p[j] & 0xC0 == 0x80 { j -= 1 }
        return (decodeScalar(p, j).0, i - j)
    }

    private func isWordChar(_ v: UInt32) -> Bool {
        v == 0x5F || CharClass.of(v) & (CharClass.letter | CharClass.number) != 0
    }
}
