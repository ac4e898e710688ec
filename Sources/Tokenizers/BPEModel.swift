/// HF `tokenizers` BPE model (`"type": "BPE"`), working on bytes.
///
/// Tokens are keyed by the bytes they stand for in the *model's* input domain: for a byte-level
/// tokenizer the vocabulary strings are turned back into raw bytes at load, so pre-tokens are never
/// mapped to the GPT-2 alphabet; otherwise a token is keyed by its UTF-8 (`▁При`).
/// Merging is HF's: repeatedly apply the lowest-rank merge, leftmost first.
struct BPEModel: Sendable {
    /// Token strings as written in tokenizer.json, by id (nil for holes).
    let idToToken: [String?]
    /// Token string → id (as written).
    let tokenToId: StringIds
    /// Input-domain bytes → id.
    let byteVocab: ByteMap
    /// Merge table: (left, right) → (rank, merged id).
    let merges: PairMap
    /// Merges in rank order as token strings (kept for writing).
    let mergeList: [(String, String)]
    let byteLevel: Bool
    let unkId: Int32?
    let unkToken: String?
    let byteFallback: Bool
    let fuseUnk: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    /// Id of each single byte: the byte's alphabet character (byte-level) or `<0xNN>` (byte fallback).
    let singleByteIds: [Int32]
    let byteTokenIds: [Int32]
    /// Id of each character below U+0800 (one or two UTF-8 bytes; -1 when not a token), for models that
    /// look characters up without prefix or suffix (empty otherwise).
    let charIds: [Int32]
    /// The ids of words already encoded (see ``BPEWordCache``): valid because the model's fields are
    /// constants.
    let cache = BPEWordCache()
    /// True when no token holds `▁` (U+2581) after its first character and `▁` is a token, so no merge
    /// can join across a `▁`: a pre-token (a whole line of a SentencePiece-style tokenizer without a
    /// pre-tokenizer) is then merged one `▁`-word at a time with the same result, in linear time, and
    /// each word can come from the cache.
    let splitsAtMetaspace: Bool

    init(
        vocab: [(String, Int)], merges mergeList: [(String, String)], byteLevel: Bool, unkToken: String?,
        byteFallback: Bool, fuseUnk: Bool, ignoreMerges: Bool, continuingSubwordPrefix: String?,
        endOfWordSuffix: String?
    ) throws(TokenizerError) {
        var maxId = -1
        var t2i = StringIds(capacity: vocab.count)
        for (t, i) in vocab {
            guard i >= 0 else { throw .invalidField(path: "tokenizer.json", key: "model.vocab.\(t)", expected: "a non-negative id") }
            if t2i[t] != nil { throw .duplicateToken(t, context: "tokenizer.json model.vocab") }
            t2i[t] = i
            maxId = max(maxId, i)
        }
        var i2t = [String?](repeating: nil, count: maxId + 1)
        for (t, i) in vocab { i2t[i] = t }
        var bv = ByteMap(capacity: vocab.count)
        for (t, i) in vocab {
            if byteLevel {
                if let raw = ByteLevelAlphabet.decode(t) { bv.set(raw, Int32(i)) }
            } else {
                bv.set(Array(t.utf8), Int32(i))
            }
        }
        var pm = PairMap(capacity: mergeList.count)
        var key: [UInt8] = []
        key.reserveCapacity(64)
        let preLen = continuingSubwordPrefix?.utf8.count ?? 0
        for (rank, (a, b)) in mergeList.enumerated() {
            guard let ia = t2i[a] else { throw .mergeMissingToken(merge: "\(a) \(b)", token: a) }
            guard let ib = t2i[b] else { throw .mergeMissingToken(merge: "\(a) \(b)", token: b) }
            // The merged token: a + b (without b's continuing-subword prefix), looked up by bytes.
            key.removeAll(keepingCapacity: true)
            key.append(contentsOf: a.utf8)
            if preLen > 0, let pre = continuingSubwordPrefix, b.utf8.starts(with: pre.utf8) { key.append(contentsOf: b.utf8.dropFirst(preLen)) } else { key.append(contentsOf: b.utf8) }
            guard let im = t2i.map.get(key) else { throw .mergeMissingToken(merge: "\(a) \(b)", token: String(decoding: key, as: UTF8.self)) }
            pm.insert(Int32(ia), Int32(ib), rank: Int32(rank), id: im)
        }
        pm.compact()
        var single = [Int32](repeating: -1, count: 256)
        var byteTok = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if byteLevel, let id = bv.get([UInt8(b)]) { single[b] = id }
            let hex = "<0x" + String(b, radix: 16, uppercase: true).leftPadded(2) + ">"
            if let id = t2i[hex] { byteTok[b] = Int32(id) }
        }
        self.idToToken = i2t
        self.tokenToId = t2i
        self.byteVocab = bv
        self.merges = pm
        self.mergeList = mergeList
        self.byteLevel = byteLevel
        self.unkToken = unkToken
        self.unkId = unkToken.flatMap { t2i[$0] }.map { Int32($0) }
        self.byteFallback = byteFallback
        self.fuseUnk = fuseUnk
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.singleByteIds = single
        self.byteTokenIds = byteTok
        var chars: [Int32] = []
        if !byteLevel && continuingSubwordPrefix == nil && endOfWordSuffix == nil {
            chars = [Int32](repeating: -1, count: 0x800)
            for c in 0..<0x800 {
                if let u = Unicode.Scalar(c), let id = bv.get(Array(String(Character(u)).utf8)) { chars[c] = id }
            }
        }
        self.charIds = chars
        let meta: [UInt8] = [0xE2, 0x96, 0x81]
        self.splitsAtMetaspace =
            !byteLevel && continuingSubwordPrefix == nil && endOfWordSuffix == nil
            && t2i["\u{2581}"] != nil
            && !vocab.contains { t, _ in
                let u = Array(t.utf8)
                guard u.count > 3 else { return false }
                for k in 1...(u.count - 3) where u[k] == meta[0] && u[k + 1] == meta[1] && u[k + 2] == meta[2] { return true }
                return false
            }
        if let u = unkToken, unkId == nil { throw .unknownToken(u, context: "tokenizer.json model.unk_token") }
    }

    /// Appends the ids of one pre-token (`p[range]`, input-domain bytes) to `out`.
    func encodeWord(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
        if range.isEmpty { return }
        if splitsAtMetaspace && !ignoreMerges {
            // Split before every `▁` (E2 96 81) but the first: no merge crosses one (see splitsAtMetaspace),
            // so each `▁`-word is merged (or found in the cache) on its own.
            var start = range.lowerBound
            var i = start + 1
            while i + 2 < range.upperBound {
                if p[i] == 0xE2 && p[i + 1] == 0x96 && p[i + 2] == 0x81 {
                    encodeChunk(p, start..<i, into: &out)
                    start = i
                    i += 3
                } else {
                    i += 1
                }
            }
            encodeChunk(p, start..<range.upperBound, into: &out)
            return
        }
        encodeChunk(p, range, into: &out)
    }

    /// `encodeWord` of one chunk that merges must treat as a whole: its ids depend on its bytes only.
    private func encodeChunk(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
        if range.isEmpty { return }
        let word = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[range]))
        if ignoreMerges, let id = byteVocab.get(word) { out.append(id); return }
        if cache.append(word, to: &out) { return }
        // The symbols are appended to `out` and merged in place there.
        let start = out.count
        appendSymbols(p, range, into: &out)
        let merged = out.withUnsafeMutableBufferPointer { all in
            BPEModel.mergeAll(UnsafeMutableBufferPointer(rebasing: all[start...]), merges)
        }
        out.removeLast(out.count - start - merged)
        cache.insert(word, ids: out[start...])
    }

    /// Appends the initial symbols of `p[range]`: one id per character (per byte when byte-level), its
    /// `<0xNN>` byte tokens when the character is not in the vocabulary and byte fallback is on, else unk.
    private func appendSymbols(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into syms: inout [Int32]) {
        var lastWasUnk = false
        if byteLevel && continuingSubwordPrefix == nil && endOfWordSuffix == nil {
            for i in range {
                let id = singleByteIds[Int(p[i])]
                if id >= 0 { syms.append(id); lastWasUnk = false } else { appendUnk(&syms, &lastWasUnk) }
            }
            return
        }
        var i = range.lowerBound
        var key: [UInt8] = []
        while i < range.upperBound {
            let n = byteLevel ? 1 : utf8Length(p[i])
            if !charIds.isEmpty, n == 1 || (n == 2 && i + 1 < range.upperBound && p[i] >= 0xC2 && p[i + 1] & 0xC0 == 0x80) {
                // One- and two-byte characters (ASCII, Latin, Cyrillic, ...) from a table.
                let scalar = n == 1 ? Int(p[i]) : Int(p[i] & 0x1F) << 6 | Int(p[i + 1] & 0x3F)
                let id = charIds[scalar]
                if id >= 0 { syms.append(id); lastWasUnk = false; i += n; continue }
            }
            let isFirst = i == range.lowerBound, isLast = i + n >= range.upperBound
            key.removeAll(keepingCapacity: true)
            if !isFirst, let pre = continuingSubwordPrefix { key.append(contentsOf: pre.utf8) }
            key.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<min(i + n, range.upperBound)]))
            if isLast, let suf = endOfWordSuffix { key.append(contentsOf: suf.utf8) }
            if let id = byteVocab.get(key) {
                syms.append(id); lastWasUnk = false
            } else if byteFallback, (i..<(i + n)).allSatisfy({ byteTokenIds[Int(p[$0])] >= 0 }) {
                for j in i..<(i + n) { syms.append(byteTokenIds[Int(p[j])]) }
                lastWasUnk = false
            } else {
                appendUnk(&syms, &lastWasUnk)
            }
            i += n
        }
    }

    @inline(__always)
    private func appendUnk(_ syms: inout [Int32], _ lastWasUnk: inout Bool) {
        guard let u = unkId else { return }  // HF drops characters it cannot represent when there is no unk
        if fuseUnk && lastWasUnk { return }
        syms.append(u)
        lastWasUnk = true
    }

    /// Applies merges lowest rank first (leftmost among equals) until none applies; the merged symbols
    /// are left at the front of `syms`, and their number is returned.
    static func mergeAll(_ syms: UnsafeMutableBufferPointer<Int32>, _ merges: PairMap) -> Int {
        var n = syms.count
        if n < 2 { return n }
        if n > 48 { return mergeAllHeap(syms, merges) }
        // pairs[i]: the packed (rank, merged id) of syms[i], syms[i + 1] (PairMap.none when no merge).
        // One rank belongs to one pair, so the smallest packed value is the lowest rank.
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { pairs in
            for i in 0..<(n - 1) { pairs[i] = merges.packed(syms[i], syms[i + 1]) }
            while n > 1 {
                var best = PairMap.none, at = -1
                for i in 0..<(n - 1) where pairs[i] < best { best = pairs[i]; at = i }
                if at < 0 { break }
                syms[at] = Int32(truncatingIfNeeded: best)
                // Remove syms[at + 1] and pairs[at + 1].
                for j in (at + 1)..<(n - 1) { syms[j] = syms[j + 1] }
                if at + 1 < n - 1 { for j in (at + 1)..<(n - 2) { pairs[j] = pairs[j + 1] } }
                n -= 1
                if at + 1 < n { pairs[at] = merges.packed(syms[at], syms[at + 1]) } else { pairs[at] = PairMap.none }
                if at > 0 { pairs[at - 1] = merges.packed(syms[at - 1], syms[at]) }
            }
            return n
        }
    }
}

extension BPEModel {
    /// The same merge order with a priority queue of (rank, position) over a linked list: O(n log n)
    /// for long words. Returns the number of merged symbols, left at the front of `syms`.
    static func mergeAllHeap(_ syms: UnsafeMutableBufferPointer<Int32>, _ merges: PairMap) -> Int {
        let n = syms.count
        var prev = [Int32](repeating: -1, count: n), next = [Int32](repeating: -1, count: n)
        for i in 0..<n { prev[i] = Int32(i - 1); next[i] = i + 1 < n ? Int32(i + 1) : -1 }
        var alive = [Bool](repeating: true, count: n)
        var heap: [UInt64] = []
        heap.reserveCapacity(n)
        func push(_ v: UInt64) {
            heap.append(v)
            var i = heap.count - 1
            while i > 0 { let p = (i - 1) / 2; if heap[p] <= heap[i] { break }; heap.swapAt(p, i); i = p }
        }
        func pop() -> UInt64 {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                let c = heap.count
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < c && heap[l] < heap[m] { m = l }
                    if r < c && heap[r] < heap[m] { m = r }
                    if m == i { break }
                    heap.swapAt(i, m); i = m
                }
            }
            return top
        }
        for i in 0..<(n - 1) {
            if let m = merges.get(syms[i], syms[i + 1]) { push(UInt64(UInt32(bitPattern: m.rank)) << 32 | UInt64(i)) }
        }
        while !heap.isEmpty {
            let top = pop()
            let rank = Int32(truncatingIfNeeded: top >> 32), pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos] else { continue }
            let nx = Int(next[pos])
            guard nx >= 0, let m = merges.get(syms[pos], syms[nx]), m.rank == rank else { continue }
            syms[pos] = m.id
            alive[nx] = false
            let nn = next[nx]
            next[pos] = nn
            if nn >= 0 { prev[Int(nn)] = Int32(pos) }
            let pv = Int(prev[pos])
            if pv >= 0, let m2 = merges.get(syms[pv], syms[pos]) { push(UInt64(UInt32(bitPattern: m2.rank)) << 32 | UInt64(pv)) }
            if nn >= 0, let m3 = merges.get(syms[pos], syms[Int(nn)]) { push(UInt64(UInt32(bitPattern: m3.rank)) << 32 | UInt64(pos)) }
        }
        // Compact the survivors to the front, in order (position i < its successor, so in place is safe).
        var count = 0
        var i = 0
        while i >= 0 && i < n { syms[count] = syms[i]; count += 1; i = Int(next[i]) }
        return count
    }
}

extension String {
    func leftPadded(_ n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}
