import Testing
@testable import Tokenizers
import TestSupport

/// The BPE merge loops, the word cache and the byte-wise normaliser against simple references: the
/// fast paths must give exactly what the plain algorithm gives (the HF vectors check the rest).
@Suite struct BPEMergeTests {
    /// HF's merge order written plainly: merge the lowest-rank pair, leftmost among equals, until none.
    static func referenceMerge(_ syms: [Int32], _ merges: PairMap) -> [Int32] {
        var s = syms
        while true {
            var best: (rank: Int32, at: Int, id: Int32)? = nil
            for i in 0..<max(s.count - 1, 0) {
                if let m = merges.get(s[i], s[i + 1]), best == nil || m.rank < best!.rank { best = (m.rank, i, m.id) }
            }
            guard let b = best else { return s }
            s[b.at] = b.id
            s.remove(at: b.at + 1)
        }
    }

    /// A few symbols (0-5) whose pairs merge into new ids 6..., so merges chain and compete.
    static func randomTable(_ rng: inout Xorshift) -> PairMap {
        var m = PairMap(capacity: 64)
        var next: Int32 = 6
        for rank in 0..<40 {
            let a = Int32(rng.next() % UInt64(next)), b = Int32(rng.next() % UInt64(next))
            if m.get(a, b) == nil { m.insert(a, b, rank: Int32(rank), id: next); next += 1 }
        }
        return m
    }

    @Test func inPlaceAndHeapMergesMatchTheReference() {
        var rng = Xorshift(seed: 0x5EED)
        for trial in 0..<300 {
            var merges = Self.randomTable(&rng)
            let n = [1, 2, 3, 7, 30, 48, 49, 120][trial % 8]
            let syms = (0..<n).map { _ in Int32(rng.next() % 6) }
            let want = Self.referenceMerge(syms, merges)
            if trial % 2 == 1 { merges.compact() }  // the one-word-per-slot form gives the same answers
            var a = syms
            let na = a.withUnsafeMutableBufferPointer { BPEModel.mergeAll($0, merges) }
            var h = syms
            let nh = h.withUnsafeMutableBufferPointer { BPEModel.mergeAllHeap($0, merges) }
            #expect(Array(a.prefix(na)) == want, "mergeAll, trial \(trial), symbols \(syms)")
            #expect(Array(h.prefix(nh)) == want, "mergeAllHeap, trial \(trial), symbols \(syms)")
        }
    }

    @Test func compactMergeTableAnswersAsTheWideOne() {
        var rng = Xorshift(seed: 42)
        var wide = PairMap(capacity: 8)
        for rank in 0..<3000 {
            wide.insert(Int32(rng.next() % 300), Int32(rng.next() % 300), rank: Int32(rank), id: Int32(rng.next() % 0xFFFF))
        }
        var compact = wide
        compact.compact()
        var differ = 0
        for a in Int32(0)..<310 { for b in Int32(0)..<310 where compact.packed(a, b) != wide.packed(a, b) { differ += 1 } }
        #expect(differ == 0)
        #expect(compact.packed(0xFFFF, 1) == PairMap.none && compact.packed(-1, 1) == PairMap.none)
        // An id that does not fit in 16 bits keeps the wide form.
        var big = wide
        big.insert(70_000, 1, rank: 3000, id: 5)
        big.compact()
        #expect(big.get(70_000, 1)?.id == 5 && big.packed(3, 4) == wide.packed(3, 4))
    }

    @Test func wordCacheGivesStoredIdsAndStaysBounded() {
        let cache = BPEWordCache(maxEntries: 2)
        func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
        func lookup(_ s: String) -> [Int32]? {
            var out: [Int32] = [99]
            let hit = bytes(s).withUnsafeBytes { cache.append($0, to: &out) }
            #expect(hit || out == [99], "a miss leaves the output as it was")
            return hit ? Array(out.dropFirst()) : nil
        }
        #expect(lookup("▁мир") == nil)
        bytes("▁мир").withUnsafeBytes { cache.insert($0, ids: [5, 7]) }
        bytes("▁да").withUnsafeBytes { cache.insert($0, ids: [9]) }
        bytes("▁нет").withUnsafeBytes { cache.insert($0, ids: [3]) }  // full: not stored
        let long = String(repeating: "ж", count: 40)  // 80 bytes > maxWordBytes: not stored
        bytes(long).withUnsafeBytes { cache.insert($0, ids: [1]) }
        #expect(lookup("▁мир") == [5, 7] && lookup("▁да") == [9])
        #expect(lookup("▁нет") == nil && lookup(long) == nil && lookup("▁ми") == nil)
        #expect(cache.count == 2)

        // Past its first table size (the table grows), every word still gives its own ids.
        let big = BPEWordCache()
        let words = (0..<5000).map { Array("▁слово\($0)".utf8) }
        for (k, w) in words.enumerated() { w.withUnsafeBytes { big.insert($0, ids: [Int32(k), -Int32(k)]) } }
        var wrong = 0
        for (k, w) in words.enumerated() {
            var out: [Int32] = []
            let hit = w.withUnsafeBytes { big.append($0, to: &out) }
            if !hit || out != [Int32(k), -Int32(k)] { wrong += 1 }
        }
        #expect(wrong == 0 && big.count == 5000)
    }

    @Test func warmCacheGivesTheReferenceIds() throws {
        let tok = try HFTokenizer(path: Fixtures.dir + "/spm_bpe_hf/tokenizer.json", configDirectory: Fixtures.dir + "/spm_bpe_hf")
        let vectors = try Fixtures.vectors("spm_bpe_hf_vectors.json")
        guard case .bpe(let model) = tok.model else { Issue.record("not a BPE model"); return }
        #expect(model.splitsAtMetaspace)
        for pass in 0..<2 {
            for v in vectors {
                #expect(tok.encode(v.text, addSpecialTokens: false) == v.ids, "pass \(pass): \(v.text.debugDescription)")
            }
        }
        #expect(model.cache.count > 20)
    }

    @Test func byteWiseNormalizerMatchesTheStringPath() {
        let pipelines: [Normalizer] = [
            .sequence([.prepend("▁"), .replace(pattern: " ", content: "▁")]),
            .replace(pattern: "аа", content: "б"), .replace(pattern: "", content: "x"), .prepend("")
        ]
        let texts = ["", " ", "a b  c ", "ааа аа", "▁уже", "e\u{301} 🙂 ", "\n\t"]
        for n in pipelines {
            #expect(n.worksOnBytes)
            for t in texts {
                for c in [false, true] {
                    let got = String(decoding: n.apply(bytes: Array(t.utf8), continuation: c), as: UTF8.self)
                    #expect(Array(got.utf8) == Array(n.apply(t, continuation: c).utf8), "\(n) on \(t.debugDescription)")
                }
            }
        }
        #expect(!Normalizer.sequence([.prepend("▁"), .lowercase]).worksOnBytes)
    }
}

/// xorshift64* (deterministic test data).
struct Xorshift {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// One tokenizer (one shared word cache) encoding from several threads at once gives the reference ids.
@Suite struct BPEConcurrencyTests {
    @Test func concurrentEncodingGivesTheReferenceIds() async throws {
        let tok = try HFTokenizer(path: Fixtures.dir + "/spm_bpe_hf/tokenizer.json", configDirectory: Fixtures.dir + "/spm_bpe_hf")
        let vectors = try Fixtures.vectors("spm_bpe_hf_vectors.json").map { ($0.text, $0.ids) }
        let bad = await withTaskGroup(of: [String].self) { group in
            for task in 0..<4 {
                group.addTask {
                    var bad: [String] = []
                    for round in 0..<20 {
                        for k in vectors.indices {
                            let (text, ids) = vectors[(k + task * 7 + round) % vectors.count]
                            if tok.encode(text, addSpecialTokens: false) != ids { bad.append(text) }
                        }
                    }
                    return bad
                }
            }
            var all: [String] = []
            for await b in group { all += b }
            return all
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }
}
