import Synchronization

/// The merged ids of words a BPE model has already encoded, keyed by the word's input-domain bytes
/// (HF `tokenizers` keeps the same kind of cache in its BPE model).
///
/// A word's ids depend only on its bytes, so a hit is exactly what merging would give. Natural text
/// repeats its words: most `▁`-words of a Russian paragraph are found here instead of being merged
/// again. Bounded: once ``maxEntries`` words are stored, new words are merged but not kept. Shared by
/// copies of the model and safe to use from several threads (one short lock per lookup).
///
/// A lookup touches two places in memory: the slot (which holds part of the hash, so most slots of
/// other words are passed over without reading them) and the word's entry, where the key bytes and
/// the ids lie together.
final class BPEWordCache: Sendable {
    /// Words longer than this (bytes) are not stored (rare, and they would crowd the arena).
    static let maxWordBytes = 64
    /// At most this many words are stored (the default, 65536 words, is a few MB).
    let maxEntries: Int

    init(maxEntries: Int = 1 << 16) { self.maxEntries = maxEntries }

    private struct Entries {
        /// Open addressing: 0 is a free slot, else `(hash >> 32) << 32 | (entry offset + 1)`.
        var slots = [UInt64](repeating: 0, count: 1 << 12)
        /// Entries one after another, in 32-bit words: `key bytes << 16 | id count`, the key bytes
        /// (padded to a whole word), then the ids.
        var arena: [UInt32] = []
        var count = 0

        /// The offset of the entry of `word` (hash `h`), or nil.
        func find(_ word: UnsafeRawBufferPointer, _ h: UInt64) -> Int? {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: h) & mask
            return arena.withUnsafeBytes { a in
                while true {
                    let s = slots[i]
                    if s == 0 { return nil }
                    if s >> 32 == h >> 32 {
                        let e = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
                        let header = a.load(fromByteOffset: 4 * e, as: UInt32.self)
                        if Int(header >> 16) == word.count
                            && (word.isEmpty || memcmpEqual(a.baseAddress! + 4 * (e + 1), word.baseAddress!, word.count))
                        {
                            return e
                        }
                    }
                    i = (i + 1) & mask
                }
            }
        }

        /// Places entry `e` (hash `h`) in a free slot.
        mutating func place(_ e: Int, _ h: UInt64) {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = (h >> 32) << 32 | UInt64(e + 1)
        }

        /// Doubles the slots and places every entry again.
        mutating func grow() {
            slots = [UInt64](repeating: 0, count: slots.count * 2)
            var e = 0
            while e < arena.count {
                let header = arena[e]
                let bytes = Int(header >> 16), ids = Int(header & 0xFFFF)
                let h = arena.withUnsafeBytes { a in ByteMap.hash(UnsafeRawBufferPointer(rebasing: a[(4 * (e + 1))..<(4 * (e + 1) + bytes)])) }
                place(e, h)
                e += 1 + (bytes + 3) / 4 + ids
            }
        }
    }

    private let entries = Mutex(Entries())

    /// Appends the stored ids of `word` to `out`; false (and `out` unchanged) when it is not stored.
    func append(_ word: UnsafeRawBufferPointer, to out: inout [Int32]) -> Bool {
        if word.count > BPEWordCache.maxWordBytes { return false }
        let h = ByteMap.hash(word)
        return entries.withLock { s in
            guard let e = s.find(word, h) else { return false }
            let header = s.arena[e]
            let first = e + 1 + (Int(header >> 16) + 3) / 4
            for k in first..<(first + Int(header & 0xFFFF)) { out.append(Int32(bitPattern: s.arena[k])) }
            return true
        }
    }

    /// Stores the ids of `word` unless it is too long, already stored or the cache is full.
    func insert(_ word: UnsafeRawBufferPointer, ids: ArraySlice<Int32>) {
        if word.count > BPEWordCache.maxWordBytes || ids.count > 0xFFFF { return }
        let h = ByteMap.hash(word)
        entries.withLock { s in
            guard s.count < maxEntries, s.find(word, h) == nil else { return }
            if (s.count + 1) * 2 > s.slots.count { s.grow() }
            let e = s.arena.count
            s.arena.append(UInt32(word.count) << 16 | UInt32(ids.count))
            s.arena.append(contentsOf: repeatElement(0, count: (word.count + 3) / 4))
            s.arena.withUnsafeMutableBytes { a in UnsafeMutableRawBufferPointer(rebasing: a[(4 * (e + 1))...]).copyMemory(from: word) }
            for id in ids { s.arena.append(UInt32(bitPattern: id)) }
            s.place(e, h)
            s.count += 1
        }
    }

    /// The number of stored words.
    var count: Int { entries.withLock { $0.count } }
}
