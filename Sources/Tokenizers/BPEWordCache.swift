import Synchronization

/// The merged ids of words a BPE model has already encoded, keyed by the word's input-domain bytes
/// (HF `tokenizers` keeps the same kind of cache in its BPE model).
///
/// A word's ids depend only on its bytes, so a hit is exactly what merging would give. Natural text
/// repeats its words: most `▁`-words of a Russian paragraph are found here instead of being merged
/// again. Bounded: once ``maxEntries`` words are stored, new words are merged but not kept. Shared by
/// copies of the model and safe to use from several threads (one short lock per lookup).
final class BPEWordCache: Sendable {
    /// Words longer than this (bytes) are not stored (rare, and they would crowd the arena).
    static let maxWordBytes = 64
    /// At most this many words are stored (the default, 65536 words, is a few MB).
    let maxEntries: Int

    init(maxEntries: Int = 1 << 16) { self.maxEntries = maxEntries }

    private struct Entries {
        /// Word bytes → entry number.
        var index = ByteMap(capacity: 4096)
        /// Entry `e`'s ids are `ids[starts[e]..<starts[e + 1]]`.
        var starts: [Int32] = [0]
        var ids: [Int32] = []
    }

    private let entries = Mutex(Entries())

    /// Appends the stored ids of `word` to `out`; false (and `out` unchanged) when it is not stored.
    func append(_ word: UnsafeRawBufferPointer, to out: inout [Int32]) -> Bool {
        if word.count > BPEWordCache.maxWordBytes { return false }
        return entries.withLock { e in
            guard let k = e.index.get(word) else { return false }
            out.append(contentsOf: e.ids[Int(e.starts[Int(k)])..<Int(e.starts[Int(k) + 1])])
            return true
        }
    }

    /// Stores the ids of `word` unless it is too long, already stored or the cache is full.
    func insert(_ word: UnsafeRawBufferPointer, ids: ArraySlice<Int32>) {
        if word.count > BPEWordCache.maxWordBytes { return }
        entries.withLock { e in
            guard e.index.count < maxEntries, e.index.get(word) == nil else { return }
            e.index.set(word, Int32(e.index.count))
            e.ids.append(contentsOf: ids)
            e.starts.append(Int32(e.ids.count))
        }
    }

    /// The number of stored words.
    var count: Int { entries.withLock { $0.index.count } }
}
