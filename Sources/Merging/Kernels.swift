import Dispatch
import Synchronization
import Recipes
import Surgery
import TensorMath

/// Element loops shared by the merge methods. Reductions use fixed chunk boundaries and sum the
/// partial results in order, so results do not depend on the thread count.
enum Kernels {
    /// Chunk length of deterministic reductions.
    static let chunk = 1 << 16

    /// Runs `body` on fixed chunks of `0..<count` in parallel.
    static func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
        let chunks = (count + chunk - 1) / chunk
        guard chunks > 1, Parallel.threadCount > 1 else { if count > 0 { body(0..<count) }; return }
        withoutActuallyEscaping(body) { b in
            let box = UncheckedSendable(b)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                box.value(c * chunk..<min(count, (c + 1) * chunk))
            }
        }
    }

    /// Per-chunk results of `body`, in chunk order.
    static func mapChunks<T>(_ count: Int, initial: T, _ body: (Range<Int>) -> T) -> [T] {
        let chunks = max(1, (count + chunk - 1) / chunk)
        var out = [T](repeating: initial, count: chunks)
        out.withUnsafeMutableBufferPointer { p in
            let box = UncheckedSendable(p)
            forEachChunk(count) { r in box.value[r.lowerBound / chunk] = body(r) }
        }
        return out
    }

    /// Σ body(chunk) in Double, deterministic.
    static func sum(_ count: Int, _ body: (Range<Int>) -> Double) -> Double {
        mapChunks(count, initial: 0.0, body).reduce(0, +)
    }

    /// Σ |x|.
    static func l1(_ x: UnsafeMutableBufferPointer<Float>) -> Double {
        sum(x.count) { r in
            var s = 0.0; for i in r { s += Double(abs(x[i])) }; return s
        }
    }

    /// Number of NaN/Inf values.
    static func nonFinite(_ x: UnsafeMutableBufferPointer<Float>) -> Int { FloatScan.nonFiniteCount(UnsafeBufferPointer(x)) }

    // MARK: Randomness

    @inline(__always) static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1) for element `k` of the stream `seed` (counter-based SplitMix64).
    @inline(__always) static func uniform(_ seed: UInt64, _ k: Int) -> Float {
        Float(mix(seed &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15) >> 40) * 0x1p-24
    }

    /// FNV-1a 64 of a string (a stable per-tensor seed; never `hashValue`).
    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The stream of input `i` within a tensor seeded `seed`.
    static func inputSeed(_ seed: UInt64, _ i: Int) -> UInt64 { mix(seed &+ UInt64(i + 1) &* 0xD1B5_4A32_D192_ED03) }

    // MARK: Rank selection on |x|

    @inline(__always) static func key(_ v: Float) -> UInt32 { v.bitPattern & 0x7FFF_FFFF }

    /// The |x| key at ascending rank `r` (ties by index) and the number of elements with a smaller key.
    /// Two radix passes (high, then low 16 bits of the key) with per-thread histograms.
    static func keyAtAscendingRank(_ x: UnsafeMutableBufferPointer<Float>, _ r: Int) -> (key: UInt32, less: Int) {
        let hi = histogram(x, top: nil)
        var acc = 0, hb = 0
        while hb < 65536 { if acc + hi[hb] > r { break }; acc += hi[hb]; hb += 1 }
        let top = UInt32(hb)
        let lo = histogram(x, top: top)
        var lb = 0
        while lb < 65536 { if acc + lo[lb] > r { break }; acc += lo[lb]; lb += 1 }
        return ((top << 16) | UInt32(lb), acc)
    }

    /// A 65536-bin histogram of the keys' high halves (`top` nil), or of the low halves of the keys
    /// whose high half is `top`.
    static func histogram(_ x: UnsafeMutableBufferPointer<Float>, top: UInt32?) -> [Int] {
        let n = x.count
        let parts = min(max(1, Parallel.threadCount), max(1, n / chunk))
        let size = (n + parts - 1) / parts
        let hists = UnsafeMutablePointer<Int>.allocate(capacity: parts * 65536)
        hists.initialize(repeating: 0, count: parts * 65536)
        defer { hists.deallocate() }
        let box = UncheckedSendable(hists), xbox = UncheckedSendable(x.baseAddress)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let h = box.value + p * 65536
            let lo = p * size, hi = min(n, (p + 1) * size)
            guard lo < hi, let xs = xbox.value else { return }
            if let top {
                for i in lo..<hi { let k = xs[i].bitPattern & 0x7FFF_FFFF; if k >> 16 == top { h[Int(k & 0xFFFF)] += 1 } }
            } else {
                for i in lo..<hi { h[Int((xs[i].bitPattern & 0x7FFF_FFFF) >> 16)] += 1 }
            }
        }
        var total = [Int](repeating: 0, count: 65536)
        for p in 0..<parts { let h = hists + p * 65536; for k in 0..<65536 { total[k] += h[k] } }
        return total
    }

    /// Zeroes every element that `torch.sort(|x|, descending:)` (CPU, stable=False, as mergekit calls
    /// it) does not put at a position in `keep`. When no run of equal |x| straddles a bound of `keep`,
    /// the threshold keys found by radix selection decide (linear, parallel); otherwise the elements
    /// equal at a bound are split exactly as torch's introsort leaves them (`TorchSortOrder.select`).
    static func keepSorted(_ x: UnsafeMutableBufferPointer<Float>, positions keep: Range<Int>, descending: Bool) {
        let n = x.count
        if keep.isEmpty { forEachChunk(n) { r in for i in r { x[i] = 0 } }; return }
        if keep.lowerBound <= 0 && keep.upperBound >= n { return }
        let ascending = descending ? max(0, n - keep.upperBound)..<(n - max(0, keep.lowerBound)) : keep
        // A bound c splits equal values when the element at ascending rank c has smaller-ranked equals
        // (or is NaN: torch treats every NaN as equal, the radix keys do not).
        var tied = likelyTied(x)
        for c in [ascending.lowerBound, ascending.upperBound] where !tied && c > 0 && c < n {
            let (k, less) = keyAtAscendingRank(x, c)
            if less < c || k > 0x7F80_0000 { tied = true }
        }
        guard tied, n <= TorchSortOrder.maxCount else { keepRanks(x, ascending); return }
        let buffer = PairPool.shared.take(n)
        defer { PairPool.shared.give(buffer) }
        let pairs = buffer.pointer
        let pbox = UncheckedSendable(pairs)
        forEachChunk(n) { r in for i in r { pbox.value[i] = .init(value: abs(x[i]), index: UInt32(i)) } }
        TorchSortOrder.select(pairs, count: n, boundaries: [keep.lowerBound, keep.upperBound], descending: descending)
        let lo = max(0, keep.lowerBound), hi = min(n, keep.upperBound)
        forEachChunk(lo) { r in for p in r { x[Int(pbox.value[p].index)] = 0 } }
        forEachChunk(n - hi) { r in for p in r { x[Int(pbox.value[hi + p].index)] = 0 } }
    }

    /// Whether a large `x` repeats a key within an evenly spaced sample of 2048 elements. Deltas of
    /// bf16/f16 models take few distinct values, so their bounds nearly always split equal values;
    /// `keepSorted` then runs the selection (exact whether or not they do) without first proving the
    /// tie with two histogram passes. Small tensors (< 2¹⁶ elements) always take the exact test.
    static func likelyTied(_ x: UnsafeMutableBufferPointer<Float>) -> Bool {
        let n = x.count, samples = 2048
        guard n >= 1 << 16 else { return false }
        var keys = (0..<samples).map { key(x[$0 * (n / samples)]) }
        keys.sort()
        for i in 1..<samples where keys[i] == keys[i - 1] { return true }
        return false
    }

    /// Zeroes every element whose ascending rank by |x| is outside `keep`, equal keys ranked by index
    /// (only used where no equal keys straddle a bound of `keep`, so the tie rule does not matter).
    static func keepRanks(_ x: UnsafeMutableBufferPointer<Float>, _ keep: Range<Int>) {
        let n = x.count
        if keep.isEmpty { forEachChunk(n) { r in for i in r { x[i] = 0 } }; return }
        if keep.lowerBound <= 0 && keep.upperBound >= n { return }
        // A bound at either end needs no threshold: key 0 / UInt32.max with everything on the kept side.
        let (kLo, lessLo) = keep.lowerBound <= 0 ? (UInt32(0), 0) : keyAtAscendingRank(x, keep.lowerBound)
        let (kHi, lessHi) = keep.upperBound >= n ? (UInt32.max, 0) : keyAtAscendingRank(x, keep.upperBound - 1)
        // Elements equal to a threshold key get ranks in index order: count them per chunk first.
        let counts = mapChunks(n, initial: (0, 0)) { r in
            var a = 0, b = 0
            for i in r { let k = key(x[i]); if k == kLo { a += 1 }; if k == kHi { b += 1 } }
            return (a, b)
        }
        var prefix: [(Int, Int)] = []
        var a = 0, b = 0
        for c in counts { prefix.append((a, b)); a += c.0; b += c.1 }
        let needLo = keep.lowerBound - lessLo  // equal-to-kLo elements with index-order ≥ this are kept
        let maxHi = keep.upperBound - 1 - lessHi  // equal-to-kHi elements with index-order ≤ this are kept
        forEachChunk(n) { r in
            var (eqLo, eqHi) = prefix[r.lowerBound / chunk]
            for i in r {
                let k = key(x[i])
                var aboveLo = k > kLo
                if k == kLo { aboveLo = eqLo >= needLo; eqLo += 1 }
                var belowHi = k < kHi
                if k == kHi { belowHi = eqHi <= maxHi; eqHi += 1 }
                if !(aboveLo && belowHi) { x[i] = 0 }
            }
        }
    }
}

/// (value, index) buffers for `Kernels.keepSorted`, kept between tensors: a fresh 2 GB buffer per
/// tensor and input costs more in page zeroing than the selection itself. Buffers stay allocated
/// until `drain` (the executor drains after a merge).
final class PairPool: @unchecked Sendable {
    typealias Buffer = (pointer: UnsafeMutablePointer<TorchSortOrder.Pair>, capacity: Int)
    private struct Free: @unchecked Sendable { var list: [Buffer] = [] }
    static let shared = PairPool()
    private let free = Mutex(Free())

    /// A buffer of at least `n` pairs: the smallest free one that fits, else a new one (the largest
    /// free one, too small, is freed first).
    func take(_ n: Int) -> Buffer {
        let found = free.withLock { (f: inout Free) -> Free in
            var out = Free()
            if let i = f.list.indices.filter({ f.list[$0].capacity >= n }).min(by: { f.list[$0].capacity < f.list[$1].capacity }) {
                out.list.append(f.list.remove(at: i))
            } else if let i = f.list.indices.max(by: { f.list[$0].capacity < f.list[$1].capacity }) {
                f.list.remove(at: i).pointer.deallocate()
            }
            return out
        }
        if let b = found.list.first { return b }
        return (UnsafeMutablePointer<TorchSortOrder.Pair>.allocate(capacity: max(n, 1)), max(n, 1))
    }

    /// Returns a buffer to the pool.
    func give(_ b: Buffer) {
        let item = Free(list: [b])
        free.withLock { $0.list += item.list }
    }

    /// Frees every pooled buffer.
    func drain() {
        free.withLock { f in
            for b in f.list { b.pointer.deallocate() }
            f.list.removeAll()
        }
    }
}

/// The base addresses of several float buffers (and a weight per buffer) as C arrays, so element
/// loops index them without Swift array traffic per element.
final class PointerTable {
    let count: Int
    let rows: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    let weights: UnsafeMutablePointer<Float>
    private let empty = UnsafeMutablePointer<Float>.allocate(capacity: 1)  // stands in for empty buffers

    init(_ buffers: [UnsafeMutableBufferPointer<Float>], weights w: [Float] = []) {
        count = buffers.count
        rows = .allocate(capacity: max(1, count))
        weights = .allocate(capacity: max(1, count))
        for (i, b) in buffers.enumerated() {
            rows[i] = b.baseAddress ?? empty
            weights[i] = i < w.count ? w[i] : 1
        }
    }

    deinit {
        rows.deallocate()
        weights.deallocate()
        empty.deallocate()
    }
}
