/// HF `tokenizers` Unigram model (`"type": "Unigram"`): Viterbi over the pieces' log-probabilities.
///
/// Mirrors `tokenizers::models::unigram::Unigram::encode_optimized`: an unknown character scores
/// `min_score - 10`, consecutive unknowns fuse, and with `byte_fallback` an unknown piece becomes its
/// `<0xNN>` byte tokens.
struct UnigramModel: Sendable {
    var pieces: [(String, Double)]
    var tokenToId: StringIds
    /// Piece bytes → id, plus every proper prefix of a piece → -1 (to stop the scan early).
    var prefixes: ByteMap
    var scores: [Double]
    var unkId: Int
    var byteFallback: Bool
    var unkScore: Double
    var byteTokenIds: [Int32]

    init(pieces: [(String, Double)], unkId: Int?, byteFallback: Bool) throws(TokenizerError) {
        guard let unkId else { throw .invalidField(path: "tokenizer.json", key: "model.unk_id", expected: "an id (lep needs an unknown piece for Unigram)") }
        guard unkId >= 0 && unkId < pieces.count else { throw .invalidField(path: "tokenizer.json", key: "model.unk_id", expected: "an id below \(pieces.count)") }
        var t2i = StringIds(capacity: pieces.count)
        var pm = ByteMap(capacity: pieces.count * 3)
        var minScore = Double.infinity
        for (i, (s, score)) in pieces.enumerated() {
            t2i[s] = i  // a later duplicate wins, as in HF's token_to_ids
            minScore = min(minScore, score)
            let b = Array(s.utf8)
            if b.isEmpty { continue }
            for k in 1..<b.count where pm.get(Array(b[0..<k])) == nil { pm.set(Array(b[0..<k]), -1) }
            pm.set(b, Int32(i))
        }
        var byteTok = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = t2i["<0x" + String(b, radix: 16, uppercase: true).leftPadded(2) + ">"] { byteTok[b] = Int32(id) }
        }
        self.pieces = pieces
        self.tokenToId = t2i
        self.prefixes = pm
        self.scores = pieces.map { $0.1 }
        self.unkId = unkId
        self.byteFallback = byteFallback
        self.unkScore = minScore - 10.0
        self.byteTokenIds = byteTok
    }

    /// Appends the ids of `p[range]` (normalised UTF-8) to `out`.
    func encodeWord(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
        let n = range.count
        if n == 0 { return }
        let base = range.lowerBound
        // best[i]: best path ending at byte i (relative): (score, start, id)
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestId = [Int32](repeating: -1, count: n + 1)
        bestStart[0] = 0
        var pos = 0
        while pos < n {
            if bestStart[pos] < 0 && pos != 0 { pos += utf8Length(p[base + pos]); continue }
            let here = bestScore[pos]
            let charLen = min(utf8Length(p[base + pos]), n - pos)
            var hasSingle = false
            var end = pos
            // Walk prefixes char by char; stop when no piece continues.
            while end < n {
                end += min(utf8Length(p[base + end]), n - end)
                guard let v = prefixes.get(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[(base + pos)..<(base + end)]))) else { break }
                if v < 0 { continue }
                let score = here + scores[Int(v)]
                if bestStart[end] < 0 || score > bestScore[end] {
                    bestScore[end] = score; bestStart[end] = pos; bestId[end] = v
                }
                if end - pos == charLen { hasSingle = true }
            }
            if !hasSingle {
                let e = pos + charLen
                let score = here + unkScore
                if bestStart[e] < 0 || score > bestScore[e] {
                    bestScore[e] = score; bestStart[e] = pos; bestId[e] = Int32(unkId)
                }
            }
            pos += charLen
        }
        // Backtrack.
        var spans: [(Int, Int, Int32)] = []
        var e = n
        while e > 0 {
            let s = bestStart[e]
            if s < 0 { break }
            spans.append((s, e, bestId[e]))
            e = s
        }
        spans.reverse()
        // Fuse consecutive unknowns, then byte fallback.
        var i = 0
        while i < spans.count {
            var (s, e, id) = spans[i]
            if Int(id) == unkId {
                while i + 1 < spans.count && Int(spans[i + 1].2) == unkId { e = spans[i + 1].1; i += 1 }
                if byteFallback, (s..<e).allSatisfy({ byteTokenIds[Int(p[base + $0])] >= 0 }) {
                    for j in s..<e { out.append(byteTokenIds[Int(p[base + j])]) }
                } else {
                    out.append(Int32(unkId))
                }
                id = Int32(unkId)
            } else {
                out.append(id)
            }
            _ = id
            i += 1
        }
    }
}
